"""Sign-In with Ethereum pre-hijack: an address lives in Account.eth_address (unique, lowercase), never in a
username. Address-like usernames are refused (API and HTML), a wallet's first sign-in makes a new "wallet-"
user whatever password accounts exist, a password account links a wallet only by signing with it while signed
in, and addresses are shown EIP-55 checksummed."""
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from eth_account import Account as EthAccount
from eth_account.messages import encode_defunct
from rest_framework.authtoken.models import Token

from lending.models import Account, SiweNonce
from tests.factories import api_client, make_user

pytestmark = pytest.mark.django_db
VICTIM = EthAccount.create("victim wallet")
OTHER = EthAccount.create("another wallet")
PASSWORD = "correct-horse-battery-9"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def siwe_message(key, nonce: str, domain: str = "testserver") -> str:
    issued = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return (f"{domain} wants you to sign in with your Ethereum account:\n{key.address}\n\nSign in to the simulator."
            f"\n\nURI: http://{domain}/\nVersion: 1\nChain ID: 1\nNonce: {nonce}\nIssued At: {issued}")


def signed(key, domain: str = "testserver") -> dict:
    message = siwe_message(key, api_client().get("/api/v1/auth/siwe/nonce/").json()["nonce"], domain)
    signature = "0x" + key.sign_message(encode_defunct(text=message)).signature.hex().removeprefix("0x")
    return {"message": message, "signature": signature}


def sign_in(key):
    return api_client().post("/api/v1/auth/siwe/verify/", signed(key), format="json")


def link(client, key, **kwargs):
    return client.post("/api/v1/auth/siwe/link/", signed(key, **kwargs), format="json")


def snapshot():
    return (sorted(get_user_model().objects.values_list("pk", "username", "password", "is_active")),
            sorted(Account.objects.values_list("pk", "user_id", "eth_address")),
            sorted(Token.objects.values_list("user_id", "key")))


def address_like_names():
    a = VICTIM.address  # checksummed
    return [a, a.lower(), "0x" + a[2:].upper(), "0X" + a[2:].lower(), "０ｘ" + a[2:].lower(), " " + a.lower(),
            "0xdeadbeef", "0x", "0Xfoo"]


@pytest.mark.parametrize("username", address_like_names())
def test_address_like_usernames_are_refused_on_both_forms(username):
    before = snapshot()
    r = api_client().post("/api/v1/auth/register/", {"username": username, "password": PASSWORD}, format="json")
    assert r.status_code == 400, r.content
    assert r.json()["error"]["field"] == "username"
    if len(username.strip()) >= 3:  # shorter ones fail the length rule first
        assert r.json()["error"]["code"] == "username_looks_like_address"
    client = Client()
    r = client.post("/register/", {"username": username, "password1": PASSWORD, "password2": PASSWORD})
    assert r.status_code == 400 and "_auth_user_id" not in client.session
    assert snapshot() == before


def test_the_victims_first_sign_in_makes_its_own_account_not_the_squatters():
    attacker = make_user("mallory", password=PASSWORD)
    # a squatter that got the address as a username before the fix (made here directly)
    legacy = make_user(VICTIM.address.lower(), password=PASSWORD)
    attacker_token = api_client().post("/api/v1/auth/token/", {"username": "mallory", "password": PASSWORD},
                                       format="json").json()["token"]
    r = sign_in(VICTIM)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["address"] == VICTIM.address  # checksummed
    victim = Token.objects.select_related("user").get(key=body["token"]).user
    assert victim.pk not in (attacker.pk, legacy.pk) and body["token"] != attacker_token
    assert victim.username.startswith("wallet-") and not victim.username.lower().startswith("0x")
    assert not victim.has_usable_password()
    assert Account.objects.get(user=victim).eth_address == VICTIM.address.lower()
    assert Account.objects.get(user=attacker).eth_address is None
    assert Account.objects.get(user=legacy).eth_address is None
    # the next sign-in finds the same account by the address field
    again = sign_in(VICTIM)
    assert again.status_code == 200 and again.json()["token"] == body["token"]
    assert Account.objects.filter(eth_address=VICTIM.address.lower()).count() == 1


def test_a_password_account_links_a_wallet_by_signing_and_then_signs_in_with_it():
    user = make_user("alice", password=PASSWORD)
    client = api_client(user)
    assert api_client().post("/api/v1/auth/siwe/link/", signed(VICTIM), format="json").status_code == 401
    r = link(client, VICTIM)
    assert r.status_code == 200, r.content
    assert r.json() == {"address": VICTIM.address}
    assert Account.objects.get(user=user).eth_address == VICTIM.address.lower()
    assert client.get("/api/v1/account/").json()["address"] == VICTIM.address
    assert link(client, VICTIM).status_code == 200  # linking again is harmless
    token = sign_in(VICTIM).json()["token"]
    assert Token.objects.get(key=token).user_id == user.pk
    # and the account page shows the checksummed address
    page = Client()
    page.force_login(user, backend=MODEL_BACKEND)
    assert VICTIM.address in page.get("/").content.decode()


