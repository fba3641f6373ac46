"""GET /healthz, /api/v1/schema/, /api/v1/docs/"""
import pytest

from tests.factories import api_client

pytestmark = pytest.mark.django_db


def test_healthz_names_database_broker_and_worker():
    body = api_client().get("/healthz").json()
    assert body["database"]["ok"] is True
    assert {"database", "broker", "worker"} <= set(body)


def test_healthz_is_ok_only_with_a_fresh_worker_heartbeat():
    from datetime import timedelta

    from django.utils import timezone

    from common.models import Heartbeat

    r = api_client().get("/healthz")  # no worker has ever reported in
    assert r.status_code == 503 and r.json()["status"] == "degraded" and r.json()["worker"]["ok"] is False
    Heartbeat.objects.update_or_create(name="worker", defaults={"at": timezone.now() - timedelta(minutes=5)})
    assert api_client().get("/healthz").status_code == 503  # a stale heartbeat: the worker is gone
    Heartbeat.objects.filter(name="worker").update(at=timezone.now())
    r = api_client().get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["broker"]["ok"] is True


def test_healthz_is_503_when_the_broker_is_down(settings):
    from django.utils import timezone

    from common.models import Heartbeat
    from config.celery_app import app

    Heartbeat.objects.update_or_create(name="worker", defaults={"at": timezone.now()})
    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        r = api_client().get("/healthz")
    finally:
        app.conf.broker_url = old
    assert r.status_code == 503 and r.json()["broker"]["ok"] is False and r.json()["database"]["ok"] is True


def test_schema_and_docs_served_without_cdn():
    schema = api_client().get("/api/v1/schema/?format=json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/account/borrow/" in schema["paths"]
    docs = api_client().get("/api/v1/docs/").content.decode()
    assert "cdn" not in docs.lower() and "/static/" in docs
