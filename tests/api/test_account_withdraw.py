"""POST /api/v1/account/withdraw/"""
import pytest

from tests.api.action_cases import ActionContract, check_bad_amount, post, snapshot

pytestmark = pytest.mark.django_db


class TestWithdraw(ActionContract):
    path, asset, ok_amount = "withdraw", "TSLAx", "1"
    limit_amount, limit_code = '101', 'insufficient_balance'
    needs_funds = False


def test_withdraw_that_breaks_health_factor(actor):
    before = snapshot()
    response = post(actor, "withdraw", {"asset": "TSLAx", "amount": "max"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "health_factor_too_low"
    assert snapshot() == before


def test_too_many_decimals_for_a_6_decimal_token(actor):
    check_bad_amount(actor, "borrow", "USDC", "1.0000001", 400, "invalid_amount")
