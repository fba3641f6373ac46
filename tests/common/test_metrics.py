"""GET /metrics: who may read it, and what it says (Prometheus text format, parsed back with prometheus_client)."""
import pytest
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from common.metrics import collector_register
from common.models import Heartbeat
from lending import services
from lending.models import LiquidationEvent
from markets.models import Reserve
from tests.factories import api_client, fund_and_supply, make_account, make_universe, make_user, set_price

pytestmark = pytest.mark.django_db


def samples(body: bytes) -> dict:
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_anonymous_gets_401_and_a_user_403():
    anon = api_client().get("/metrics")
    assert anon.status_code == 401 and anon.json()["error"]["code"] == "not_authenticated"
    assert api_client(make_user()).get("/metrics").status_code == 403
    assert api_client().get("/metrics", HTTP_AUTHORIZATION="Token not-a-token").status_code == 401


@override_settings(METRICS_TOKEN="scraper-secret-0123456789")
def test_scraper_bearer_token_and_staff_session_and_token():
    assert api_client().get("/metrics", HTTP_AUTHORIZATION="Bearer scraper-secret-0123456789").status_code == 200
    assert api_client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    staff = make_user(staff=True)
    assert api_client(staff).get("/metrics").status_code == 200
    browser = Client()
    browser.force_login(staff)
    response = browser.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")


def test_bearer_refused_when_no_metrics_token_is_configured():
    assert api_client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_requests_by_route_name_status_and_domain_metrics():
    make_universe()
    set_price("TSLAx", "250")
    account = make_account()
    fund_and_supply(account, "TSLAx", "10")
    services.account_borrow(account=account, symbol="USDC", amount=1_300 * 10**6)
    Heartbeat.objects.update_or_create(name="worker", defaults={"at": timezone.now()})
    Reserve.objects.filter(asset__symbol="USDC").update(deficit=2_500_000)  # 2.5 USDC of bad debt
    staff = api_client(make_user(staff=True))
    before = samples(staff.get("/metrics").content)  # counters are process-wide: compare against this
    assert staff.get("/api/v1/markets/TSLAx/").status_code == 200
    assert staff.get("/api/v1/markets/NOPE/").status_code == 404
    r = staff.post("/api/v1/admin/oracle/TSLAx/price/", {"price": "190", "reason": "drill"}, format="json")
    assert r.status_code in (200, 201, 202)
    from lending.keeper import keeper_run

    keeper_run(account_ids=[account.pk], round_key="metrics-test", started_at=None)
    assert LiquidationEvent.objects.count() >= 1
    got = samples(staff.get("/metrics").content)
    # the route is the URL pattern's name, not the path (no symbol in the label)
    routes = {dict(k[1]).get("route") for k in got if k[0] == "http_requests_total"}
    assert not any("TSLAx" in (r or "") for r in routes)
    detail = [k for k in got if k[0] == "http_requests_total" and dict(k[1])["status"] == "404"
              and got[k] > before.get(k, 0)]  # the 404s this test made
    assert detail and all(dict(k[1])["method"] == "GET" for k in detail)
    latency = ("liquidation_latency_seconds_count", ())
    assert got[latency] - before.get(latency, 0) == LiquidationEvent.objects.count()
    assert got[("reserve_deficit_base_units", (("reserve", "USDC"),))] == 2_500_000
    assert got[("reserve_deficit_tokens", (("reserve", "USDC"),))] == 2.5
    assert ("oracle_price_age_seconds", (("asset", "TSLAx"), ("source", "manual"))) in got
    assert got[("oracle_feed_flag", (("asset", "TSLAx"), ("flag", "stale")))] == 0
    assert got[("app_heartbeat_age_seconds", (("name", "worker"),))] < 60
    assert got[("celery_broker_up", ())] == 1
    assert ("celery_queue_length", (("queue", "liquidations"),)) in got


def test_a_failing_collector_is_counted_and_the_rest_still_reports():
    def broken():
        raise RuntimeError("boom")
        yield  # pragma: no cover

    collector_register("tests.broken", broken)
    try:
        got = samples(api_client(make_user(staff=True)).get("/metrics").content)
    finally:
        from common import metrics

        metrics._collectors.pop("tests.broken", None)
    assert got[("app_collector_errors", (("collector", "tests.broken"),))] == 1
    assert ("celery_broker_up", ()) in got
