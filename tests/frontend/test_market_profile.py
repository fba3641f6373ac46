"""The markets table and the asset page show the issuer profile's line and a simulated weekend (core.profiles)."""
import json
import re

import pytest
from django.test import Client

from tests.factories import make_universe

pytestmark = pytest.mark.django_db


def test_asset_page_shows_the_profile_line_and_a_weekend_chart():
    make_universe(haircuts=True)
    page = Client().get("/markets/NVDAxyz/").content.decode()
    assert "Trade.xyz (HIP-3) · " in page and "closed: lower of the book price" in page
    data = json.loads(re.search(r'<script id="weekend-data" type="application/json">(.*?)</script>', page,
                                re.S).group(1))
    assert len(data["t"]) == 73 and [s["label"] for s in data["series"]][:3] == [
        "Reference (USD)", "Token (USD)", "Effective (USD)"]
    assert any(s["label"] == "Band low" for s in data["series"]) and data["closed"]
    robinhood = Client().get("/markets/AMZNrh/").content.decode()
    weekend = json.loads(re.search(r'<script id="weekend-data" type="application/json">(.*?)</script>', robinhood,
                                   re.S).group(1))
    assert None in weekend["series"][1]["values"]  # no token market at weekends: a gap in the line


def test_markets_table_shows_each_profile_line():
    make_universe()
    page = Client().get("/").content.decode()
    assert "Jarsy (pre-IPO, 1:1) · no exchange session (always closed)" in page
    assert "CEX wallet reselling Ondo Global Markets" in page