def test_a_session_signed_in_user_links_too():
    user = make_user("bob", password=PASSWORD)
    client = api_client()
    client.force_login(user, backend=MODEL_BACKEND)
    r = link(client, OTHER)
    assert r.status_code == 200 and r.json() == {"address": OTHER.address}
    assert Account.objects.get(user=user).eth_address == OTHER.address.lower()


def test_linking_an_address_held_by_another_account_is_a_conflict_and_changes_nothing():
    owner_token = sign_in(VICTIM).json()["token"]
    owner = Token.objects.get(key=owner_token).user
    other = api_client(make_user("eve", password=PASSWORD))
    before = snapshot()
    r = link(other, VICTIM)
    assert r.status_code == 409 and r.json()["error"]["code"] == "address_linked_elsewhere"
    assert snapshot() == before
    assert Account.objects.get(user=owner).eth_address == VICTIM.address.lower()
    assert Token.objects.get(key=sign_in(VICTIM).json()["token"]).user_id == owner.pk


def test_link_follows_the_verify_rules():
    user = make_user("frank", password=PASSWORD)
    client = api_client(user)
    before = snapshot()
    r = link(client, VICTIM, domain="evil.example")
    assert r.status_code == 401 and r.json()["error"]["code"] == "domain_mismatch"
    body = signed(VICTIM)
    body["signature"] = "0x" + OTHER.sign_message(encode_defunct(text=body["message"])).signature.hex() \
        .removeprefix("0x")
    r = client.post("/api/v1/auth/siwe/link/", body, format="json")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_signature"
    body = signed(VICTIM)
    assert client.post("/api/v1/auth/siwe/link/", body, format="json").status_code == 200
    Account.objects.filter(user=user).update(eth_address=None)
    replay = client.post("/api/v1/auth/siwe/link/", body, format="json")  # a nonce is single-use
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "invalid_nonce"
    assert snapshot() == before
    assert SiweNonce.objects.filter(used_at__isnull=False).count() == 1


def test_a_disabled_account_does_not_sign_in_by_wallet():
    token = sign_in(VICTIM).json()["token"]
    get_user_model().objects.filter(auth_token__key=token).update(is_active=False)
    r = sign_in(VICTIM)
    assert r.status_code == 403 and r.json()["error"]["code"] == "account_disabled"


@pytest.mark.django_db(transaction=True)
def test_migration_moves_blank_addresses_to_null_and_unlinks_password_accounts():
    """0004 on an old database: '' becomes NULL, and a wallet on an account that also has a password (a possible
    pre-hijack: someone registered the address as a username before its owner signed in) is unlinked; a wallet
    account the old SIWE made (no password) keeps its address and gets a "wallet-" username."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("lending", "0002_delete_idempotencyrecord")])
    old = executor.loader.project_state([("lending", "0002_delete_idempotencyrecord")]).apps
    OldUser, OldAccount = old.get_model("auth", "User"), old.get_model("lending", "Account")
    plain = OldAccount.objects.create(user=OldUser.objects.create(username="plain", password="x$y"), eth_address="")
    squatted = OldAccount.objects.create(
        user=OldUser.objects.create(username=VICTIM.address.lower(), password="pbkdf2_sha256$1$s$h"),
        eth_address=VICTIM.address.lower())
    wallet = OldAccount.objects.create(user=OldUser.objects.create(username=OTHER.address.lower(), password=""),
                                       eth_address=OTHER.address.lower())
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert Account.objects.get(pk=plain.pk).eth_address is None
    assert Account.objects.get(pk=squatted.pk).eth_address is None
    assert Account.objects.get(pk=wallet.pk).eth_address == OTHER.address.lower()
    renamed = Account.objects.select_related("user").get(pk=wallet.pk).user.username
    assert renamed.startswith("wallet-")  # no username looks like an address any more
    assert get_user_model().objects.get(pk=squatted.user_id).username == VICTIM.address.lower()  # has a password
    token = sign_in(VICTIM).json()["token"]
    assert Token.objects.get(key=token).user.account.pk not in (plain.pk, squatted.pk, wallet.pk)
    assert Token.objects.get(key=sign_in(OTHER).json()["token"]).user_id == wallet.user_id
