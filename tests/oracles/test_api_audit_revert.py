"""POST /api/v1/admin/audit/{id}/revert/: undo one audited change through the same validated, audited service."""
import pytest

from common.models import AuditEntry
from markets.models import Reserve
from oracles.models import HaircutPolicy, OracleFeed
from tests.factories import api_client, make_universe, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    make_universe()
    return api_client(make_user(staff=True))


def revert(client, entry_id, reason="mistake"):
    return client.post(f"/api/v1/admin/audit/{entry_id}/revert/", {"reason": reason}, format="json")


def last_entry():
    return AuditEntry.objects.order_by("-pk").first()


def test_reverting_a_risk_parameter(staff):
    before = Reserve.objects.get(asset__symbol="TSLAx").ltv_bps
    assert staff.patch("/api/v1/admin/markets/TSLAx/", {"ltv_bps": before - 500, "reason": "tighten"},
                       format="json").status_code == 200
    change = last_entry()
    r = revert(staff, change.pk)
    assert r.status_code == 201, r.content
    assert r.json()["new_value"] == before and r.json()["reason"] == f"revert of change #{change.pk}: mistake"
    assert Reserve.objects.get(asset__symbol="TSLAx").ltv_bps == before


def test_reverting_a_haircut_policy_field_and_a_source(staff):
    staff.patch("/api/v1/admin/oracle/TSLAx/policy/", {"coverage": "0.95", "reason": "looser"}, format="json")
    assert revert(staff, last_entry().pk).status_code == 201
    assert str(HaircutPolicy.objects.get(asset__symbol="TSLAx").coverage) == "0.9900"
    OracleFeed.objects.filter(asset__symbol="TSLAx").update(source="simulated")
    staff.post("/api/v1/admin/oracle/TSLAx/price/", {"price": "200", "reason": "drill"}, format="json")
    source_change = AuditEntry.objects.filter(target="oracle_source:TSLAx", field="source").last()
    assert revert(staff, source_change.pk).status_code == 201
    assert OracleFeed.objects.get(asset__symbol="TSLAx").source == "simulated"


def test_a_field_changed_again_since_is_a_409_and_nothing_changes(staff):
    staff.patch("/api/v1/admin/markets/TSLAx/", {"ltv_bps": 5_000, "reason": "a"}, format="json")
    first = last_entry()
    staff.patch("/api/v1/admin/markets/TSLAx/", {"ltv_bps": 4_500, "reason": "b"}, format="json")
    count = AuditEntry.objects.count()
    r = revert(staff, first.pk)
    assert r.status_code == 409 and r.json()["error"]["code"] == "changed_since"
    assert Reserve.objects.get(asset__symbol="TSLAx").ltv_bps == 4_500 and AuditEntry.objects.count() == count


def test_an_old_value_that_no_longer_fits_is_a_clear_400(staff):
    staff.patch("/api/v1/admin/markets/TSLAx/", {"ltv_bps": 6_000, "reason": "a"}, format="json")
    raised = last_entry()  # 5,500 -> 6,000
    staff.patch("/api/v1/admin/markets/TSLAx/", {"liquidation_threshold_bps": 6_100, "reason": "b"}, format="json")
    staff.patch("/api/v1/admin/markets/TSLAx/", {"ltv_bps": 6_000, "reason": "c"}, format="json")  # no-op
    assert revert(staff, raised.pk).status_code == 201  # 5,500 still fits under 6,100


@pytest.mark.parametrize("body, status", [({}, 400), ({"reason": ""}, 400), ({"reason": 5}, 201)])
def test_a_reason_is_required(staff, body, status):
    staff.patch("/api/v1/admin/markets/TSLAx/", {"ltv_bps": 5_000, "reason": "a"}, format="json")
    r = staff.post(f"/api/v1/admin/audit/{last_entry().pk}/revert/", body, format="json")
    assert r.status_code == status


def test_prices_unknown_entries_and_non_staff(staff):
    staff.post("/api/v1/admin/oracle/TSLAx/price/", {"price": "200", "reason": "drill"}, format="json")
    price = AuditEntry.objects.get(target="oracle_price:TSLAx")
    r = revert(staff, price.pk)
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_revertible"
    assert revert(staff, 999_999).status_code == 404
    assert revert(api_client(make_user()), price.pk).status_code == 403


def test_a_heartbeat_change_is_audited_and_can_be_reverted(staff):
    before = OracleFeed.objects.get(asset__symbol="TSLAx").heartbeat_seconds
    r = staff.patch("/api/v1/admin/oracle/TSLAx/source/", {"source": "simulated", "heartbeat_seconds": 7200,
                                                          "reason": "slower feed"}, format="json")
    assert r.status_code == 200 and r.json()["heartbeat_seconds"] == 7200
    entry = AuditEntry.objects.get(target="oracle_source:TSLAx", field="heartbeat_seconds")
    assert (entry.old_value, entry.new_value) == (before, 7200)
    assert revert(staff, entry.pk).status_code == 201
    assert OracleFeed.objects.get(asset__symbol="TSLAx").heartbeat_seconds == before
    assert last_entry().field == "heartbeat_seconds" and last_entry().new_value == before
