"""POST /api/v1/auth/register/ and /api/v1/auth/token/"""
import pytest

from tests.factories import api_client, make_user

pytestmark = pytest.mark.django_db


def test_register_then_token_then_account():
    client = api_client()
    r = client.post("/api/v1/auth/register/", {"username": "bob", "password": "long-enough-1"}, format="json")
    assert r.status_code == 201 and r.json()["token"]
    r2 = client.post("/api/v1/auth/token/", {"username": "bob", "password": "long-enough-1"}, format="json")
    assert r2.status_code == 200 and r2.json()["token"] == r.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {r2.json()['token']}")
    assert client.get("/api/v1/account/").status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"username": "x", "password": "long-enough-1"}, "username"),
    ({"username": "bob", "password": "short"}, "password"),
    ({"username": "bad name!", "password": "long-enough-1"}, "username"),
    ({"password": "long-enough-1"}, "username"),
])
def test_register_validation(body, field):
    r = api_client().post("/api/v1/auth/register/", body, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["field"] == field


def test_duplicate_username_is_a_conflict():
    make_user("carol")
    r = api_client().post("/api/v1/auth/register/", {"username": "carol", "password": "long-enough-1"},
                          format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "username_taken"


def test_wrong_password():
    make_user("dave")
    r = api_client().post("/api/v1/auth/token/", {"username": "dave", "password": "wrong-password"}, format="json")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"


def test_bad_token_is_401():
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    r = client.get("/api/v1/account/")
    assert r.status_code == 401 and "error" in r.json()
