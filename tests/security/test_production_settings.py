"""The production profile says which variable is missing, refuses ALLOWED_HOSTS=*, passes
`check --deploy` with no warning (a year of HSTS with subdomains and preload, SSL redirect, secure cookies)
and relaxes TLS only on an explicit loopback opt-in."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READ = ("import django; django.setup(); from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS,"
        " s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.DEBUG)")


@pytest.fixture
def env(tmp_path):
    unset = ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "DJANGO_DEBUG", "DJANGO_ALLOW_INSECURE_LOOPBACK")
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return {**base, "DJANGO_SETTINGS_MODULE": "config.settings.production", "VAR_DIR": str(tmp_path),
            "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "example.com",
            "DATABASE_URL": os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")}


def run(env, *args, code=READ):
    cmd = [sys.executable, *args] if args else [sys.executable, "-c", code]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
@pytest.mark.parametrize("value", [None, "", "  "])
def test_a_missing_variable_is_named(env, name, value):
    if value is None:
        del env[name]
    else:
        env[name] = value
    result = run(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and f"needs the {name} environment variable" in result.stderr
    assert "KeyError" not in result.stderr


@pytest.mark.parametrize("hosts", ["*", "example.com,*", " * "])
def test_allowed_hosts_star_is_refused(env, hosts):
    env["ALLOWED_HOSTS"] = hosts
    result = run(env)
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr and "ALLOWED_HOSTS=*" in result.stderr


def test_check_deploy_passes_with_strict_transport_settings(env):
    result = run(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    hsts, subdomains, preload, redirect, session_secure, csrf_secure, debug = run(env).stdout.split()
    assert int(hsts) >= 365 * 24 * 3600
    assert (subdomains, preload, redirect, session_secure, csrf_secure, debug) == (
        "True", "True", "True", "True", "True", "False")


def test_insecure_loopback_only_on_explicit_opt_in(env):
    env["DJANGO_DEBUG"] = "1"  # never turns debug on in production
    assert run(env).stdout.split()[3:] == ["True", "True", "True", "False"]
    env.update(DJANGO_ALLOW_INSECURE_LOOPBACK="1", ALLOWED_HOSTS="127.0.0.1,localhost")
    assert run(env).stdout.split()[3:] == ["False", "False", "False", "False"]
    env["ALLOWED_HOSTS"] = "example.com"  # not loopback: refused
    result = run(env)
    assert result.returncode != 0 and "DJANGO_ALLOW_INSECURE_LOOPBACK" in result.stderr
