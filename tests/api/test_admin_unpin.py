"""POST /api/v1/admin/oracle/{symbol}/unpin/: staff only, a reason, 409 when there is no pin to end."""
import pytest

from oracles.models import OracleFeed
from tests.factories import api_client, make_universe, make_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/admin/oracle/{}/unpin/"


@pytest.fixture
def staff():
    make_universe()
    OracleFeed.objects.filter(asset__symbol="TSLAx").update(source="simulated")
    client = api_client(make_user(staff=True))
    client.post("/api/v1/admin/oracle/TSLAx/price/", {"price": "1", "reason": "pin", "confirm": True}, format="json")
    return client


def test_unpin_answers_with_the_resumed_price(staff):
    r = staff.post(URL.format("TSLAx"), {"reason": "drill over"}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["source"] == "simulated" and body["reference_price"] != "1"
    again = staff.post(URL.format("TSLAx"), {"reason": "again"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_pinned"


def test_a_reason_is_required_and_nothing_changes(staff):
    for body in [{}, {"reason": ""}, {"reason": "   "}, ["x"], {"reason": "x" * 1001}]:
        r = staff.post(URL.format("TSLAx"), body, format="json")
        assert r.status_code == 400 and r.json()["error"]["field"] == "reason", (body, r.content)
    assert OracleFeed.objects.get(asset__symbol="TSLAx").source == "manual"


def test_unknown_asset_and_non_staff(staff):
    assert staff.post(URL.format("NOPE"), {"reason": "x"}, format="json").status_code == 404
    plain = api_client(make_user())
    assert plain.post(URL.format("TSLAx"), {"reason": "x"}, format="json").status_code == 403
    assert api_client().post(URL.format("TSLAx"), {"reason": "x"}, format="json").status_code in (401, 403)
