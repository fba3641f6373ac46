"""manage.py haircut_coverage: one JSON document on stdout, k fitted before --from only, clear errors."""
import io
import json

import pytest
from django.core.management import CommandError, call_command

from core.clock import MarketClock
from core.haircut import calibrated as haircut


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("haircut_coverage", *args, stdout=out, stderr=err)
    return out.getvalue()


@pytest.fixture
def prices(tmp_path):
    for ticker in ("SPY", "TSLA"):
        (tmp_path / f"{ticker}.csv").write_bytes((haircut.PRICES_DIR / f"{ticker}.csv").read_bytes())
    return tmp_path


def test_json_output(prices):
    doc = json.loads(run("--prices", str(prices), "--from", "2023-01-01", "--to", "2023-03-31", "--json"))
    assert {"closures", "coverage", "mean_haircut_bps"} <= set(doc)
    assert set(doc) - {"closures", "coverage", "mean_haircut_bps"} == {"per_kind", "per_ticker", "k"}
    for row in doc["closures"]:
        assert set(row) == {"ticker", "date", "closure", "haircut_bps", "gap"}
        assert row["ticker"] in {"SPY", "TSLA"} and "2023-01-01" <= row["date"] <= "2023-03-31"
        assert isinstance(row["haircut_bps"], int) and 0 <= row["haircut_bps"] <= haircut.MAX_BPS
    down = [r for r in doc["closures"] if r["gap"] < 0]
    hit = sum(1 for r in down if r["gap"] >= -r["haircut_bps"] / 10_000)
    assert doc["coverage"] == round(hit / len(down), 6)
    assert set(doc["per_ticker"]) == {"SPY", "TSLA"} and set(doc["per_kind"]) <= set(haircut.KINDS)
    assert sum(r["closures"] for r in doc["per_kind"].values()) == len(doc["closures"])
    assert sum(r["down_gaps"] for r in doc["per_ticker"].values()) == len(down)


def test_k_is_fitted_before_from_and_sigma_never_looks_ahead(prices):
    args = ("--prices", str(prices), "--from", "2020-01-01", "--to", "2020-12-31", "--json")
    before = json.loads(run(*args))
    # rewrite every bar from 2020-06-01 on: k, and the haircuts before that day, must not move
    path = prices / "SPY.csv"
    lines = path.read_text().splitlines()
    flat = [line if line < "2020-06-01" else f"{line[:10]},1,1,1,1,1" for line in lines[1:]]
    path.write_text("\n".join([lines[0], *flat]) + "\n")
    after = json.loads(run(*args))
    assert after["k"] == before["k"]
    early = [(r["ticker"], r["date"], r["haircut_bps"]) for r in before["closures"] if r["date"] < "2020-06-01"]
    assert early == [(r["ticker"], r["date"], r["haircut_bps"]) for r in after["closures"] if r["date"] < "2020-06-01"]
    assert after["closures"] != before["closures"]


def test_an_announced_closure_is_priced_as_a_holiday(prices):
    doc = json.loads(run("--prices", str(prices), "--from", "2018-12-01", "--to", "2018-12-10", "--json"))
    mourning = [r for r in doc["closures"] if r["date"] == "2018-12-06"]
    assert [r["closure"] for r in mourning] == ["unplanned", "unplanned"]  # the calendar's kind (API.md)
    assert "unplanned" not in doc["per_kind"] and doc["per_kind"]["holiday"]["closures"] == 2
    sigma = {c.ticker: c.sigma for c in haircut.load_closures(prices, MarketClock.get("XNYS").gap_kind)
             if str(c.date) == "2018-12-06"}
    for r in mourning:
        assert r["haircut_bps"] == haircut.haircut_bps("calibrated", "holiday", sigma[r["ticker"]], k_table=doc["k"])


@pytest.mark.parametrize("args, message", [
    (["--prices", "/nonexistent", "--from", "2020-01-01", "--to", "2021-01-01"], "not a directory"),
    (["--from", "2021-01-01", "--to", "2020-01-01"], "must not be after"),
    (["--from", "2020-13-01", "--to", "2021-01-01"], "YYYY-MM-DD"),
    (["--from", "2020-01-01", "--to", "2021-01-01", "--coverage", "1.5"], "between 0 and 1"),
    (["--from", "1999-01-01", "--to", "2001-01-01"], "no close-to-open gaps before --from"),
    (["--from", "2030-01-01", "--to", "2031-01-01"], "no close-to-open gaps between"),
])
def test_errors(prices, args, message):
    if "--prices" not in args:
        args = ["--prices", str(prices), *args]
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_empty_dir(tmp_path):
    with pytest.raises(CommandError, match="no <TICKER>.csv"):
        run("--prices", str(tmp_path), "--from", "2020-01-01", "--to", "2021-01-01")


@pytest.mark.parametrize("text, message", [
    ("Day,Price\n2020-01-02,1\n", r"BAD.csv has no Date, Open, Low, Close column"),
    ("Date,Open,High,Low,Volume\n2020-01-02,1,1,1,1\n", r"BAD.csv has no Close column"),
    ("", r"BAD.csv is empty: expected a header Date,Open,High,Low,Close,Volume"),
    ("Date,Open,High,Low,Close,Volume\n", r"BAD.csv has a header but no rows"),
    ("Date,Open,High,Low,Close,Volume\n2020-01-02,1,1,1,1,1\nnot-a-date,1,1,1,1,1\n",
     r"BAD.csv line 3: Date 'not-a-date' is not a date \(YYYY-MM-DD\)"),
    ("Date,Open,High,Low,Close,Volume\n2020-01-02,abc,1,1,1,1\n", r"BAD.csv line 2: Open 'abc' is not a number"),
    ("Date,Open,High,Low,Close,Volume\n2020-01-03,1,1,1,1,1\n2020-01-02,1,1,1,1,1\n",
     r"BAD.csv line 3: 2020-01-02 follows 2020-01-03; dates must increase"),
])
def test_bad_files(prices, text, message):
    (prices / "BAD.csv").write_text(text)
    with pytest.raises(CommandError, match="could not read the price files: " + message):
        run("--prices", str(prices), "--from", "2020-01-01", "--to", "2021-01-01")
