"""POST /api/v1/account/withdraw/"""
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
    if "withdraw" in ("supply", "repay"):
        post(actor, "faucet", {"asset": "TSLAx", "amount": "1"})
    response = post(actor, "withdraw", {"asset": "TSLAx", "amount": "1"})
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert {"wallet", "positions", "health_factor", "health_factor_wad", "total_debt_usd"} <= set(body)


@pytest.mark.parametrize("label, amount, status, code", BAD_AMOUNTS, ids=[c[0] for c in BAD_AMOUNTS])
def test_bad_amounts(actor, label, amount, status, code):
    check_bad_amount(actor, "withdraw", "TSLAx", amount, status, code)


def test_unknown_asset_missing_fields_and_auth(actor):
    check_common_errors(actor, "withdraw", "TSLAx")


def test_paused_reserve(actor):
    check_paused(actor, "withdraw", "TSLAx")


def test_limit_exceeded(actor):
    before = snapshot()
    response = post(actor, "withdraw", {"asset": "TSLAx", "amount": "101"})
    assert response.status_code == 422, response.content[:300]
    assert response.json()["error"]["code"] == "insufficient_balance"
    assert snapshot() == before


def test_withdraw_that_breaks_health_factor(actor):
    before = snapshot()
    response = post(actor, "withdraw", {"asset": "TSLAx", "amount": "max"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "health_factor_too_low"
    assert snapshot() == before


def test_too_many_decimals_for_a_6_decimal_token(actor):
    check_bad_amount(actor, "borrow", "USDC", "1.0000001", 400, "invalid_amount")
