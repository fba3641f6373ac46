"""GET /api/v1/account/outlook/: the HF at the next NYSE close and open under the asset's haircut policy."""
import pytest

from lending import services
from oracles.models import HaircutPolicy
from tests.factories import api_client, fund_and_supply, make_universe, make_user, set_price

pytestmark = pytest.mark.django_db
URL = "/api/v1/account/outlook/"


def test_outlook_for_a_borrower():
    make_universe()
    HaircutPolicy.objects.filter(asset__symbol="TSLAx").update(
        mode="fixed", fixed_bps={k: 1_000 for k in ("overnight", "weekend", "holiday", "holiday_weekend")},
        apply_to_liquidation_threshold=True)
    set_price("TSLAx", "250")
    user = make_user()
    account = services.account_for_user(user)
    fund_and_supply(account, "TSLAx", "10")
    services.account_borrow(account=account, symbol="USDC", amount=1_000 * 10**6)
    body = api_client(user).get(URL).json()
    assert [o["label"] for o in body] in (["next NYSE close", "next NYSE open"], ["next NYSE open", "next NYSE close"])
    close = next(o for o in body if o["label"] == "next NYSE close")
    reopen = next(o for o in body if o["label"] == "next NYSE open")
    assert close["haircut_bps"] == {"TSLAx": 1_000} and reopen["haircut_bps"] == {}
    # 2,500 x 65% (x 90%)
    assert close["health_factor"].startswith("1.462") and reopen["health_factor"].startswith("1.62")
    assert int(close["health_factor_wad"]) < int(reopen["health_factor_wad"])


def test_no_debt_is_an_empty_list_and_anonymous_is_refused():
    make_universe()
    assert api_client(make_user()).get(URL).json() == []
    assert api_client().get(URL).status_code in (401, 403)
