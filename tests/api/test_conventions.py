"""Cross-cutting API conventions: one error shape, idempotency keys, throttling scopes."""
import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.throttling import ScopedRateThrottle

from lending.models import LedgerEntry
from tests.factories import api_client, make_universe, make_user

pytestmark = pytest.mark.django_db


def test_error_shape_for_unknown_urls_wrong_method_and_bad_json():
    client = api_client(make_user())
    r = client.get("/api/v1/nowhere/")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.get("/api/v1/account/borrow/")
    assert r.status_code == 405 and "error" in r.json()
    r = client.post("/api/v1/account/borrow/", "{not json", content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "parse_error"
    r = client.post("/api/v1/account/borrow/", "asset=USDC", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415 and "error" in r.json()


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_paths_answer_json_even_with_debug_on(settings, debug):
    settings.DEBUG = debug  # make run serves with DEBUG on, where Django skips handler404
    client = api_client(make_user())
    for path in ("/api/", "/api/v2/markets/", "/api/v1/nowhere/"):
        r = client.get(path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path
    # a POST without its trailing slash cannot be redirected: a clear 404 instead of APPEND_SLASH's error
    r = Client(enforce_csrf_checks=True).post("/api/v1/account/faucet", "{}", content_type="application/json")
    assert r.status_code == 404 and "trailing slash" in r.json()["error"]["message"]
    r = client.get("/api/v1/markets?page_size=2")
    assert r.status_code == 301 and r["Location"] == "/api/v1/markets/?page_size=2"


def test_idempotency_key_replays_the_first_result():
    make_universe()
    client = api_client(make_user())
    body = {"asset": "USDC", "amount": "100"}
    first = client.post("/api/v1/account/faucet/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    second = client.post("/api/v1/account/faucet/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and second["Idempotent-Replayed"] == "true"
    assert LedgerEntry.objects.filter(kind="faucet").count() == 1
    reused = client.post("/api/v1/account/faucet/", {"asset": "USDC", "amount": "5"}, format="json",
                         HTTP_IDEMPOTENCY_KEY="abc-1")
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    # keys are per user
    other = api_client(make_user()).post("/api/v1/account/faucet/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert other.status_code == 200 and LedgerEntry.objects.filter(kind="faucet").count() == 2


def test_throttle_scopes_answer_429_with_retry_after(monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "2/min", "actions": "3/min"})
    cache.clear()
    client = api_client()
    codes = [client.post("/api/v1/auth/token/", {"username": "nobody", "password": "whatever-1"},
                         format="json").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    r = client.post("/api/v1/auth/token/", {"username": "nobody", "password": "whatever-1"}, format="json")
    assert r.json()["error"]["code"] == "throttled" and "Retry-After" in r
    make_universe()
    user_client = api_client(make_user())
    codes = [user_client.post("/api/v1/account/faucet/", {"asset": "USDC", "amount": "1"},
                              format="json").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    cache.clear()
    # per IP as well: a second user on the same address shares the address's budget
    other = api_client(make_user())
    codes = [other.post("/api/v1/account/faucet/", {"asset": "USDC", "amount": "1"}, format="json").status_code
             for _ in range(2)]
    assert codes == [200, 200]
    assert api_client(make_user()).post("/api/v1/account/faucet/", {"asset": "USDC", "amount": "1"},
                                        format="json").status_code == 200
    assert api_client(make_user()).post("/api/v1/account/faucet/", {"asset": "USDC", "amount": "1"},
                                        format="json").status_code == 429
    cache.clear()


def test_throttle_rates_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("API_THROTTLE_RATES", "anon=7/min,auth=3/min,custom=1/sec")
    from config.settings.base import _throttle_rates

    rates = _throttle_rates()
    assert rates["anon"] == "7/min" and rates["auth"] == "3/min" and rates["custom"] == "1/sec"
    assert rates["user"] and rates["actions"]
