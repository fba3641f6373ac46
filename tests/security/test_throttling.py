"""Throttles count per real client address (REMOTE_ADDR, or the hop a configured number of trusted proxies
appended), so a rotated X-Forwarded-For resets nothing; counters live in the shared cache (database or Redis,
never per-process memory), and API_THROTTLE_RATES applies in every profile."""
import json
import os
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.test import Client, RequestFactory, override_settings

from common.api.throttling import (  # also connects the rate reload on settings changes
    ScopedIPThrottle,
    _redis_window,
    client_ip,
)
from lending.models import SiweNonce
from tests.conftest import require_service
from tests.factories import api_client, make_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rates(settings):
    def set_rates(**scopes):
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**current, **scopes}}
    return set_rates


def _token(client, username="nobody", **extra):
    return client.post("/api/v1/auth/token/", {"username": username, "password": "whatever-123"}, format="json",
                       **extra)


@pytest.mark.django_db
def test_rotating_x_forwarded_for_does_not_reset_the_api_throttle(rates):
    rates(auth="3/min")
    client = api_client()
    codes = [_token(client, f"user{i}", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.9.0.{i}").status_code
             for i in range(4)]
    assert codes == [401, 401, 401, 429]
    r = _token(client, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert r.status_code == 429 and r.json()["error"]["code"] == "throttled" and r["Retry-After"]
    assert _token(client, REMOTE_ADDR="198.51.100.9").status_code == 401  # another address has its own budget


@pytest.mark.django_db
def test_with_one_trusted_proxy_the_last_forwarded_hop_is_the_client(rates, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    rates(auth="2/min")
    client = api_client()
    # The proxy (REMOTE_ADDR) appends the address it saw; whatever the client put before that is ignored.
    codes = [_token(client, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.1.1.{i}, 203.0.113.10").status_code
             for i in range(3)]
    assert codes == [401, 401, 429]
    assert _token(client, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.10, 198.51.100.10"
                  ).status_code == 401


def test_client_ip_rule():
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 7.7.7.7 , 203.0.113.1")
    with override_settings(TRUSTED_PROXY_COUNT=0):
        assert client_ip(request) == "10.0.0.2"
    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert client_ip(request) == "203.0.113.1"
        assert client_ip(factory.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"
    with override_settings(TRUSTED_PROXY_COUNT=2):
        assert client_ip(request) == "7.7.7.7"
    # DRF's None would trust the header; its own rule gets the same count.
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXY_COUNT is not None
    assert settings.AXES_CLIENT_IP_CALLABLE == "common.api.throttling.client_ip"


@pytest.mark.django_db
def test_html_login_is_throttled_per_client_address(rates):
    rates(auth="3/min")
    users = [make_user() for _ in range(4)]
    attacker = Client(REMOTE_ADDR="203.0.113.11")
    codes = [attacker.post("/login/", {"username": u.username, "password": "guess-123"},
                           HTTP_X_FORWARDED_FOR=f"10.1.0.{i}").status_code for i, u in enumerate(users)]
    assert codes == [200, 200, 200, 429]
    owner = Client(REMOTE_ADDR="198.51.100.11")
    r = owner.post("/login/", {"username": users[3].username, "password": "correct-horse-9"})
    assert r.status_code == 302 and "_auth_user_id" in owner.session


@pytest.mark.django_db
def test_siwe_nonce_is_throttled_per_client_address(rates):
    rates(auth="3/min")
    client = api_client()
    codes = [client.get("/api/v1/auth/siwe/nonce/", REMOTE_ADDR="203.0.113.12",
                        HTTP_X_FORWARDED_FOR=f"10.2.0.{i}").status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert SiweNonce.objects.count() == 3  # refused requests store nothing
    assert client.get("/api/v1/auth/siwe/nonce/", REMOTE_ADDR="198.51.100.12").status_code == 200


def test_throttle_cache_is_shared_not_per_process():
    backend = settings.CACHES["default"]["BACKEND"]
    assert backend in ("django.core.cache.backends.db.DatabaseCache", "common.cache.RedisCache")
    assert "locmem" not in type(caches["default"]).__module__


CHECK = """
import django
django.setup()
from django.test import RequestFactory
from common.api.throttling import ScopedIPThrottle

class View:
    throttle_scope = "auth"

request = RequestFactory().post("/api/v1/auth/token/", REMOTE_ADDR="{ip}")
print("allowed" if ScopedIPThrottle().allow_request(request, View()) else "throttled")
"""


def _other_process(ip: str, **env) -> str:
    run = subprocess.run([sys.executable, "-c", CHECK.replace("{ip}", ip)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120,
                         env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
                              "API_THROTTLE_RATES": "auth=2/min", **env})
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def _spend_budget(ip: str) -> None:
    class View:
        throttle_scope = "auth"

    request = RequestFactory().post("/api/v1/auth/token/", REMOTE_ADDR=ip)
    assert [ScopedIPThrottle().allow_request(request, View()) for _ in range(3)] == [True, True, False]


@pytest.mark.django_db(transaction=True)
def test_a_second_process_sees_the_count_in_the_database_cache(rates):
    rates(auth="2/min")
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.3"
    _spend_budget(ip)
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = url.replace("@", f":{db['PASSWORD']}@", 1)
    assert _other_process(ip, TEST_DATABASE_URL=url) == "throttled"
    assert _other_process("10.254.254.254", TEST_DATABASE_URL=url) == "allowed"


def test_a_second_process_sees_the_count_in_redis(rates, settings):
    require_service("Redis", 6379)
    redis_url = settings.CELERY_BROKER_URL  # the test profile's own Redis database (TEST_CELERY_BROKER_URL)
    settings.CACHES = {"default": {"BACKEND": "common.cache.RedisCache", "LOCATION": redis_url}}
    rates(auth="2/min")
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.4"
    try:
        _spend_budget(ip)
        assert _other_process(ip, REDIS_URL=redis_url) == "throttled"
    finally:
        _redis_forget(f"throttle_auth-ip_{ip}")


def _redis_forget(key: str) -> None:
    client, window = _redis_window(key)
    client.delete(window)


@pytest.fixture
def redis_cache(settings):
    """Production's Redis cache (the test profile's own Redis database)."""
    require_service("Redis", 6379)
    settings.CACHES = {"default": {"BACKEND": "common.cache.RedisCache", "LOCATION": settings.CELERY_BROKER_URL}}


class _Auth:
    throttle_scope = "auth"


def _auth_request(ip: str):
    return RequestFactory().post("/api/v1/auth/token/", REMOTE_ADDR=ip)


def test_on_redis_requests_at_once_cannot_share_the_last_slot(redis_cache, rates):
    """Checked and counted in one step: 24 requests in parallel against a budget of 5 pass exactly 5 (DRF's read,
    decide, write back lets two requests both take the last slot)."""
    rates(auth="5/min")
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.5"
    barrier = threading.Barrier(24)

    def attempt(_):
        barrier.wait()
        return ScopedIPThrottle().allow_request(_auth_request(ip), _Auth())

    try:
        with ThreadPoolExecutor(24) as pool:
            results = list(pool.map(attempt, range(24)))
        assert results.count(True) == 5
    finally:
        _redis_forget(f"throttle_auth-ip_{ip}")


def test_on_redis_the_window_slides_and_refusals_are_not_counted(redis_cache, rates, monkeypatch):
    rates(auth="2/min")
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.6"
    clock = iter([1000.0, 1001.0, 1002.0, 1030.0, 1060.5, 1060.9])
    monkeypatch.setattr(ScopedIPThrottle, "timer", lambda self: next(clock))
    try:
        answers, waits = [], []
        for _ in range(6):
            throttle = ScopedIPThrottle()
            answers.append(throttle.allow_request(_auth_request(ip), _Auth()))
            waits.append(throttle.wait())
        # two pass; refused at 1002 and 1030 (uncounted); at 1060.5 the request of 1000 has left the window
        assert answers == [True, True, False, False, True, False]
        assert waits[2] == pytest.approx(58.0)  # DRF's answer: the oldest leaves at 1060
        assert waits[3] == pytest.approx(30.0)
    finally:
        _redis_forget(f"throttle_auth-ip_{ip}")


def test_with_redis_away_requests_are_served_and_it_is_logged(settings, rates, caplog):
    settings.CACHES = {"default": {"BACKEND": "common.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    rates(auth="1/min")
    throttle = ScopedIPThrottle()
    assert throttle.allow_request(_auth_request("10.0.0.7"), _Auth()) is True
    assert "throttle store unavailable" in caplog.text


def _profile_settings(module: str, **env) -> dict:
    code = ("import json, django; from django.conf import settings; "
            "print(json.dumps({'rates': settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'], "
            "'proxies': settings.REST_FRAMEWORK['NUM_PROXIES'], 'cache': settings.CACHES['default']['BACKEND']}))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "DJANGO_SETTINGS_MODULE": module, **env})
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_api_throttle_rates_apply_in_the_test_and_production_profiles():
    env = {"API_THROTTLE_RATES": "anon=7/min,auth=3/min,actions=5/sec", "TRUSTED_PROXY_COUNT": "1"}
    test = _profile_settings("config.settings.test", **env)
    assert test["rates"] == {"anon": "7/min", "user": "100000/min", "auth": "3/min", "actions": "5/sec"}
    assert test["proxies"] == 1
    prod = _profile_settings("config.settings.production", SECRET_KEY="x" * 50, ALLOWED_HOSTS="example.com",
                             DATABASE_URL="postgres://u@127.0.0.1:5432/none", REDIS_URL="redis://127.0.0.1:6379/12",
                             **env)
    assert prod["rates"] == {"anon": "7/min", "user": "1200/min", "auth": "3/min", "actions": "5/sec"}
    assert prod["proxies"] == 1 and prod["cache"] == "common.cache.RedisCache"
    assert _profile_settings("config.settings.test", API_THROTTLE_RATES="", TRUSTED_PROXY_COUNT="0")["proxies"] == 0
