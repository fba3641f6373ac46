"""Deeply nested JSON: a clear 400 in the error shape on every endpoint that takes a body, nothing changed."""
import io

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from common.api.errors import _first
from common.api.parsers import MAX_JSON_DEPTH, BoundedJSONParser
from common.models import AuditEntry, IdempotencyRecord
from markets.models import Reserve
from oracles.models import HaircutPolicy, OracleFeed, OracleRound
from tests.api.action_cases import snapshot
from tests.factories import api_client, make_borrower, make_user

pytestmark = pytest.mark.django_db

DEPTH = 1_000


def arrays(depth):
    return "[" * depth + "]" * depth


def objects(depth):
    return '{"a":' * depth + "1" + "}" * depth


BODIES = {
    "arrays": arrays(DEPTH),
    "objects": objects(DEPTH),
    "deep_in_a_field": '{"asset": "USDC", "amount": ' + arrays(DEPTH) + "}",
    "deep_reason": '{"reason": ' + objects(DEPTH) + ', "price": "1"}',
    "mixed": '{"x": [' * DEPTH + "null" + "]}" * DEPTH,
    "very_deep": arrays(100_000),
}

ANON = [("post", "/api/v1/auth/register/"), ("post", "/api/v1/auth/token/"), ("post", "/api/v1/auth/siwe/verify/")]
USER = [("post", f"/api/v1/account/{action}/") for action in
        ("faucet", "supply", "withdraw", "borrow", "repay", "collateral")]
STAFF = [("patch", "/api/v1/admin/markets/TSLAx/"), ("post", "/api/v1/admin/oracle/TSLAx/price/"),
         ("post", "/api/v1/admin/oracle/TSLAx/shock/"), ("patch", "/api/v1/admin/oracle/TSLAx/policy/"),
         ("patch", "/api/v1/admin/oracle/TSLAx/source/"), ("post", "/api/v1/admin/what-if/"),
         ("post", "/api/v1/admin/backtests/"), ("post", "/api/v1/admin/audit/1/revert/")]


@pytest.fixture
def world():
    user = make_borrower()
    return user, make_user(staff=True)


def state():
    return (snapshot(), get_user_model().objects.count(), Token.objects.count(), AuditEntry.objects.count(),
            OracleRound.objects.count(), IdempotencyRecord.objects.count(),
            list(Reserve.objects.order_by("pk").values_list(*Reserve.PARAMETER_FIELDS)),
            list(HaircutPolicy.objects.order_by("pk").values_list("mode", "fixed_bps", "reopen_grace_seconds")),
            list(OracleFeed.objects.order_by("pk").values_list("source", "config")))


def check(client, method, path, body, **extra):
    response = getattr(client, method)(path, data=body, content_type="application/json", **extra)
    assert response.status_code == 400, (path, response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"] == "too_deep" and str(MAX_JSON_DEPTH) in error["message"]


@pytest.mark.parametrize("name", sorted(BODIES))
def test_every_endpoint_refuses_deep_json_and_changes_nothing(world, name):
    user, staff = world
    body = BODIES[name]
    anon, as_user, as_staff = api_client(), api_client(user), api_client(staff)
    before = state()
    for method, path in ANON:
        check(anon, method, path, body)
    for method, path in USER:
        check(as_user, method, path, body)
        check(as_user, method, path, body, HTTP_IDEMPOTENCY_KEY=f"k-{name}")
    for method, path in STAFF:
        check(as_staff, method, path, body)
        check(as_staff, method, path, body, HTTP_IDEMPOTENCY_KEY=f"s-{name}")
    # the scan takes no body, but an Idempotency-Key fingerprints it
    check(as_staff, "post", "/api/v1/admin/liquidations/scan/", body, HTTP_IDEMPOTENCY_KEY=f"s-{name}")
    assert state() == before


def test_nesting_up_to_the_limit_parses_and_one_more_is_refused():
    from rest_framework.exceptions import ParseError

    parser = BoundedJSONParser()
    assert parser.parse(io.BytesIO(arrays(MAX_JSON_DEPTH).encode())) is not None
    assert parser.parse(io.BytesIO(objects(MAX_JSON_DEPTH).encode())) is not None
    for text in (arrays(MAX_JSON_DEPTH + 1), objects(MAX_JSON_DEPTH + 1)):
        with pytest.raises(ParseError) as exc:
            parser.parse(io.BytesIO(text.encode()))
        assert exc.value.get_codes() == "too_deep"


def test_a_body_at_the_limit_still_gets_the_usual_validation_error(world):
    user, _ = world
    client = api_client(user)
    before = state()
    body = '{"asset": "USDC", "amount": ' + arrays(MAX_JSON_DEPTH - 1) + "}"
    r = client.post("/api/v1/account/supply/", data=body, content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["field"] == "amount"
    assert state() == before


def test_error_flattening_and_the_handler_never_recurse():
    from rest_framework.exceptions import ErrorDetail

    from common.api.errors import exception_handler

    detail = ErrorDetail("bottom", code="deep")
    for _ in range(5_000):
        detail = {"a": [detail]}
    field, message, code = _first(detail)
    assert field.startswith("a.a.a") and (message, code) != (None, None)
    response = exception_handler(RecursionError(), {})
    assert response.status_code == 400 and response.data["error"]["code"] == "too_deep"
