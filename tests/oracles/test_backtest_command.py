"""manage.py backtest: one JSON document on stdout with every policy's figures, clear errors otherwise."""
import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.factories import make_universe, set_reserve

pytestmark = pytest.mark.django_db
POLICIES = ["none", "kamino", "fixed", "calibrated", "pause_when_closed"]


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("backtest", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_json_has_every_policy_with_its_figures():
    make_universe()
    args = ["--asset", "SPYx", "--from", "2020-01-01", "--to", "2020-12-31", "--json"]
    for name in POLICIES:
        args += ["--policy", name]
    doc = json.loads(run(*args))
    assert list(doc["policies"]) == POLICIES
    for figures in doc["policies"].values():
        assert {"bad_debt_usd", "liquidations", "unnecessary_liquidations"} <= set(figures)
        assert isinstance(figures["bad_debt_usd"], str) and isinstance(figures["liquidations"], int)
    assert doc["ticker"] == "SPY" and doc["sessions"] == 253 and doc["least_bad_debt"] in POLICIES
    # the haircut is fitted on closures before --from only
    assert set(doc["k"]) >= {"overnight", "weekend"} and doc["fixed_bps"]["weekend"] > 0
    assert doc["policies"]["kamino"]["ltv_bps"] == 7_300  # Kamino's own SPYx parameters
    assert doc["policies"]["calibrated"]["closed_market_liquidations"] >= \
        doc["policies"]["calibrated"]["unnecessary_liquidations"]


def test_what_if_parameters_and_the_reserves_own():
    make_universe()
    set_reserve("TSLAx", ltv_bps=5_500, liquidation_threshold_bps=6_500)
    base = ["--asset", "TSLAx", "--from", "2020-01-01", "--to", "2020-06-30", "--policy", "none", "--json"]
    own = json.loads(run(*base))
    assert own["parameters"]["ltv_bps"] == 5_500
    what_if = json.loads(run(*base, "--ltv-bps", "8000", "--lt-bps", "8500", "--bonus-bps", "10500"))
    assert what_if["parameters"]["ltv_bps"] == 8_000
    assert what_if["policies"]["none"]["liquidations"] > own["policies"]["none"]["liquidations"]


def test_table_output():
    make_universe()
    out = run("--asset", "SPYx", "--from", "2021-01-01", "--to", "2021-03-31", "--policy", "none")
    assert "bad_debt_usd" in out and "least bad debt at market: policy none" in out


@pytest.mark.parametrize("args, message", [
    (["--asset", "NOPE"], "unknown asset"),
    (["--asset", "SPACEXpre"], "No price history"),
    (["--asset", "SPYx", "--policy", "yolo"], "Unknown policy"),
    (["--asset", "SPYx", "--from", "2021-13-01"], "YYYY-MM-DD"),
    (["--asset", "SPYx", "--from", "2022-01-01", "--to", "2021-01-01"], "after"),
    (["--asset", "SPYx", "--from", "1990-01-01", "--to", "1990-12-31"], "choose dates inside"),
    (["--asset", "SPYx", "--from", "2000-01-03", "--to", "2000-12-31", "--policy", "calibrated"], "history before"),
    (["--asset", "SPYx", "--ltv-bps", "9900"], "cannot exceed the liquidation threshold"),
    (["--asset", "SPYx", "--ltv-bps", "-1"], "between 0"),
])
def test_errors_are_clear(args, message):
    make_universe()
    defaults = {"--from": "2021-01-01", "--to": "2021-12-31", "--policy": "none"}
    for flag, value in defaults.items():
        if flag not in args:
            args = [*args, flag, value]
    with pytest.raises(CommandError, match=message):
        run(*args)


def _prices(tmp_path, text: str):
    """A --prices folder whose SPY.csv (SPYx's underlying) is `text`."""
    (tmp_path / "SPY.csv").write_text(text)
    return str(tmp_path)


HEADER = "Date,Open,High,Low,Close,Volume\n"
GOOD = "2021-01-04,370,372,365,368,1\n2021-01-05,368,371,367,370,1\n"


@pytest.mark.parametrize("text, message", [
    ("Date,Open,High,Low,Volume\n2021-01-04,1,1,1,1\n", r"SPY.csv has no Close column \(its header: "),
    ("", r"SPY.csv is empty: expected a header Date,Open,High,Low,Close,Volume"),
    (HEADER, r"SPY.csv has a header but no rows"),
    (HEADER + GOOD + "Jan 6 2021,1,1,1,1,1\n", r"SPY.csv line 4: Date 'Jan 6 2021' is not a date \(YYYY-MM-DD\)"),
    (HEADER + GOOD + "2021-01-06,1,1,1,abc,1\n", r"SPY.csv line 4: Close 'abc' is not a number"),
    (HEADER + GOOD + "2021-01-04,1,1,1,1,1\n", r"SPY.csv line 4: 2021-01-04 follows 2021-01-05; dates must increase"),
])
def test_a_bad_prices_file_is_a_clear_error(tmp_path, text, message):
    """Anyone's own --prices files: a missing column, an empty file, a row without a date or a number, dates out
    of order each end in a CommandError naming the file and line (non-zero exit), never a traceback."""
    make_universe(seed=False)
    with pytest.raises(CommandError, match=message):
        run("--asset", "SPYx", "--from", "2021-01-01", "--to", "2021-12-31", "--policy", "none",
            "--prices", _prices(tmp_path, text))


def test_prices_folder_missing_or_without_the_ticker(tmp_path):
    make_universe(seed=False)
    args = ["--asset", "SPYx", "--from", "2021-01-01", "--to", "2021-12-31", "--policy", "none"]
    with pytest.raises(CommandError, match="is not a folder"):
        run(*args, "--prices", str(tmp_path / "nope"))
    with pytest.raises(CommandError, match="No SPY.csv in"):
        run(*args, "--prices", str(tmp_path))


def test_own_prices_folder_runs_and_names_the_least_bad_debt_as_a_policy(tmp_path):
    from core.haircut import calibrated as haircut

    make_universe(seed=False)
    for ticker in ("SPY", "TSLA"):
        (tmp_path / f"{ticker}.csv").write_bytes((haircut.PRICES_DIR / f"{ticker}.csv").read_bytes())
    out = run("--asset", "SPYx", "--from", "2021-01-01", "--to", "2021-03-31", "--policy", "none", "--policy",
              "calibrated", "--prices", str(tmp_path))
    assert "least bad debt: none" not in out
    assert "least bad debt at market: policy" in out or "every policy ended with the same bad debt" in out


def test_an_own_market_profile_meets_closures_at_its_token_price_and_a_seed_repeats_it():
    """NVDAxyz (Trade.xyz at 10x: band +/-10%) against NVDAx (xStocks) on the same NVDA bars. NVDAx runs with
    NVDAxyz's reserve parameters, so what is left between the two is the profile's closed-market rule: the token's
    low through each closure (a seeded bridge from the close to the next open, inside the band) decides, under
    `none`, at min(close, token low). A hand-worked case is in tests/core/simulation/test_backtest_profiles.py."""
    from decimal import Decimal

    make_universe(seed=False)
    span = ["--from", "2020-01-01", "--to", "2020-12-31", "--policy", "none", "--policy", "pause_when_closed",
            "--seed", "7", "--json"]
    xyz = json.loads(run("--asset", "NVDAxyz", *span))
    again = json.loads(run("--asset", "NVDAxyz", *span))
    x = json.loads(run("--asset", "NVDAx", *span, "--ltv-bps", "4500", "--lt-bps", "5500", "--bonus-bps", "10750"))
    for doc in (xyz, again, x):
        doc.pop("seconds")
    assert xyz == again  # same seed, same document
    assert xyz["seed"] == 7 and x["seed"] == 7
    assert xyz["profile"]["name"] == "trade_xyz" and xyz["profile"]["own_market"] is True
    assert xyz["profile"]["band_bps"] == 1_000
    assert x["profile"]["name"] == "xstocks" and x["profile"]["own_market"] is False
    apart = ("asset", "profile", "policies", "least_bad_debt")
    assert {k: v for k, v in xyz.items() if k not in apart} == {k: v for k, v in x.items() if k not in apart}

    token = xyz["policies"]["none"]["closed_token"]
    assert token["closures"] == xyz["sessions"] - 1 and token["liquidations"] > 0
    assert token["lowest_vs_close_bps"] >= 9_000  # the banded token never decides below close x (1 - 10%)
    for event in token["events"]:
        close, low = Decimal(event["close_usd"]), Decimal(event["token_low_usd"])
        assert low >= close * Decimal("0.9")
        assert Decimal(event["oracle_usd"]) == min(close, low)  # `none` has no haircut: the reference is the close

    # pausing liquidations while closed never reads the token: exactly NVDAx's figures
    paused = dict(xyz["policies"]["pause_when_closed"])
    assert paused.pop("closed_token")["closures"] == 0
    assert paused == x["policies"]["pause_when_closed"]
    # without the pause, the runs agree up to the first closure the token decided, and differ only from there
    mine, theirs = xyz["policies"]["none"], x["policies"]["none"]
    assert "closed_token" not in theirs and theirs["closed_market_liquidations"] == 0
    assert mine["closed_market_liquidations"] == token["liquidations"]
    first = token["events"][0]["closed_from"]
    assert [row for row in mine["timeline"] if row[0] < first] == [row for row in theirs["timeline"] if row[0] < first]
    assert mine["timeline"] != theirs["timeline"]


def test_an_own_market_run_without_a_seed_draws_one_and_reports_it():
    make_universe(seed=False)
    span = ["--asset", "NVDAss", "--from", "2020-02-01", "--to", "2020-04-30", "--policy", "none", "--json"]
    drawn = json.loads(run(*span))
    assert isinstance(drawn["seed"], int) and drawn["profile"]["name"] == "stablestock"
    again = json.loads(run(*span, "--seed", str(drawn["seed"])))
    drawn.pop("seconds"), again.pop("seconds")
    assert drawn == again
    assert "seed" not in json.loads(run("--asset", "NVDAx", *span[2:]))  # nothing random drawn, nothing to report
