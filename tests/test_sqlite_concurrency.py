"""The embedded SQLite profile takes several writing processes at once without "database is locked"."""
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WRITER = textwrap.dedent("""
    import os, sys
    import django
    django.setup()
    from django.contrib.auth import get_user_model
    from lending import services
    from markets.services import reserves_accrue_all
    from oracles.services import round_publish
    from markets.models import Asset
    role = sys.argv[1]
    user, _ = get_user_model().objects.get_or_create(username="writer-" + role)
    account = services.account_for_user(user)
    asset = Asset.objects.get(symbol="TSLAx")
    for i in range(40):
        if role.startswith("web"):
            services.account_faucet(account=account, symbol="USDC", amount=10**6)
            services.account_supply(account=account, symbol="USDC", amount=10**6)
        elif role == "worker":
            reserves_accrue_all()
        else:
            round_publish(asset=asset, reference_price=(250 + i) * 10**8, token_price=(250 + i) * 10**8,
                          source="manual", notify=False)
    print("ok", role)
""")


def test_web_worker_and_beat_write_at_once(tmp_path):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.dev", DATABASE_URL=f"sqlite:///{tmp_path}/x.db",
               VAR_DIR=str(tmp_path), CELERY_BROKER_URL="memory://")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "load_universe"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, role], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for role in ("web", "worker", "beat", "web2")]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
        assert "database is locked" not in err
