"""common.api.authentication: the token's user through the read cache, exact to the last committed user or token
write, the password hash and the token itself kept out of the cache."""
import pickle

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from common import readcache
from tests.factories import api_client, make_universe, make_user

pytestmark = pytest.mark.django_db


def token_queries(client, path="/api/v1/account/") -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get(path).status_code
    return status, sum("authtoken_token" in q["sql"] for q in queries.captured_queries)


def test_the_second_request_reads_no_token_row(read_cache):
    make_universe()
    client = api_client(make_user())
    assert token_queries(client) == (200, 1)
    assert token_queries(client) == (200, 0)


def test_the_cache_holds_neither_the_password_hash_nor_the_token(read_cache):
    user = make_user()
    client = api_client(user)
    token = Token.objects.get(user=user).key
    assert client.get("/api/v1/account/").status_code == 200
    stored = b"".join(pickle.dumps(value) for value in readcache.cache._cache.values())
    assert user.password.encode() not in stored and token.encode() not in stored
    assert not any(token in key for key in readcache.cache._cache)


@pytest.mark.parametrize("change", ["token deleted", "user deactivated", "user deleted"])
def test_a_committed_write_is_seen_by_the_next_request(read_cache, change, django_capture_on_commit_callbacks):
    user = make_user()
    client = api_client(user)
    assert client.get("/api/v1/account/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        if change == "token deleted":
            Token.objects.filter(user=user).first().delete()
        elif change == "user deactivated":
            user.is_active = False
            user.save()
        else:
            user.delete()
    r = client.get("/api/v1/account/")
    assert r.status_code == 401 and r.json()["error"]["code"] == "authentication_failed"


def test_staff_granted_or_taken_away_counts_at_once(read_cache, django_capture_on_commit_callbacks):
    user = make_user()
    client = api_client(user)
    assert client.get("/api/v1/admin/audit/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        user.is_staff = True
        user.save()
    assert client.get("/api/v1/admin/audit/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    assert client.get("/api/v1/admin/audit/").status_code == 403


def test_an_unknown_token_is_401_and_not_cached(read_cache):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    for _ in range(2):
        status, queries = token_queries(client)
        assert (status, queries) == (401, 1)


def test_the_cached_user_saves_only_what_it_holds(read_cache):
    """Its password is deferred: a save from it never blanks the hash, and reading it fetches the real one."""
    user = make_user(password="correct-horse-9")
    client = api_client(user)
    client.get("/api/v1/account/")
    from common.api.authentication import TokenAuthentication

    cached_user, _ = TokenAuthentication().authenticate_credentials(Token.objects.get(user=user).key)
    assert "password" in cached_user.get_deferred_fields()
    cached_user.first_name = "Ada"
    cached_user.save()
    user.refresh_from_db()
    assert user.first_name == "Ada" and user.check_password("correct-horse-9")
    assert cached_user.password == user.password
