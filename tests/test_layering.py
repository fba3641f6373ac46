"""Pure modules stay free of Django, and imports point one way: markets <- oracles <- lending <- frontend."""
import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PURE = ["protocol.wadray", "protocol.core", "protocol.amounts", "oracles.clock", "oracles.haircut", "oracles.backtest"]


@pytest.mark.parametrize("module", PURE)
def test_pure_module_does_not_import_django(module):
    if not (ROOT / (module.replace(".", "/") + ".py")).exists():
        pytest.skip(f"{module} not present")
    code = f"import sys, {module}; sys.exit(1 if any(m.split('.')[0] == 'django' for m in sys.modules) else 0)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


ORDER = {"protocol": 0, "markets": 1, "oracles": 2, "lending": 3, "frontend": 4}


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0]


@pytest.mark.parametrize("app", ["protocol", "markets", "oracles", "lending"])
def test_imports_point_one_way(app):
    bad = []
    for path in (ROOT / app).rglob("*.py"):
        for top in _imports(path):
            if top in ORDER and ORDER[top] > ORDER[app]:
                bad.append(f"{path.relative_to(ROOT)} imports {top}")
    assert not bad, bad
