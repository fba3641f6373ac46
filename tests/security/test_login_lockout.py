"""Password guessing: django-axes locks a (username, client address) after AXES_FAILURE_LIMIT failures on
both login paths, even for the right password, while the owner from another address still gets in; weak
passwords are refused at registration (API and HTML)."""
import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token

from lending.models import Account
from tests.factories import api_client, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-9"  # tests.factories.make_user's default


def _html_login(client, username, password, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_html_login_locks_the_username_and_address_even_for_the_right_password():
    victim = make_user("victim")
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    limit = settings.AXES_FAILURE_LIMIT
    codes = [_html_login(attacker, "victim", f"guess-{i}", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
             for i in range(limit)]
    assert codes == [200] * (limit - 1) + [429]  # rotating X-Forwarded-For changes nothing
    r = _html_login(attacker, "victim", PASSWORD)
    assert r.status_code == 429 and not _logged_in(attacker)
    assert "Too many login attempts" in r.content.decode() and r["Retry-After"]
    victim.refresh_from_db()
    assert victim.last_login is None and victim.check_password(PASSWORD)
    # one row per (username, address) counts the failures: the spoofed header never became the address
    assert list(AccessAttempt.objects.values_list("username", "ip_address")) == [("victim", "203.0.113.7")]

    owner = Client(REMOTE_ADDR="198.51.100.20")
    r = _html_login(owner, "victim", PASSWORD)
    assert r.status_code == 302 and _logged_in(owner)


def test_api_token_locks_with_the_api_error_shape_and_retry_after():
    make_user("victim")
    attacker = api_client()
    limit = settings.AXES_FAILURE_LIMIT
    body = {"username": "victim", "password": "wrong-guess-1"}
    codes = [attacker.post("/api/v1/auth/token/", body, format="json", REMOTE_ADDR="203.0.113.7",
                           HTTP_X_FORWARDED_FOR=f"10.0.1.{i}").status_code for i in range(limit)]
    assert codes == [401] * (limit - 1) + [429]
    r = attacker.post("/api/v1/auth/token/", {"username": "victim", "password": PASSWORD}, format="json",
                      REMOTE_ADDR="203.0.113.7")
    assert r.status_code == 429
    error = r.json()["error"]
    assert error["code"] == "locked_out" and "field" in error and "Too many failed logins" in error["message"]
    assert int(r["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert not Token.objects.exists()

    r = api_client().post("/api/v1/auth/token/", {"username": "victim", "password": PASSWORD}, format="json",
                          REMOTE_ADDR="198.51.100.20")
    assert r.status_code == 200 and Token.objects.get().key == r.json()["token"]


def test_html_and_api_failures_count_together():
    make_user("victim")
    client = Client(REMOTE_ADDR="203.0.113.8")
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _html_login(client, "victim", f"guess-{i}").status_code == 200
    r = api_client().post("/api/v1/auth/token/", {"username": "victim", "password": PASSWORD}, format="json",
                          REMOTE_ADDR="203.0.113.8")
    assert r.status_code == 200  # under the limit the right password still works, and clears the count
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("password", ["password", "12345678", "mallory-trader", "mallory-trader1"])
def test_api_register_refuses_weak_passwords(password):
    users, accounts = get_user_model().objects.count(), Account.objects.count()
    r = api_client().post("/api/v1/auth/register/", {"username": "mallory-trader", "password": password},
                          format="json")
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["field"] == "password" and error["code"] == "weak_password" and error["message"]
    assert get_user_model().objects.count() == users and Account.objects.count() == accounts
    assert not Token.objects.exists()


@pytest.mark.parametrize("password", ["password", "12345678", "mallory-trader", "mallory-trader1"])
def test_html_register_refuses_weak_passwords(password):
    users = get_user_model().objects.count()
    client = Client()
    r = client.post("/register/", {"username": "mallory-trader", "password1": password, "password2": password})
    assert r.status_code == 400 and r.context["form"].errors["password2"]
    assert get_user_model().objects.count() == users and not _logged_in(client)


def test_strong_password_still_registers():
    r = api_client().post("/api/v1/auth/register/", {"username": "sound-sam", "password": "plum-orbit-cactus-42"},
                          format="json")
    assert r.status_code == 201
