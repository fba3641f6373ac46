"""GET /healthz, /api/v1/schema/, /api/v1/docs/"""
import pytest

from tests.factories import api_client

pytestmark = pytest.mark.django_db


def test_healthz_names_database_broker_and_worker():
    body = api_client().get("/healthz").json()
    assert body["database"]["ok"] is True
    assert {"database", "broker", "worker"} <= set(body)


def test_schema_and_docs_served_without_cdn():
    schema = api_client().get("/api/v1/schema/?format=json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/account/borrow/" in schema["paths"]
    docs = api_client().get("/api/v1/docs/").content.decode()
    assert "cdn" not in docs.lower() and "/static/" in docs
