"""Structured logs: one JSON object a line, with the request id and task id, and never a secret."""
import json
import logging

import pytest
from django.test import override_settings

from common.logs import JsonFormatter, redact, request_id_var, task_id_var
from common.signals import task_finished, task_started
from tests.factories import api_client

SECRET_TOKEN = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"


def line(msg, *args, **extra) -> dict:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, None)
    for k, v in extra.items():
        setattr(record, k, v)
    text = JsonFormatter().format(record)
    assert "\n" not in text
    return json.loads(text)


@pytest.mark.parametrize("text", [
    f"Authorization: Token {SECRET_TOKEN}",
    f"header Bearer {SECRET_TOKEN}",
    f"Cookie: sessionid={SECRET_TOKEN}; csrftoken=abc",
    f'{{"username": "bob", "password": "{SECRET_TOKEN}"}}',
    f"password={SECRET_TOKEN}&next=/",
    f"broker redis://user:{SECRET_TOKEN}@10.0.0.1:6379/0 down",
    f"amqp://guest:{SECRET_TOKEN}@rabbit:5672// refused",
])
def test_secrets_never_reach_a_line(text):
    out = line("seen: %s", text)
    assert SECRET_TOKEN not in json.dumps(out) and "[REDACTED]" in out["message"]


def test_extra_fields_with_secret_names_are_redacted_and_others_kept():
    out = line("login", headers={"Authorization": f"Token {SECRET_TOKEN}", "Accept": "json"},
               password=SECRET_TOKEN, route="account")
    assert out["password"] == "[REDACTED]" and out["headers"]["Authorization"] == "[REDACTED]"
    assert out["headers"]["Accept"] == "json" and out["route"] == "account"


@override_settings(SECRET_KEY="a-very-secret-signing-key-xyz", METRICS_TOKEN="scrape-me-secretly")
def test_configured_secret_values_are_blanked_anywhere():
    assert "a-very-secret-signing-key-xyz" not in redact("key is a-very-secret-signing-key-xyz!")
    assert "scrape-me-secretly" not in line("got %s", "scrape-me-secretly")["message"]


def test_a_remembered_short_text_follows_a_change_of_the_secrets():
    text = "sig rotated-signing-key-123 ok"
    assert redact(text) == redact(text) == text  # remembered: nothing in it is a secret yet
    with override_settings(SECRET_KEY="rotated-signing-key-123"):
        assert redact(text) == "sig [REDACTED] ok"
    assert redact(text) == text


def test_request_and_task_ids_are_carried():
    token = request_id_var.set("req-1")
    try:
        assert line("x")["request_id"] == "req-1"
    finally:
        request_id_var.reset(token)

    class Task:
        name = "lending.scan_accounts"

    task_started(task_id="task-1", task=Task())
    assert line("in task")["task_id"] == "task-1"
    task_finished(task_id="task-1", task=Task(), state="SUCCESS")
    assert task_id_var.get() is None


@pytest.mark.django_db
@override_settings(LOG_REQUESTS=True)
def test_request_id_kept_when_sane_replaced_when_not_and_logged(caplog):
    caplog.set_level(logging.INFO, logger="http.access")
    r = api_client().get("/api/v1/assets/", HTTP_X_REQUEST_ID="abc-123.XYZ")
    assert r["X-Request-ID"] == "abc-123.XYZ"
    bad = api_client().get("/api/v1/assets/", HTTP_X_REQUEST_ID="x" * 300 + "\n<script>")
    assert len(bad["X-Request-ID"]) == 32 and "<" not in bad["X-Request-ID"]
    access = [rec for rec in caplog.records if rec.name == "http.access"]
    assert [rec.route for rec in access] == ["asset-list", "asset-list"]
    out = json.loads(JsonFormatter().format(access[0]))
    assert out["request_id"] == "abc-123.XYZ" and out["status"] == 200 and out["method"] == "GET"
