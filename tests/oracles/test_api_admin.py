"""Staff oracle endpoints: price, shock, policy, source. Everyone else gets 403."""
import pytest

from common.models import AuditEntry
from oracles.models import HaircutPolicy, OracleFeed
from tests.factories import api_client, make_universe, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    make_universe()
    OracleFeed.objects.filter(asset__symbol="TSLAx").update(source="simulated")
    return api_client(make_user(staff=True))


def test_manual_price_pins_the_asset(staff):
    r = staff.post("/api/v1/admin/oracle/TSLAx/price/", {"price": "225.5", "reason": "drill"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["reference_price"] == "225.5" and r.json()["source"] == "manual"
    assert OracleFeed.objects.get(asset__symbol="TSLAx").source == "manual"
    assert AuditEntry.objects.filter(target="oracle_price:TSLAx").exists()
    from oracles.services import feeds_tick

    feeds_tick(seed=1)  # no tick overwrites a manual price
    assert api_client().get("/api/v1/oracle/prices/TSLAx/").json()["reference_price"] == "225.5"


@pytest.mark.parametrize("price", [225, "0", "-1", "abc", "1.123456789", "NaN", "", None, "1e5"])
def test_manual_price_validation(staff, price):
    r = staff.post("/api/v1/admin/oracle/TSLAx/price/", {"price": price}, format="json")
    assert r.status_code == 400 and r.json()["error"]["field"] == "price"


def test_shock_now(staff):
    staff.post("/api/v1/admin/oracle/TSLAx/price/", {"price": "200"}, format="json")
    r = staff.post("/api/v1/admin/oracle/TSLAx/shock/", {"percent": "-12.5", "at": "now"}, format="json")
    assert r.status_code == 200 and r.json()["price"]["reference_price"] == "175"


@pytest.mark.parametrize("body, field", [({"percent": -10, "at": "now"}, "percent"),
                                         ({"percent": "-100", "at": "now"}, "percent"),
                                         ({"percent": "0", "at": "now"}, "percent"),
                                         ({"percent": "-5", "at": "later"}, "at")])
def test_shock_validation(staff, body, field):
    r = staff.post("/api/v1/admin/oracle/TSLAx/shock/", body, format="json")
    assert r.status_code == 400 and r.json()["error"]["field"] == field


def test_policy_patch_is_audited_and_requires_reason(staff):
    r = staff.patch("/api/v1/admin/oracle/TSLAx/policy/",
                    {"mode": "fixed", "fixed_bps": {"weekend": 800}, "pause_liquidations_when_closed": True,
                     "reopen_grace_seconds": 600, "reason": "weekend drill"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["haircuts"]["weekend"] == 800
    policy = HaircutPolicy.objects.get(asset__symbol="TSLAx")
    assert policy.mode == "fixed" and policy.reopen_grace_seconds == 600
    assert AuditEntry.objects.filter(target="oracle_policy:TSLAx").count() == 4
    for body, field in [({"mode": "none"}, "reason"), ({"mode": "wild", "reason": "x"}, "mode"),
                        ({"fixed_bps": {"lunch": 5}, "reason": "x"}, "fixed_bps"),
                        ({"reopen_grace_seconds": 99_999, "reason": "x"}, "reopen_grace_seconds"),
                        ({"pause_liquidations_when_closed": "yes", "reason": "x"}, "pause_liquidations_when_closed")]:
        bad = staff.patch("/api/v1/admin/oracle/TSLAx/policy/", body, format="json")
        assert bad.status_code == 400 and bad.json()["error"]["field"] == field, (body, bad.content)


def test_source_patch(staff):
    r = staff.patch("/api/v1/admin/oracle/SPYx/source/", {"source": "replay", "ticker": "SPY", "reason": "replay"},
                    format="json")
    assert r.status_code == 200 and r.json()["source"] == "replay"
    bad = staff.patch("/api/v1/admin/oracle/SPYx/source/", {"source": "chainlink", "reason": "x"}, format="json")
    assert bad.status_code == 400
    assert staff.patch("/api/v1/admin/oracle/SPYx/source/", {"source": "manual"}, format="json").status_code == 400


@pytest.mark.parametrize("method, path, body", [
    ("post", "/api/v1/admin/oracle/TSLAx/price/", {"price": "1"}),
    ("post", "/api/v1/admin/oracle/TSLAx/shock/", {"percent": "-5", "at": "now"}),
    ("patch", "/api/v1/admin/oracle/TSLAx/policy/", {"mode": "none", "reason": "x"}),
    ("patch", "/api/v1/admin/oracle/TSLAx/source/", {"source": "manual", "reason": "x"}),
])
def test_staff_only(staff, method, path, body):
    assert getattr(api_client(make_user()), method)(path, body, format="json").status_code == 403
    assert getattr(api_client(), method)(path, body, format="json").status_code == 401


def test_manual_price_liquidation_policy(staff):
    r = staff.patch("/api/v1/admin/oracle/TSLAx/policy/", {"manual_price_liquidations": "hold", "reason": "freeze"},
                    format="json")
    assert r.status_code == 200 and r.json()["manual_price_liquidations"] == "hold"
    bad = staff.patch("/api/v1/admin/oracle/TSLAx/policy/", {"manual_price_liquidations": "maybe", "reason": "x"},
                      format="json")
    assert bad.status_code == 400
