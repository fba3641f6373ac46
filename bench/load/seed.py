"""Seed the load run's users fast (run by bench/load/run.py against the production profile's database).

One password hash computed once and shared (nobody logs in with it: users carry DRF tokens, staff a ready
session), users, accounts and tokens by bulk_create; then each borrower's position through the real services
(faucet, supply, borrow: the ledger and the reserves' scaled totals stay exact). A share of the borrowers
(LOAD_RISKY_SHARE) borrows 97% of its borrowing power, so the mid-run price shock liquidates them; the rest 30%.

Writes LOAD_USERS_FILE (JSON list of {username, token, staff, session, risky}) and prints a JSON summary."""
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django  # noqa: E402

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from lending import services  # noqa: E402
from lending.models import Account  # noqa: E402
from lending.selectors import account_health  # noqa: E402
from markets.models import Asset  # noqa: E402

COLLATERAL, DEBT = "TSLAx", "USDC"


def main() -> None:
    accounts = int(os.environ.get("LOAD_ACCOUNTS", "200"))
    staff_count = int(os.environ.get("LOAD_STAFF", "2"))
    risky_share = float(os.environ.get("LOAD_RISKY_SHARE", "0.3"))
    out = Path(os.environ.get("LOAD_USERS_FILE", ROOT / "var/load/users.json"))
    started = time.perf_counter()
    User = get_user_model()
    password = make_password(None)  # unusable: computed once, no hashing per user
    prefix = f"load{int(time.time()) % 100000}"
    users = User.objects.bulk_create(
        [User(username=f"{prefix}u{i:05d}", password=password) for i in range(accounts)]
        + [User(username=f"{prefix}s{i:02d}", password=password, is_staff=True) for i in range(staff_count)])
    Account.objects.bulk_create([Account(user=u) for u in users])
    tokens = Token.objects.bulk_create([Token(key=Token.generate_key(), user=u) for u in users])
    by_user = {t.user_id: t.key for t in tokens}
    account_of = dict(Account.objects.filter(user__in=users).values_list("user_id", "pk"))
    collateral, debt = Asset.objects.get(symbol=COLLATERAL), Asset.objects.get(symbol=DEBT)
    rows, risky_ids = [], []
    for i, user in enumerate(users):
        row = {"username": user.username, "token": by_user[user.pk], "staff": user.is_staff, "risky": False}
        if user.is_staff:
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            row["session"] = session.session_key
        else:
            account = Account.objects.get(pk=account_of[user.pk])
            services.account_faucet(account=account, symbol=COLLATERAL, amount=10 * collateral.unit)
            services.account_supply(account=account, symbol=COLLATERAL, amount=10 * collateral.unit)
            power = account_health(account).by_ltv.available_borrows_base  # USD, 8 decimals
            risky = i < accounts * risky_share
            share = 97 if risky else 30
            amount = power * share // 100 * debt.unit // 10**8  # USDC at $1
            if amount:
                services.account_borrow(account=account, symbol=DEBT, amount=amount)
            row["risky"] = risky
            if risky:
                risky_ids.append(account.pk)
        rows.append(row)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows))
    print(json.dumps({"accounts": accounts, "staff": staff_count, "risky_accounts": len(risky_ids),
                      "seconds": round(time.perf_counter() - started, 1), "users_file": str(out)}))


if __name__ == "__main__":
    main()
