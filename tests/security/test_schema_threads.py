"""/api/v1/schema/ is built once at start-up, so concurrent first requests to a fresh threaded gunicorn worker
all get 200 (drf-spectacular's lazy set-up is not thread-safe), and it is the same schema as before."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection
from django.test import RequestFactory
from drf_spectacular.views import SpectacularAPIView

from common.api.schema import CachedSpectacularAPIView, cached_schema

ROOT = Path(__file__).resolve().parents[2]


def reference(query: str = "", **headers) -> bytes:
    """What drf-spectacular's own view answers, built fresh."""
    response = SpectacularAPIView.as_view()(RequestFactory().get(f"/api/v1/schema/{query}", **headers))
    response.render()
    return response.content


def served(query: str = "", **headers):
    response = CachedSpectacularAPIView.as_view()(RequestFactory().get(f"/api/v1/schema/{query}", **headers))
    response.render()
    return response


@pytest.mark.django_db
@pytest.mark.parametrize("query, headers", [("", {}), ("?format=json", {}), ("?format=yaml", {}),
                                            ("", {"HTTP_ACCEPT": "application/vnd.oai.openapi+json"}),
                                            ("?lang=en", {})])
def test_the_cached_schema_is_identical_to_spectacular_views(query, headers):
    response = served(query, **headers)
    assert response.status_code == 200
    assert response.content == reference(query, **headers)
    assert response["Content-Disposition"] == SpectacularAPIView.as_view()(
        RequestFactory().get(f"/api/v1/schema/{query}", **headers))["Content-Disposition"]


def test_the_schema_is_built_once():
    assert cached_schema() is cached_schema()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_requests_to_a_fresh_threaded_worker_all_succeed(tmp_path):
    db = connection.settings_dict
    port = _free_port()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test", VAR_DIR=str(tmp_path),
               TEST_DATABASE_URL=f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
                                 f"{db['PORT'] or 5432}/{db['NAME']}")
    log = open(tmp_path / "gunicorn.log", "wb")
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application", "--bind",
                               f"127.0.0.1:{port}", "--workers", "1", "--threads", "8", "--timeout", "120"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:  # wait for the port only: any HTTP request would warm the worker up itself
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.05)

        def fetch(i):
            query = "?format=json" if i % 2 else ""
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/schema/{query}", timeout=60) as r:
                return query, r.status, r.read()

        with ThreadPoolExecutor(max_workers=30) as pool:
            results = list(pool.map(fetch, range(30)))
        assert [status for _, status, _ in results] == [200] * 30
        for query, _, body in results:
            assert body == reference(query)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
