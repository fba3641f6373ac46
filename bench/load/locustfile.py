"""The load scenario (`make load`): borrowers mixing reads and actions, and staff reading the risk desk.

Users come pre-seeded (bench/load/run.py writes LOAD_USERS_FILE: one JSON object per user with its API token;
staff also get a session cookie for the server-rendered risk desk), so no request spends time on password
hashing. The price shock in the middle is sent by run.py, not by a locust user.

Every request is named by its route, so locust's table reads like /metrics. A 4xx that the API gives for a
refused action (say, a borrow beyond the borrowing power after the shock) is a correct answer, not an error:
only 5xx, timeouts and unexpected statuses count as failures.

Users are locust's FastHttpUser (geventhttpclient): the same requests at a fraction of python-requests' CPU, which
matters because locust shares the machine's two cores with the app it measures."""
import itertools
import json
import os
import random
import uuid

from locust import FastHttpUser, between, events, task

USERS_FILE = os.environ.get("LOAD_USERS_FILE", "var/load/users.json")
SYMBOLS = ("TSLAx", "AAPLx", "NVDAx", "SPYx", "USDC")
RISK_SYMBOLS = ("TSLAx", "AAPLx", "NVDAx", "SPYx")
_borrowers: list[dict] = []
_staff: list[dict] = []
_next = itertools.count()


@events.init.add_listener
def _load_users(environment, **kwargs):
    with open(USERS_FILE) as fh:
        for row in json.load(fh):
            (_staff if row.get("staff") else _borrowers).append(row)


def _refusal_ok(response, *allowed):
    """Accept the API's clear refusals (4xx in its error shape) for actions; anything else fails."""
    if response.status_code < 400 or (response.status_code in allowed and "error" in (response.json() or {})):
        response.success()
    else:
        response.failure(f"HTTP {response.status_code}: {response.text[:200]}")


class Borrower(FastHttpUser):
    weight = 20
    wait_time = between(0.2, 1.0)

    def on_start(self):
        me = _borrowers[next(_next) % len(_borrowers)]
        self.auth = {"Authorization": f"Token {me['token']}"}  # sent with every request: each user has its own

    def _get(self, path, name):
        self.client.get(path, headers=self.auth, name=name)

    def _act(self, action, body, name):
        headers = {**self.auth, "Idempotency-Key": uuid.uuid4().hex}
        with self.client.post(f"/api/v1/account/{action}/", json=body, headers=headers, name=name,
                              catch_response=True) as r:
            _refusal_ok(r, 400, 409, 422)

    @task(6)
    def markets(self):
        self._get("/api/v1/markets/", "market-list")

    @task(3)
    def market(self):
        self._get(f"/api/v1/markets/{random.choice(SYMBOLS)}/", "market-detail")

    @task(6)
    def account(self):
        self._get("/api/v1/account/", "account")

    @task(5)
    def prices(self):
        self._get("/api/v1/oracle/prices/", "oracle-prices")

    @task(2)
    def price(self):
        self._get(f"/api/v1/oracle/prices/{random.choice(SYMBOLS)}/", "oracle-price")

    @task(2)
    def faucet(self):
        self._act("faucet", {"asset": "USDC", "amount": "25"}, "account-faucet")

    @task(2)
    def supply(self):
        self._act("supply", {"asset": "USDC", "amount": "10"}, "account-supply")

    @task(1)
    def borrow(self):
        self._act("borrow", {"asset": "USDC", "amount": "5"}, "account-borrow")

    @task(1)
    def repay(self):
        self._act("repay", {"asset": "USDC", "amount": "5"}, "account-repay")


class RiskStaff(FastHttpUser):
    """Staff watching the risk desk while it happens: the pages (session cookie) and the API (token)."""

    weight = 1
    wait_time = between(1.0, 2.0)

    def on_start(self):
        me = _staff[next(_next) % len(_staff)]
        # the pages read the session; Django's views ignore the token header, the API reads it first
        self.auth = {"Authorization": f"Token {me['token']}", "Cookie": f"sessionid={me['session']}"}

    def _get(self, path, name):
        self.client.get(path, headers=self.auth, name=name)

    @task(2)
    def desk(self):
        self._get("/risk/", "risk-default")

    @task(2)
    def desk_symbol(self):
        self._get(f"/risk/{random.choice(RISK_SYMBOLS)}/", "risk")

    @task(2)
    def liquidations_feed(self):
        self._get("/risk/liquidations/", "risk-liquidations")

    @task(3)
    def liquidations(self):
        self._get("/api/v1/liquidations/", "liquidation-list")

    @task(1)
    def audit(self):
        self._get("/api/v1/admin/audit/", "admin-audit")
