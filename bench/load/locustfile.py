"""The load scenario (`make load`): borrowers mixing reads and actions, and staff reading the risk desk.

Users come pre-seeded (bench/load/run.py writes LOAD_USERS_FILE: one JSON object per user with its API token;
staff also get a session cookie for the server-rendered risk desk), so no request spends time on password
hashing. The price shock in the middle is sent by run.py, not by a locust user.

Every request is named by its route, so locust's table reads like /metrics. A 4xx that the API gives for a
refused action (say, a borrow beyond the borrowing power after the shock) is a correct answer, not an error:
only 5xx, timeouts and unexpected statuses count as failures."""
import itertools
import json
import os
import random
import uuid

from locust import HttpUser, between, events, task

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


class Borrower(HttpUser):
    weight = 20
    wait_time = between(0.2, 1.0)

    def on_start(self):
        me = _borrowers[next(_next) % len(_borrowers)]
        self.client.headers["Authorization"] = f"Token {me['token']}"

    def _act(self, action, body, name):
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        with self.client.post(f"/api/v1/account/{action}/", json=body, headers=headers, name=name,
                              catch_response=True) as r:
            _refusal_ok(r, 400, 409, 422)

    @task(6)
    def markets(self):
        self.client.get("/api/v1/markets/", name="market-list")

    @task(3)
    def market(self):
        self.client.get(f"/api/v1/markets/{random.choice(SYMBOLS)}/", name="market-detail")

    @task(6)
    def account(self):
        self.client.get("/api/v1/account/", name="account")

    @task(5)
    def prices(self):
        self.client.get("/api/v1/oracle/prices/", name="oracle-prices")

    @task(2)
    def price(self):
        self.client.get(f"/api/v1/oracle/prices/{random.choice(SYMBOLS)}/", name="oracle-price")

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


class RiskStaff(HttpUser):
    """Staff watching the risk desk while it happens: the pages (session cookie) and the API (token)."""

    weight = 1
    wait_time = between(1.0, 2.0)

    def on_start(self):
        me = _staff[next(_next) % len(_staff)]
        self.client.headers["Authorization"] = f"Token {me['token']}"
        self.client.cookies.set("sessionid", me["session"])

    @task(2)
    def desk(self):
        # the page reads the session; the token header is ignored by Django's views
        self.client.get("/risk/", name="risk-default")

    @task(2)
    def desk_symbol(self):
        self.client.get(f"/risk/{random.choice(RISK_SYMBOLS)}/", name="risk")

    @task(2)
    def liquidations_feed(self):
        self.client.get("/risk/liquidations/", name="risk-liquidations")

    @task(3)
    def liquidations(self):
        self.client.get("/api/v1/liquidations/", name="liquidation-list")

    @task(1)
    def audit(self):
        self.client.get("/api/v1/admin/audit/", name="admin-audit")
