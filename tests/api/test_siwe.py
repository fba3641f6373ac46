"""GET /api/v1/auth/siwe/nonce/ and POST /api/v1/auth/siwe/verify/"""
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account as EthAccount
from eth_account.messages import encode_defunct

from lending.models import Account, SiweNonce
from tests.factories import api_client

pytestmark = pytest.mark.django_db
KEY = EthAccount.create("test entropy")


def siwe_message(nonce: str, domain: str = "testserver", chain_id: int = 1) -> str:
    issued = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return (f"{domain} wants you to sign in with your Ethereum account:\n{KEY.address}\n\nSign in to the simulator."
            f"\n\nURI: http://{domain}/\nVersion: 1\nChain ID: {chain_id}\nNonce: {nonce}\nIssued At: {issued}")


def sign(message: str) -> str:
    return "0x" + KEY.sign_message(encode_defunct(text=message)).signature.hex().removeprefix("0x")


def nonce() -> str:
    value = api_client().get("/api/v1/auth/siwe/nonce/").json()["nonce"]
    assert len(value) >= 8 and value.isalnum()
    return value


def verify(message, signature):
    return api_client().post("/api/v1/auth/siwe/verify/", {"message": message, "signature": signature},
                             format="json")


def test_sign_in_creates_an_account_and_the_nonce_is_single_use():
    message = siwe_message(nonce(), chain_id=8453)  # any chain id is accepted
    r = verify(message, sign(message))
    assert r.status_code == 200, r.content
    token = r.json()["token"]
    assert Account.objects.get(eth_address=KEY.address.lower())
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/account/").status_code == 200
    again = verify(message, sign(message))
    assert again.status_code == 401 and again.json()["error"]["code"] == "invalid_nonce"


def test_wrong_domain_unknown_nonce_bad_signature_expired():
    m = siwe_message(nonce(), domain="evil.example")
    assert verify(m, sign(m)).json()["error"]["code"] == "domain_mismatch"
    m = siwe_message("abcdefgh12345")
    assert verify(m, sign(m)).json()["error"]["code"] == "invalid_nonce"
    m = siwe_message(nonce())
    other = EthAccount.create("other").sign_message(encode_defunct(text=m)).signature.hex()
    r = verify(m, "0x" + other.removeprefix("0x"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_signature"
    n = nonce()
    SiweNonce.objects.filter(nonce=n).update(created_at=datetime.now(UTC) - timedelta(hours=1))
    m = siwe_message(n)
    assert verify(m, sign(m)).json()["error"]["code"] == "invalid_nonce"


@pytest.mark.parametrize("body, field", [({"message": "hello", "signature": "0x" + "ab" * 65}, "message"),
                                         ({"message": "x", "signature": "nope"}, "signature"),
                                         ({"signature": "0x" + "ab" * 65}, "message")])
def test_malformed(body, field):
    r = api_client().post("/api/v1/auth/siwe/verify/", body, format="json")
    assert r.status_code == 400 and r.json()["error"]["field"] == field
