"""GET/PATCH /api/v1/admin/pool/ and liquidation_engine in GET /api/v1/markets/."""
import pytest

from common.models import AuditEntry
from markets.models import Reserve
from markets.selectors import pool_get
from tests.factories import api_client, make_universe, make_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/admin/pool/"


@pytest.fixture
def staff():
    make_universe(seed=False)
    return make_user(staff=True)


def patch(user, body):
    return api_client(user).patch(URL, body, format="json")


def test_get_and_patch_audited_and_shown_on_markets(staff):
    r = api_client(staff).get(URL)
    assert r.status_code == 200
    assert r.json() == {"liquidation_engine": "v3.3", "target_health_factor_bps": 10_500,
                        "liquidation_bonus_factor_bps": 5_000, "health_factor_for_max_bonus_bps": 9_500}
    r = patch(staff, {"liquidation_engine": "v4", "liquidation_bonus_factor_bps": 0, "reason": "compare"})
    assert r.status_code == 200, r.content
    assert r.json()["liquidation_engine"] == "v4" and r.json()["liquidation_bonus_factor_bps"] == 0
    audit = api_client(staff).get("/api/v1/admin/audit/").json()["results"]
    assert {(a["target"], a["field"], a["old_value"], a["new_value"], a["reason"]) for a in audit} == {
        ("pool:default", "liquidation_engine", "v3.3", "v4", "compare"),
        ("pool:default", "liquidation_bonus_factor_bps", 5_000, 0, "compare"),
    }
    markets = api_client().get("/api/v1/markets/").json()
    items = markets["results"] if isinstance(markets, dict) else markets
    assert {m["liquidation_engine"] for m in items} == {"v4"}
    assert api_client().get("/api/v1/markets/TSLAx/").json()["liquidation_engine"] == "v4"


@pytest.mark.parametrize("body, field", [
    ({"target_health_factor_bps": 0, "reason": "x"}, "target_health_factor_bps"),
    ({"target_health_factor_bps": -10_500, "reason": "x"}, "target_health_factor_bps"),
    ({"target_health_factor_bps": 9_999, "reason": "x"}, "target_health_factor_bps"),
    ({"target_health_factor_bps": "10500", "reason": "x"}, "target_health_factor_bps"),
    ({"target_health_factor_bps": "abc", "reason": "x"}, "target_health_factor_bps"),
    ({"target_health_factor_bps": 10_500.5, "reason": "x"}, "target_health_factor_bps"),
    ({"health_factor_for_max_bonus_bps": 10_000, "reason": "x"}, "health_factor_for_max_bonus_bps"),
    ({"liquidation_bonus_factor_bps": 10_001, "reason": "x"}, "liquidation_bonus_factor_bps"),
    ({"liquidation_engine": "v5", "reason": "x"}, "liquidation_engine"),
    ({"liquidation_engine": None, "reason": "x"}, "liquidation_engine"),
    ({"liquidation_engine": "v4"}, "reason"),
    ({"liquidation_engine": "v4", "reason": " "}, "reason"),
    ({"engine": "v4", "reason": "x"}, "engine"),
])
def test_bad_input_is_400_and_changes_nothing(staff, body, field):
    r = patch(staff, body)
    assert r.status_code == 400, r.content
    assert r.json()["error"]["field"] == field and r.json()["error"]["message"]
    assert pool_get().liquidation_engine == "v3.3" and pool_get().target_health_factor_bps == 10_500
    assert not AuditEntry.objects.exists()


def test_v4_refused_while_a_reserve_has_bonus_times_lt_at_100(staff):
    Reserve.objects.filter(asset__symbol="HOODx").update(liquidation_threshold_bps=8_000, liquidation_bonus_bps=12_500)
    r = patch(staff, {"liquidation_engine": "v4", "reason": "x"})
    assert r.status_code in (400, 422), r.content
    assert r.json()["error"]["field"] == "liquidation_engine" and "HOODx" in r.json()["error"]["message"]
    assert pool_get().liquidation_engine == "v3.3"


def test_non_staff_403_anonymous_401(staff):
    user = make_user()
    assert api_client(user).get(URL).status_code == 403
    assert patch(user, {"liquidation_engine": "v4", "reason": "x"}).status_code == 403
    assert api_client().get(URL).status_code == 401
    assert pool_get().liquidation_engine == "v3.3"


def test_revert_through_the_api(staff):
    assert patch(staff, {"target_health_factor_bps": 11_000, "reason": "x"}).status_code == 200
    entry = AuditEntry.objects.get(target="pool:default")
    r = api_client(staff).post(f"/api/v1/admin/audit/{entry.pk}/revert/", {"reason": "undo"}, format="json")
    assert r.status_code == 201, r.content
    assert pool_get().target_health_factor_bps == 10_500
    assert api_client(staff).get(URL).json()["target_health_factor_bps"] == 10_500


def test_with_the_read_cache_markets_show_a_new_engine_at_once(staff, read_cache, django_capture_on_commit_callbacks):
    """Production's read cache keeps the pool's engine in each process (markets.selectors.pool_engine_name):
    a committed PATCH retires it, and until then a market read costs no pool query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_client(staff)
    assert client.get("/api/v1/markets/TSLAx/").json()["liquidation_engine"] == "v3.3"
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/markets/").json()["results"][0]["liquidation_engine"] == "v3.3"
    assert not [q for q in queries.captured_queries if "markets_pool" in q["sql"]]
    with django_capture_on_commit_callbacks(execute=True):
        assert patch(staff, {"liquidation_engine": "v4", "reason": "compare"}).status_code == 200
    assert client.get("/api/v1/markets/TSLAx/").json()["liquidation_engine"] == "v4"
    assert {m["liquidation_engine"] for m in client.get("/api/v1/markets/").json()["results"]} == {"v4"}
