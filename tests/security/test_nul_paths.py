"""NUL bytes, control characters and invalid UTF-8 in paths and query strings: a 400 (or 404) before any query,
never a 500; the API answers in its error shape, pages with the site's page."""
import pytest
from django.test import Client

from common.models import AuditEntry
from oracles.models import OracleRound
from tests.api.action_cases import snapshot
from tests.factories import api_client, make_universe, make_user

pytestmark = pytest.mark.django_db

BAD = ["%00", "x%00y", "%01", "%1f", "%7f", "%c2%85", "%0a", "%0d%0a", "%09", "%ff", "%c3", "%ed%a0%80", "%c0%af"]

PAGES = ["/markets/{}/", "/risk/{}/", "/account/collateral/{}/", "/{}", "/backtests/{}/", "/login/{}"]
API_GET = ["/api/v1/markets/{}/", "/api/v1/oracle/prices/{}/", "/api/v1/oracle/prices/{}/haircuts/", "/api/v1/{}",
           "/api/v1/admin/oracle/{}/policy/"]
API_POST = ["/api/v1/admin/oracle/{}/price/", "/api/v1/admin/oracle/{}/shock/", "/api/v1/admin/audit/{}/revert/"]
QUERIES = ["/api/v1/liquidations/?asset={}", "/api/v1/liquidations/?since={}", "/api/v1/liquidations/?account={}",
           "/api/v1/oracle/market-status/?at={}", "/api/v1/oracle/market-status/?calendar={}",
           "/api/v1/account/history/?cursor={}", "/api/v1/markets/?{}=1", "/?x={}", "/risk/TSLAx/?x={}",
           "/markets/TSLAx/?{}"]


@pytest.fixture
def clients():
    make_universe()
    staff = make_user(staff=True)
    page = Client()
    page.force_login(staff)
    return page, api_client(staff)


def state():
    return snapshot(), AuditEntry.objects.count(), OracleRound.objects.count()


def assert_api_400(response):
    assert response.status_code == 400, (response.status_code, response.content[:200])
    error = response.json()["error"]
    assert error["code"] == "bad_request" and error["message"]


def assert_page_400(response):
    assert response.status_code == 400, (response.status_code, response.content[:200])
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("bad", BAD)
def test_bad_characters_in_paths(clients, bad):
    page, api = clients
    before = state()
    for template in PAGES:
        assert_page_400(page.get(template.format(bad)))
    assert_page_400(page.post(f"/account/collateral/{bad}/", {"enabled": "1"}))
    assert_page_400(page.post(f"/risk/{bad}/", {"form": "price", "price": "1"}))
    for template in API_GET:
        assert_api_400(api.get(template.format(bad)))
    for template in API_POST:
        assert_api_400(api.post(template.format(bad), {"price": "1", "percent": "-5", "at": "now", "reason": "x"},
                                format="json"))
    assert_api_400(api.patch(f"/api/v1/admin/markets/{bad}/", {"ltv_bps": 1, "reason": "x"}, format="json"))
    assert state() == before


@pytest.mark.parametrize("bad", BAD)
def test_bad_characters_in_query_strings(clients, bad):
    page, api = clients
    before = state()
    for template in QUERIES:
        url = template.format(bad)
        if url.startswith("/api/"):
            assert_api_400(api.get(url))
        else:
            assert_page_400(page.get(url))
    assert state() == before


@pytest.mark.parametrize("symbol", ["a%20b", "%e2%80%ae", "x" * 200, "TSLAx%27--", "%f0%9f%98%80", "..%2f..",
                                    "%ef%bc%b4SLAx"])
def test_page_views_check_the_symbol_before_querying(clients, symbol):
    page, api = clients
    for template in ("/markets/{}/", "/risk/{}/"):
        assert page.get(template.format(symbol)).status_code == 404
    assert page.post(f"/account/collateral/{symbol}/", {"enabled": "1"}).status_code in (200, 404)
    assert api.get(f"/api/v1/markets/{symbol}/").status_code == 404


def test_good_paths_still_work(clients):
    page, api = clients
    assert page.get("/markets/TSLAx/").status_code == 200
    assert page.get("/risk/TSLAx/?tab=%C3%A9t%C3%A9").status_code == 200  # valid UTF-8 in a query is fine
    assert api.get("/api/v1/markets/TSLAx/").status_code == 200
