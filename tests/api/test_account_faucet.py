"""POST /api/v1/account/faucet/"""
import pytest

from tests.api.action_cases import ActionContract

pytestmark = pytest.mark.django_db


class TestFaucet(ActionContract):
    path, asset, ok_amount = "faucet", "USDC", "100"
    limit_amount, limit_code = '200000', 'faucet_limit_exceeded'
    needs_funds = False
