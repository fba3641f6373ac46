"""Refusals raised before or outside DRF still answer in the API's error shape under /api/ (and with the site's
page elsewhere): an oversized body, a wrong Host, a CSRF failure, 400/403 handlers."""
import json

import pytest
from django.conf import settings
from django.test import Client, RequestFactory

from lending.models import LedgerEntry
from tests.api.action_cases import snapshot
from tests.factories import api_client, make_universe, make_user

pytestmark = pytest.mark.django_db
BIG = 10 * 1024 * 1024


@pytest.fixture
def user():
    make_universe()
    return make_user()


def assert_shape(response, status, code=None):
    assert response.status_code == status, (response.status_code, response.content[:200])
    assert response["Content-Type"].startswith("application/json")
    error = json.loads(response.content)["error"]
    assert set(error) == {"code", "message", "field"} and error["message"]
    if code:
        assert error["code"] == code, error


@pytest.mark.parametrize("path", ["/api/v1/account/supply/", "/api/v1/account/faucet/", "/api/v1/auth/register/",
                                  "/api/v1/auth/token/", "/api/v1/admin/what-if/"])
def test_a_10mb_json_body_is_a_413_in_the_error_shape(user, path):
    client = api_client(make_user(staff=True) if "admin" in path else user)
    before = snapshot(), LedgerEntry.objects.count()
    body = '{"asset": "USDC", "amount": "1", "pad": "' + "x" * BIG + '"}'
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert_shape(client.post(path, data=body, content_type="application/json"), 413, "payload_too_large")
    assert_shape(client.post(path, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="big"), 413,
                 "payload_too_large")
    assert (snapshot(), LedgerEntry.objects.count()) == before


def test_a_10mb_form_body_is_refused_in_the_error_shape(user):
    r = api_client(user).post("/api/v1/account/supply/", data="a=" + "x" * BIG,
                              content_type="application/x-www-form-urlencoded")
    assert_shape(r, 415)


def test_a_10mb_page_post_is_a_413_page(user):
    page = Client()
    page.force_login(user)
    r = page.post("/act/faucet/", data="amount=" + "1" * BIG, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 413 and not r["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil", "a" * 300, "bad_host", "[::1"])
def test_a_wrong_host_is_a_400_in_the_error_shape(user, host):
    client = api_client(user)
    assert_shape(client.get("/api/v1/markets/", HTTP_HOST=host), 400, "invalid_host")
    assert_shape(client.post("/api/v1/account/faucet/", {"asset": "USDC", "amount": "1"}, format="json",
                             HTTP_HOST=host), 400, "invalid_host")
    assert_shape(client.get("/api/v1/nowhere/", HTTP_HOST=host), 400, "invalid_host")
    page = Client().get("/", HTTP_HOST=host)
    assert page.status_code == 400 and not page["Content-Type"].startswith("application/json")
    assert LedgerEntry.objects.filter(kind="faucet").count() == 0


def test_a_session_post_without_csrf_is_a_403_in_the_error_shape(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    before = snapshot()
    r = client.post("/api/v1/account/faucet/", {"asset": "USDC", "amount": "1"}, content_type="application/json")
    assert_shape(r, 403)
    assert "CSRF" in r.json()["error"]["message"]
    assert snapshot() == before
    page = client.post("/act/faucet/", {"asset": "USDC", "amount": "1"})
    assert page.status_code == 403 and not page["Content-Type"].startswith("application/json")
    assert snapshot() == before


def test_the_handlers_answer_json_under_api_and_pages_elsewhere():
    from django.core.exceptions import PermissionDenied, SuspiciousOperation

    from common.views import csrf_failure, handler400, handler403

    factory = RequestFactory()
    api, site = factory.post("/api/v1/account/faucet/"), factory.post("/act/faucet/")
    assert_shape(handler400(api, SuspiciousOperation("x")), 400, "bad_request")
    assert_shape(handler403(api, PermissionDenied()), 403, "permission_denied")
    assert_shape(csrf_failure(api, reason="CSRF cookie not set."), 403, "csrf_failed")
    for response in (handler400(site, SuspiciousOperation("x")), handler403(site, PermissionDenied()),
                     csrf_failure(site, reason="CSRF cookie not set.")):
        assert response.status_code in (400, 403) and not response["Content-Type"].startswith("application/json")
    assert settings.CSRF_FAILURE_VIEW == "common.views.csrf_failure"
