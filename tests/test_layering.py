"""The pure core stays free of Django, and imports point one way:
core <- common <- markets <- oracles <- risklab <- lending <- frontend, with config on top. Imports inside functions
count."""
import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
ORDER = {"core": 0, "common": 1, "markets": 2, "oracles": 3, "risklab": 4, "lending": 5, "frontend": 6,
         "config": 7}
CORE_MODULES = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                      for p in (ROOT / "core").rglob("*.py"))


def test_the_pure_core_never_imports_django():
    assert len(CORE_MODULES) >= 8, CORE_MODULES
    code = (f"import sys; import {', '.join(CORE_MODULES)}; "
            "sys.exit(1 if any(m.split('.')[0] == 'django' for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def _module_name(path: pathlib.Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: pathlib.Path):
    """Absolute module names a file imports, anywhere in it (functions included); relative ones resolved."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield module
            for alias in node.names:  # `from . import services` imports a module
                yield f"{module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name


def _files(app: str):
    return sorted((ROOT / app).rglob("*.py"))


@pytest.mark.parametrize("app", list(ORDER))
def test_imports_point_one_way(app):
    bad = [f"{path.relative_to(ROOT)} imports {name}"
           for path in _files(app) for name in _imports(path)
           if name.split(".")[0] in ORDER and ORDER[name.split(".")[0]] > ORDER[app]]
    assert not bad, bad


def test_only_the_pure_core_talks_to_exchange_calendars():
    bad = [f"{path.relative_to(ROOT)}" for app in ORDER if app != "core" for path in _files(app)
           if any(name.split(".")[0] == "exchange_calendars" for name in _imports(path))]
    assert not bad, bad


def test_no_import_cycles_between_modules():
    """services <-> tasks and the like: within the project, the module graph has no cycle."""
    modules = {_module_name(p): p for app in ORDER for p in _files(app) if "migrations" not in p.parts}
    graph = {m: {n for n in _imports(p) if n in modules and n != m} for m, p in modules.items()}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles
