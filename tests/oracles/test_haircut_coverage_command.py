"""manage.py haircut_coverage: one JSON document on stdout, clear errors."""
import io
import json

import pytest
from django.core.management import CommandError, call_command

from core.haircut import calibrated as haircut


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("haircut_coverage", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_json_output(tmp_path):
    for ticker in ("SPY", "TSLA"):
        (tmp_path / f"{ticker}.csv").write_bytes((haircut.PRICES_DIR / f"{ticker}.csv").read_bytes())
    doc = json.loads(run("--prices", str(tmp_path), "--from", "2023-01-01", "--to", "2023-03-31", "--json"))
    assert set(doc) == {"closures", "coverage", "mean_haircut_bps"}
    first = doc["closures"][0]
    assert set(first) == {"ticker", "date", "closure", "haircut_bps", "gap"}
    assert first["ticker"] in {"SPY", "TSLA"} and first["date"] >= "2023-01-01"
    assert 0 < doc["coverage"] <= 1


@pytest.mark.parametrize("args, message", [
    (["--prices", "/nonexistent", "--from", "2020-01-01", "--to", "2021-01-01"], "not a directory"),
    (["--from", "2021-01-01", "--to", "2020-01-01"], "must not be after"),
    (["--from", "2020-13-01", "--to", "2021-01-01"], "YYYY-MM-DD"),
    (["--from", "2020-01-01", "--to", "2021-01-01", "--coverage", "1.5"], "between 0 and 1"),
])
def test_errors(args, message):
    if "--prices" not in args:
        args = ["--prices", str(haircut.PRICES_DIR), *args]
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_empty_dir(tmp_path):
    with pytest.raises(CommandError, match="no <TICKER>.csv"):
        run("--prices", str(tmp_path), "--from", "2020-01-01", "--to", "2021-01-01")
