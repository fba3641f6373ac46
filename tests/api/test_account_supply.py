"""POST /api/v1/account/supply/"""
import pytest

from tests.api.action_cases import ActionContract

pytestmark = pytest.mark.django_db


class TestSupply(ActionContract):
    path, asset, ok_amount = "supply", "USDC", "100"
    limit_amount, limit_code = '999999999', 'insufficient_balance'
    needs_funds = True
