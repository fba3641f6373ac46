"""Shared bad-input matrix for the amount actions: every case is a clear 4xx that changes nothing."""
import pytest

from lending.models import LedgerEntry, Position, WalletBalance
from markets.models import Reserve
from tests.factories import api_client, make_borrower, set_reserve


def snapshot():
    return (
        sorted((w.account_id, w.asset_id, w.amount) for w in WalletBalance.objects.all()),
        sorted((p.account_id, p.reserve_id, p.scaled_supply, p.scaled_debt, p.collateral_enabled)
               for p in Position.objects.all()),
        LedgerEntry.objects.count(),
        sorted((r.pk, r.virtual_balance, r.total_scaled_supply, r.total_scaled_debt) for r in Reserve.objects.all()),
    )


BAD_AMOUNTS = [
    ("zero", "0", 400, "invalid_amount"),
    ("negative", "-5", 400, "invalid_amount"),
    ("too_many_decimals", "1." + "1" * 19, 400, "invalid_amount"),
    ("non_numeric", "ten", 400, "invalid_amount"),
    ("json_number", 10, 400, "invalid_amount"),
    ("json_float", 10.5, 400, "invalid_amount"),
    ("json_bool", True, 400, "invalid_amount"),
    ("null", None, 400, "invalid_amount"),
    ("nan", "NaN", 400, "invalid_amount"),
    ("infinity", "Infinity", 400, "invalid_amount"),
    ("exponent", "1e999999", 400, "invalid_amount"),
    ("huge", "9" * 5000, 400, "invalid_amount"),
    ("spaces_inside", "1 000", 400, "invalid_amount"),
    ("hex", "0x10", 400, "invalid_amount"),
]


@pytest.fixture
def actor(db):
    """A borrower with TSLAx collateral, 1,000 USDC of debt and some USDC in the wallet."""
    user = make_borrower()
    return user


def post(user, path, body):
    return api_client(user).post(f"/api/v1/account/{path}/", body, format="json")


def check_bad_amount(user, path, asset, amount, status, code):
    before = snapshot()
    response = post(user, path, {"asset": asset, "amount": amount})
    assert response.status_code == status, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert snapshot() == before


def check_common_errors(user, path, asset):
    before = snapshot()
    for body, status, code, field in [
        ({"asset": "NOPE", "amount": "1"}, 400, "unknown_asset", "asset"),
        ({"amount": "1"}, 400, "required", "asset"),
        ({"asset": asset}, 400, "required", "amount"),
        ([1, 2], 400, "invalid", None),
    ]:
        response = post(user, path, body)
        assert response.status_code == status, (body, response.content[:300])
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["field"] == field
    assert api_client().post(f"/api/v1/account/{path}/", {"asset": asset, "amount": "1"},
                             format="json").status_code == 401
    assert snapshot() == before


def check_paused(user, path, asset):
    set_reserve(asset, paused=True)
    before = snapshot()
    response = post(user, path, {"asset": asset, "amount": "1"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "reserve_paused"
    assert snapshot() == before


class ActionContract:
    """The shared contract of an amount action; each endpoint's module subclasses it with its own data."""

    path = asset = ok_amount = limit_amount = limit_code = ""
    needs_funds = False

    def test_success_returns_the_updated_account(self, actor):
        if self.needs_funds:
            post(actor, "faucet", {"asset": self.asset, "amount": self.ok_amount})
        response = post(actor, self.path, {"asset": self.asset, "amount": self.ok_amount})
        assert response.status_code == 200, response.content[:300]
        assert {"wallet", "positions", "health_factor", "health_factor_wad", "total_debt_usd"} <= set(response.json())

    @pytest.mark.parametrize("label, amount, status, code", BAD_AMOUNTS, ids=[c[0] for c in BAD_AMOUNTS])
    def test_bad_amounts(self, actor, label, amount, status, code):
        check_bad_amount(actor, self.path, self.asset, amount, status, code)

    def test_unknown_asset_missing_fields_and_auth(self, actor):
        check_common_errors(actor, self.path, self.asset)

    def test_paused_reserve(self, actor):
        check_paused(actor, self.path, self.asset)

    def prepare_limit(self, actor):
        """Bring the actor to where `limit_amount` is over the action's limit (the fixture already is, by default)."""

    def test_limit_exceeded(self, actor):
        self.prepare_limit(actor)
        before = snapshot()
        response = post(actor, self.path, {"asset": self.asset, "amount": self.limit_amount})
        assert response.status_code == 422, response.content[:300]
        assert response.json()["error"]["code"] == self.limit_code
        assert snapshot() == before
