"""manage.py haircut_fit: regenerates the shipped haircut JSON files, byte for byte, and refuses bad input."""
import io
import json

import pytest
from django.core.management import CommandError, call_command

from core.clock import MarketClock
from core.haircut import calibrated as haircut

GAP_KIND = MarketClock.get("XNYS").gap_kind


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("haircut_fit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def prices(tmp_path_factory):
    """Two shipped tickers: a quicker fit than all eleven (the full refit is tests/core/haircut)."""
    path = tmp_path_factory.mktemp("prices")
    for ticker in ("SPY", "TSLA"):
        (path / f"{ticker}.csv").write_bytes((haircut.PRICES_DIR / f"{ticker}.csv").read_bytes())
    return path


def test_json_is_the_table_and_out_writes_it_once(prices, tmp_path):
    text, _ = run("--prices", str(prices), "--json")
    assert text == haircut.document_json(haircut.fit_default_table(GAP_KIND, prices), sort_keys=True)
    table = json.loads(text)
    assert set(table["k"]) == {"0.95", "0.99", "0.995"} and set(table["sigma"]) == {"SPY", "TSLA"}
    out = tmp_path / "k.json"
    assert "written" in run("--prices", str(prices), "--out", str(out))[1]
    assert out.read_text() == text
    assert "unchanged" in run("--prices", str(prices), "--out", str(out))[1]


def test_validation(prices):
    text, _ = run("--prices", str(prices), "--validation", "--json")
    doc = json.loads(text)
    assert doc["coverage_target"] == 0.99 and set(doc["models"]) == {"old", "new"}
    assert [(s["fit_before"], s["test_to"]) for s in doc["splits"]] == [("2015-01-01", "2019-12-31"),
                                                                        ("2020-01-01", "2024-12-31")]
    for split in doc["splits"]:
        for model in ("old", "new"):
            assert set(split[model]["per_ticker"]) == {"SPY", "TSLA"}
            assert set(split[model]["per_kind"]) <= set(haircut.KINDS)
    assert text == haircut.document_json(haircut.shipped_validation(GAP_KIND, prices))


def test_errors(tmp_path):
    with pytest.raises(CommandError, match="not a directory"):
        run("--prices", str(tmp_path / "missing"), "--json")
    with pytest.raises(CommandError, match="no <TICKER>.csv"):
        run("--prices", str(tmp_path), "--json")
    (tmp_path / "NEW.csv").write_text("Date,Open,High,Low,Close,Volume\n2024-01-02,1,1,1,1,1\n")
    with pytest.raises(CommandError, match="fewer than 21 usable bars"):
        run("--prices", str(tmp_path), "--json")
    (tmp_path / "NEW.csv").write_text("Day,Price\n2024-01-02,1\n")
    with pytest.raises(CommandError, match=r"could not read the price files: NEW.csv has no Date, Open, Low, Close "
                                           r"column \(its header: Day,Price\)"):
        run("--prices", str(tmp_path), "--json")
