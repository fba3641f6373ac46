"""POST /api/v1/account/supply/"""
import pytest

from tests.api.action_cases import (  # noqa: F401 - fixture
    BAD_AMOUNTS,
    actor,
    check_bad_amount,
    check_common_errors,
    check_paused,
    post,
    snapshot,
)

pytestmark = pytest.mark.django_db


def test_success_returns_the_updated_account(actor):
    if "supply" in ("supply", "repay"):
        post(actor, "faucet", {"asset": "USDC", "amount": "100"})
    response = post(actor, "supply", {"asset": "USDC", "amount": "100"})
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert {"wallet", "positions", "health_factor", "health_factor_wad", "total_debt_usd"} <= set(body)


@pytest.mark.parametrize("label, amount, status, code", BAD_AMOUNTS, ids=[c[0] for c in BAD_AMOUNTS])
def test_bad_amounts(actor, label, amount, status, code):
    check_bad_amount(actor, "supply", "USDC", amount, status, code)


def test_unknown_asset_missing_fields_and_auth(actor):
    check_common_errors(actor, "supply", "USDC")


def test_paused_reserve(actor):
    check_paused(actor, "supply", "USDC")


def test_limit_exceeded(actor):
    before = snapshot()
    response = post(actor, "supply", {"asset": "USDC", "amount": "999999999"})
    assert response.status_code == 422, response.content[:300]
    assert response.json()["error"]["code"] == "insufficient_balance"
    assert snapshot() == before
