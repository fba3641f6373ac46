"""POST /api/v1/account/borrow/"""
import pytest

from tests.api.action_cases import ActionContract

pytestmark = pytest.mark.django_db


class TestBorrow(ActionContract):
    path, asset, ok_amount = "borrow", "USDC", "100"
    limit_amount, limit_code = '1000000', 'borrowing_power_exceeded'
    needs_funds = False
