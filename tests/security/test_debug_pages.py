"""Django's debug pages (source, settings, the broker URL, every route) only when DJANGO_DEBUG=1 asks for them;
otherwise the app's own 404 and 500 pages, and JSON errors under /api/."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template
from django.test import Client

from tests.factories import make_universe

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def run_python(code: str, tmp_path, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DJANGO_DEBUG", "DJANGO_SETTINGS_MODULE")}
    base.update({"VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings.dev", **env})
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True,
                          timeout=120)


def test_debug_is_off_unless_asked_for(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    assert run_python(code, tmp_path).stdout.strip() == "False"
    assert run_python(code, tmp_path, DJANGO_DEBUG="0").stdout.strip() == "False"
    assert run_python(code, tmp_path, DJANGO_DEBUG="1").stdout.strip() == "True"


def test_static_files_are_served_with_debug_off(tmp_path):
    """make run collects static files and WhiteNoise serves them (CSS, htmx, uPlot) with DEBUG off."""
    collected = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT,
                               env={**os.environ, "VAR_DIR": str(tmp_path),
                                    "DJANGO_SETTINGS_MODULE": "config.settings.dev"},
                               capture_output=True, text=True, timeout=120)
    assert collected.returncode == 0, collected.stderr
    code = ("import django; django.setup(); from django.test import Client; c = Client(); print([c.get(p).status_code"
            " for p in ('/static/frontend/app.css', '/static/vendor/htmx/htmx.min.js',"
            " '/static/vendor/uplot/uPlot.iife.min.js', '/static/frontend/chart.js')])")
    result = run_python(code, tmp_path)
    assert result.stdout.strip() == "[200, 200, 200, 200]", result.stderr[-2000:]


def test_unknown_page_gets_the_apps_404_without_routes():
    r = Client().get("/no-such-page/")
    body = r.content.decode()
    assert r.status_code == 404 and "Page not found" in body and "frontend/app.css" in body
    for leak in ("URLconf", "api/v1/", "admin/", "Django tried these URL patterns", "DEBUG = True"):
        assert leak not in body.replace('href="/api/v1/docs/"', ""), leak


def test_unknown_api_path_stays_json():
    r = Client().get("/api/v1/no-such-endpoint/")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def boom(*args, **kwargs):
    raise RuntimeError(f"kaboom with {settings.CELERY_BROKER_URL} and {settings.SECRET_KEY}")


def assert_no_leak(body: str):
    for leak in ("Traceback", "kaboom", settings.CELERY_BROKER_URL, settings.SECRET_KEY, "RuntimeError",
                 "DATABASES", "frontend/views.py"):
        assert leak not in body, leak


def test_a_page_error_gets_the_apps_500(monkeypatch):
    make_universe()
    monkeypatch.setattr("frontend.status.market_selectors.market_list", boom)
    r = Client(raise_request_exception=False).get("/")
    body = r.content.decode()
    assert r.status_code == 500 and "Something went wrong" in body and "frontend/app.css" in body
    assert_no_leak(body)


def test_an_api_error_stays_json(monkeypatch):
    monkeypatch.setattr("oracles.api.views.selectors.oracle_reads", boom)
    r = Client(raise_request_exception=False).get("/api/v1/oracle/prices/")
    assert r.status_code == 500 and r.json()["error"]["code"] == "server_error"
    assert_no_leak(r.content.decode())


def test_the_500_page_needs_no_database_or_context(django_assert_num_queries):
    with django_assert_num_queries(0):
        body = get_template("500.html").render()
    assert "Something went wrong" in body and "<script" not in body
