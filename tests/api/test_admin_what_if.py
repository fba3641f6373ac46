"""POST /api/v1/admin/what-if/: shock prices, see what the keeper would do, change nothing."""
import pytest

from core.aave.wadray import percent_div
from core.amounts import format_price
from lending import services
from lending.models import LiquidationEvent, Position
from markets.models import Reserve
from oracles.models import HaircutPolicy, OracleRound
from tests.factories import api_client, fund_and_supply, make_account, make_universe, make_user, set_price

pytestmark = pytest.mark.django_db
URL = "/api/v1/admin/what-if/"
E6 = 10**6


@pytest.fixture
def staff():
    """12 accounts with 10 TSLAx at $250 and 1,300 USDC of debt (HF 1.25); 6 with 500 USDC (HF 3.25)."""
    make_universe()
    set_price("TSLAx", "250")
    for i in range(18):
        account = make_account()
        fund_and_supply(account, "TSLAx", "10")
        services.account_borrow(account=account, symbol="USDC", amount=(1_300 if i < 12 else 500) * E6)
    return api_client(make_user(staff=True))


def snapshot():
    return (LiquidationEvent.objects.count(), OracleRound.objects.count(),
            list(Position.objects.order_by("pk").values_list("scaled_supply", "scaled_debt")),
            list(Reserve.objects.order_by("pk").values_list("total_scaled_supply", "total_scaled_debt", "deficit")))


def test_a_shock_shows_the_keepers_work_and_changes_nothing(staff):
    before = snapshot()
    r = staff.post(URL, {"shocks": {"TSLAx": "-24"}}, format="json")  # $190: HF 0.95
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["underwater"], body["liquidations"], body["accounts_liquidated"]) == (12, 12, 12)
    assert body["debt_at_risk_usd"] == "15600" and body["debt_repaid_usd"] == "15600"  # $2,000 rule: all of it
    assert body["bad_debt_usd"] == "0" and body["left_underwater"] == 0 and not body["truncated"]
    assert body["by_asset"]["USDC"]["debt_repaid"] == "15600"
    assert body["worst_accounts"][0]["health_factor_before"] == "0.95"
    # one by one, under the pool's engine: 1,300 USDC repaid, 1,300 / 190 x 1.075 = 7.355 TSLAx seized at $190
    assert body["engine"] == "v3.3" and not body["liquidated_accounts_truncated"]
    listed = body["liquidated_accounts"]
    assert len(listed) == 12 and all(a["username"] and a["liquidations"] == 1 for a in listed)
    assert {(a["health_factor_before"], a["debt_repaid_usd"], a["collateral_seized_usd"]) for a in listed} == {
        ("0.95", "1300", "1397.49999999")}  # floor(7.355263157894736842 x 190, 8 decimals)
    assert snapshot() == before


def test_a_v4_pool_repays_to_the_target(staff):
    r = staff.patch("/api/v1/admin/pool/", {"liquidation_engine": "v4", "reason": "compare"}, format="json")
    assert r.status_code == 200, r.content
    body = staff.post(URL, {"shocks": {"TSLAx": "-22"}}, format="json").json()  # $195: HF 0.975
    # v3.3 would repay all 1,300 ($1,950 of collateral < $2,000). v4: bonus 10375 + floor(375 x 0.5) = 10562,
    # penalty 0.68653, debt = 1,300 x 0.075 / 0.36347 = 268.2477 USDC each ($1,031.75 left: no dust), HF -> 1.05
    assert body["engine"] == "v4" and body["accounts_liquidated"] == 12
    for a in body["liquidated_accounts"]:
        assert "268.24" < a["debt_repaid_usd"] < "268.26"
        assert "1.05" <= a["health_factor_after"] < "1.0501"


def test_a_crash_shows_the_bad_debt(staff):
    body = staff.post(URL, {"shocks": {"TSLAx": "-60"}}, format="json").json()  # $100: $1,000 of collateral
    per_account = 1_300 * E6 - percent_div(1_000 * E6, 10_750)  # Aave: all collateral, the rest is deficit
    assert body["bad_debt_usd"] == format_price(12 * per_account * 100)  # USDC at $1.00000000
    assert body["worst_accounts"][0]["bad_debt_usd"] != "0"


def test_at_the_next_close_the_closed_market_policy_applies(staff):
    HaircutPolicy.objects.filter(asset__symbol="TSLAx").update(pause_liquidations_when_closed=True)
    body = staff.post(URL, {"shocks": {"TSLAx": "-24"}, "at": "next_close"}, format="json").json()
    assert body["underwater"] == 12 and body["liquidations"] == 0 and body["left_underwater"] == 12
    assert body["blocked"] == {"liquidations_paused": 1}


@pytest.mark.parametrize("body, status, field", [
    ({"shocks": {"TSLAx": "0"}}, 400, "shocks.TSLAx"),  # zero
    ({"shocks": {"TSLAx": "-100"}}, 400, "shocks.TSLAx"),  # a limit exceeded
    ({"shocks": {"TSLAx": "-12.345"}}, 400, "shocks.TSLAx"),  # too many decimals
    ({"shocks": {"TSLAx": "abc"}}, 400, "shocks.TSLAx"),
    ({"shocks": {"TSLAx": -20}}, 400, "shocks.TSLAx"),  # a JSON number
    ({"shocks": {"NOPE": "-20"}}, 404, "shocks"),  # unknown asset
    ({"shocks": {}}, 400, "shocks"),
    ({"shocks": "TSLAx"}, 400, "shocks"),
    ({}, 400, "shocks"),
    ({"shocks": {"TSLAx": "-20"}, "at": "tomorrow"}, 400, "at"),
])
def test_bad_input_is_a_clear_4xx(staff, body, status, field):
    r = staff.post(URL, body, format="json")
    assert r.status_code == status and r.json()["error"]["field"] == field, r.content


def test_a_paused_reserve_is_reported_not_liquidated(staff):
    Reserve.objects.filter(asset__symbol="TSLAx").update(paused=True)
    body = staff.post(URL, {"shocks": {"TSLAx": "-24"}}, format="json").json()
    assert body["liquidations"] == 0 and body["left_underwater"] == 12 and body["blocked"] == {"reserve_paused": 1}


def test_staff_only(staff):
    assert api_client(make_user()).post(URL, {"shocks": {"TSLAx": "-20"}}, format="json").status_code == 403
