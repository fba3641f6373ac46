"""The SQL an action and the account read cost (bench: the load run's CPU is mostly these statements): a
ceiling each, so a new query on the hot path shows up here rather than as a slower load run."""
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import api_client, make_borrower

pytestmark = pytest.mark.django_db

# today's counts of the statements that do work (the idempotency claim, the locks, the ledger, the answer read
# after the commit), leaving out transaction control and the throttles' cache (the database's, in tests)
CEILINGS = {"faucet": 17, "supply": 19, "borrow": 22, "repay": 19}


def statements(client, method, path, body=None, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(path, body, format="json", **headers)
    assert response.status_code == 200, response.content[:300]
    return [q["sql"] for q in queries.captured_queries
            if "django_cache" not in q["sql"] and not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


@pytest.mark.parametrize("action, amount", [("faucet", "5"), ("supply", "5"), ("borrow", "5"), ("repay", "5")])
def test_an_action_stays_within_its_statements(action, amount):
    client = api_client(make_borrower())
    client.get("/api/v1/account/")  # the token and the account exist
    sql = statements(client, "post", f"/api/v1/account/{action}/", {"asset": "USDC", "amount": amount},
                     HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert len(sql) <= CEILINGS[action], "\n".join(s[:120] for s in sql)
    # claimed before acting: the key's row is the transaction's first write, with no read of it before
    first_write = next(i for i, s in enumerate(sql) if s.startswith(("INSERT", "UPDATE")))
    assert "idempotencyrecord" in sql[first_write]
    assert not any("idempotencyrecord" in s for s in sql[:first_write] if s.startswith("SELECT"))
    assert sum(s.startswith('SELECT "markets_asset"') for s in sql) == 1  # resolved once, by the serializer


def test_the_account_read_stays_within_six_statements():
    client = api_client(make_borrower())
    client.get("/api/v1/account/")
    sql = statements(client, "get", "/api/v1/account/")
    assert len(sql) <= 6, "\n".join(s[:120] for s in sql)  # token, account, positions, feeds, policies, wallet


def test_with_the_read_cache_the_account_read_is_three_statements(read_cache):
    """Production's read cache (common.readcache): the token's user and the oracle's feeds and policies come from
    Redis and the process's memory, leaving the account's own rows."""
    client = api_client(make_borrower())
    client.get("/api/v1/account/")
    sql = statements(client, "get", "/api/v1/account/")
    assert len(sql) == 3, "\n".join(s[:120] for s in sql)  # account, positions, wallet
    assert not any("authtoken" in s or "oracles_" in s for s in sql)
