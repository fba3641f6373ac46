"""PATCH /api/v1/admin/markets/{symbol}/ and GET /api/v1/admin/audit/"""
import pytest

from common.models import AuditEntry
from markets.models import Reserve
from tests.factories import api_client, make_universe, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    make_universe()
    return make_user(staff=True)


def patch(user, body, symbol="TSLAx"):
    return api_client(user).patch(f"/api/v1/admin/markets/{symbol}/", body, format="json")


def test_patch_validates_whole_config_and_audits(staff):
    r = patch(staff, {"ltv_bps": 7_000, "liquidation_threshold_bps": 7_500, "reason": "Kamino moved"})
    assert r.status_code == 200, r.content
    assert r.json()["ltv_bps"] == 7_000
    audit = api_client(staff).get("/api/v1/admin/audit/").json()["results"]
    assert {(a["field"], a["old_value"], a["new_value"], a["reason"], a["actor"]) for a in audit} == {
        ("ltv_bps", 5_500, 7_000, "Kamino moved", staff.username),
        ("liquidation_threshold_bps", 6_500, 7_500, "Kamino moved", staff.username),
    }


@pytest.mark.parametrize("body, field", [
    ({"ltv_bps": 7_000, "reason": "x"}, "ltv_bps"),
    ({"ltv_bps": "7000", "reason": "x"}, "ltv_bps"),
    ({"ltv_bps": 7.5, "reason": "x"}, "ltv_bps"),
    ({"paused": "yes", "reason": "x"}, "paused"),
    ({"ltv_bps": 5_000}, "reason"),
    ({"ltv_bps": 5_000, "reason": ""}, "reason"),
    ({"ltv_bps": -1, "reason": "x"}, "ltv_bps"),
    ({"nonsense": 1, "reason": "x"}, "nonsense"),
    ({"liquidation_bonus_bps": 9_000, "reason": "x"}, "liquidation_bonus_bps"),
])
def test_invalid_patch_changes_nothing(staff, body, field):
    before = Reserve.objects.get(asset__symbol="TSLAx").ltv_bps
    r = patch(staff, body)
    assert r.status_code == 400, r.content
    assert r.json()["error"]["field"] == field and r.json()["error"]["message"]
    assert Reserve.objects.get(asset__symbol="TSLAx").ltv_bps == before
    assert not AuditEntry.objects.exists()


def test_non_staff_get_403_and_anonymous_401(staff):
    user = make_user()
    assert patch(user, {"ltv_bps": 5_000, "reason": "x"}).status_code == 403
    assert api_client(user).get("/api/v1/admin/audit/").status_code == 403
    assert api_client().patch("/api/v1/admin/markets/TSLAx/", {"reason": "x"}, format="json").status_code == 401


def test_unknown_symbol(staff):
    assert patch(staff, {"ltv_bps": 5_000, "reason": "x"}, symbol="NOPE").status_code == 404
