"""POST /api/v1/account/repay/"""
import pytest

from tests.api.action_cases import ActionContract, post, snapshot

pytestmark = pytest.mark.django_db


class TestRepay(ActionContract):
    path, asset, ok_amount = "repay", "USDC", "100"
    limit_amount, limit_code = "1500", "insufficient_balance"
    needs_funds = True

    def prepare_limit(self, actor):
        # 1,000 USDC of debt, 500 in the wallet: repaying 1,500 (capped at the debt) needs more than the wallet holds
        from lending.models import WalletBalance

        WalletBalance.objects.filter(account__user=actor, asset__symbol="USDC").update(amount=500 * 10**6)


def test_limit_exceeded_wallet_too_small(actor):
    # debt 1,000 USDC, wallet 1,000 USDC; spend 500 first so "max" cannot be paid
    from lending.models import WalletBalance

    WalletBalance.objects.filter(asset__symbol="USDC").update(amount=500 * 10**6)
    before = snapshot()
    response = post(actor, "repay", {"asset": "USDC", "amount": "max"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "insufficient_balance"
    assert snapshot() == before


def test_max_repays_everything(actor):
    post(actor, "faucet", {"asset": "USDC", "amount": "10"})
    response = post(actor, "repay", {"asset": "USDC", "amount": "max"})
    assert response.status_code == 200
    assert response.json()["health_factor"] is None
