"""GET /api/v1/liquidations/: a user sees their own, staff see all."""
import pytest

from lending import services
from markets.services import now_seconds
from tests.factories import api_client, fund_and_supply, make_universe, make_user, set_price

pytestmark = pytest.mark.django_db


def liquidated_user():
    user = make_user()
    account = services.account_for_user(user)
    fund_and_supply(account, "TSLAx", "100")
    services.account_borrow(account=account, symbol="USDC", amount=13_000 * 10**6)
    return user, account


def test_visibility_and_filters():
    make_universe()
    set_price("TSLAx", "250")
    (alice, a), (_, b) = liquidated_user(), liquidated_user()
    set_price("TSLAx", "180")
    now = now_seconds() + 1
    for account in (a, b):
        services.account_liquidate(account_id=account.pk, debt_symbol="USDC", collateral_symbol="TSLAx",
                                   round_key="t", step=1, now=now)
    mine = api_client(alice).get("/api/v1/liquidations/").json()["results"]
    assert [e["account"] for e in mine] == [a.pk]
    event = mine[0]
    for field in ("debt_asset", "collateral_asset", "debt_repaid", "collateral_seized", "protocol_fee",
                  "health_factor_before", "health_factor_after", "price", "session", "oracle_round",
                  "latency_ms", "created_at"):
        assert field in event
    staff = make_user(staff=True)
    assert len(api_client(staff).get("/api/v1/liquidations/").json()["results"]) == 2
    assert len(api_client(staff).get(f"/api/v1/liquidations/?account={b.pk}").json()["results"]) == 1
    assert len(api_client(staff).get("/api/v1/liquidations/?asset=NVDAx").json()["results"]) == 0
    assert api_client(staff).get("/api/v1/liquidations/?since=garbage").status_code == 400
    assert api_client(staff).get("/api/v1/liquidations/?account=x").status_code == 400
    assert api_client().get("/api/v1/liquidations/").status_code == 401
