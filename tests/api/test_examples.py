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
