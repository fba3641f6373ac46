"""The example clients run against a live server."""
import subprocess
import sys

import pytest

from tests.factories import make_universe

pytestmark = pytest.mark.django_db(transaction=True)


def test_api_client_and_siwe_examples(live_server):
    make_universe()
    for script, extra in (("examples/api_client.py", ["--minutes", "0.02", "--interval", "0.5"]),
                          ("examples/siwe_login.py", [])):
        result = subprocess.run([sys.executable, script, "--base", live_server.url, *extra], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
    assert "health factor" in subprocess.run(
        [sys.executable, "examples/api_client.py", "--base", live_server.url, "--minutes", "0"],
        capture_output=True, text=True, timeout=120).stdout
    # the watch through a close, with its deadline already past so it takes one reading
    result = subprocess.run([sys.executable, "examples/api_client.py", "--base", live_server.url, "--through-close",
                             "--after-close=-10000000"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "next close" in result.stdout and " HF " in result.stdout, result.stderr


def test_backtest_example(live_server, monkeypatch):
    """The notebook-style client queues a backtest, polls it and prints the table. The live server runs in
    this process, so the task runs there when the request commits (tests/test_worker.py uses a real worker)."""
    import threading

    from rest_framework.authtoken.models import Token

    from config.celery_app import app
    from oracles import tasks
    from tests.factories import make_user

    make_universe()
    token = Token.objects.create(user=make_user(staff=True)).key

    def run(args):
        from django.db import connection

        try:
            tasks.run_backtest.apply(args=args)
        finally:
            connection.close()  # this thread's own connection

    def run_soon(name, args=None, **kwargs):  # like a worker: later, on another thread, while the client polls
        threading.Timer(1.5, run, args=[args]).start()

    monkeypatch.setattr(app, "send_task", run_soon)
    result = subprocess.run([sys.executable, "examples/backtest_client.py", "--base", live_server.url, "--token",
                             token, "--asset", "SPYx", "--from", "2021-01-01", "--to", "2021-12-31", "--policy",
                             "none", "--policy", "fixed"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "least bad debt:" in result.stdout and "queued" in result.stderr
    bad = subprocess.run([sys.executable, "examples/backtest_client.py", "--base", live_server.url, "--token",
                          token, "--asset", "SPACEXpre"], capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "no_price_history" in bad.stderr
