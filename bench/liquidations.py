"""Liquidation benchmark: N accounts x 5 positions, prices dropped so ~5% go under water.

Measures, in one run: (a) the set-based scan, (b) end to end until the last underwater account is
liquidated by 2 worker processes, (c) a naive ORM loop on a sample, extrapolated, (d) a numpy pass over the
same positions in memory (lower bound). Uses DATABASE_URL and CELERY_BROKER_URL; migrates first; starts and
stops its own workers. Writes bench/results/liquidations.json.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench CELERY_BROKER_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/liquidations.py --accounts 20000
"""
import argparse
import io
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Max  # noqa: E402

from config.celery_app import app  # noqa: E402
from lending.models import Account, LiquidationEvent, Position  # noqa: E402
from lending.scanner import reserve_factors, screen_accounts  # noqa: E402
from lending.selectors import account_health  # noqa: E402
from markets.models import Asset, Reserve  # noqa: E402
from oracles.models import HaircutPolicy, OracleFeed  # noqa: E402
from oracles.services import round_publish  # noqa: E402

COLLATERAL = ["TSLAx", "NVDAx", "AAPLx", "SPYx"]
DROP_BPS = 450  # a 4.5% drop puts accounts with HF < 1.047 under water: about 5% of them
E18, E6 = 10**18, 10**6


def reset_and_load(n: int, seed: int = 7) -> None:
    call_command("migrate", verbosity=0)
    call_command("load_universe", verbosity=0)
    with connection.cursor() as c:
        c.execute("DELETE FROM lending_liquidationevent")
        c.execute("DELETE FROM lending_ledgerentry WHERE account_id IN (SELECT id FROM lending_account "
                  "WHERE user_id IN (SELECT id FROM auth_user WHERE username LIKE 'bench%%'))")
        c.execute("DELETE FROM lending_walletbalance")
        c.execute("DELETE FROM lending_position WHERE account_id IN (SELECT id FROM lending_account WHERE user_id IN "
                  "(SELECT id FROM auth_user WHERE username LIKE 'bench%%'))")
        c.execute("DELETE FROM lending_account WHERE user_id IN (SELECT id FROM auth_user WHERE username LIKE "
                  "'bench%%')")
        c.execute("DELETE FROM auth_user WHERE username LIKE 'bench%%'")
    scaled_totals_from_positions()  # an earlier run's accounts are gone: so are their balances
    OracleFeed.objects.update(source="manual")
    HaircutPolicy.objects.update(mode="none")
    for sym, usd in {"TSLAx": 250, "NVDAx": 130, "AAPLx": 230, "SPYx": 580, "USDC": 1}.items():
        asset = Asset.objects.get(symbol=sym)
        round_publish(asset=asset, reference_price=usd * 10**8, token_price=usd * 10**8, source="manual",
                      notify=False)
    rng = random.Random(seed)
    reserves = {r.asset.symbol: r for r in Reserve.objects.select_related("asset")}
    prices = {"TSLAx": 250, "NVDAx": 130, "AAPLx": 230, "SPYx": 580}
    User = get_user_model()
    with transaction.atomic():
        User.objects.bulk_create([User(username=f"bench{i}", password="!") for i in range(n)], batch_size=5000)
        users = list(User.objects.filter(username__startswith="bench").order_by("id").values_list("id", flat=True))
        Account.objects.bulk_create([Account(user_id=u) for u in users], batch_size=5000)
        account_ids = list(Account.objects.filter(user_id__in=users).order_by("id").values_list("id", flat=True))
        buf = io.StringIO()
        totals = {s: [0, 0] for s in reserves}
        for acc in account_ids:
            coll_lt = 0
            for sym in COLLATERAL:
                whole = rng.randint(1, 20)
                scaled = whole * E18
                totals[sym][0] += scaled
                coll_lt += whole * prices[sym] * reserves[sym].liquidation_threshold_bps / 1e4
                buf.write(f"{acc}\t{reserves[sym].pk}\t{scaled}\t0\tt\t{float(whole)}\t0\n")
            hf = 1 + rng.random()  # HF uniform in [1, 2)
            debt = int(coll_lt / hf * E6)
            totals["USDC"][1] += debt
            buf.write(f"{acc}\t{reserves['USDC'].pk}\t0\t{debt}\tf\t0\t{debt / E6}\n")
        buf.seek(0)
        with connection.cursor() as c:
            with c.cursor.copy("COPY lending_position (account_id, reserve_id, scaled_supply, scaled_debt, "
                               "collateral_enabled, supply_shadow, debt_shadow) FROM STDIN") as copy:
                copy.write(buf.read())
        for sym, (supply, debt) in totals.items():
            r = reserves[sym]
            r.total_scaled_supply += supply
            r.virtual_balance += supply
            r.total_scaled_debt += debt
            r.virtual_balance = max(r.virtual_balance - debt, 0)
            r.save()
    with connection.cursor() as c:  # a fresh table, as a new deployment would have: no dead rows from earlier runs
        c.execute("VACUUM FULL ANALYZE lending_position")


def drop_prices() -> None:
    for sym, usd in {"TSLAx": 250, "NVDAx": 130, "AAPLx": 230, "SPYx": 580}.items():
        price = usd * 10**8 * (10_000 - DROP_BPS) // 10_000
        round_publish(asset=Asset.objects.get(symbol=sym), reference_price=price, token_price=price,
                      source="manual", notify=False)


def numpy_bound(factors) -> tuple[float, int]:
    rows = np.array(list(Position.objects.values_list("account_id", "reserve_id", "supply_shadow", "debt_shadow",
                                                      "collateral_enabled")), dtype=float)
    acc = rows[:, 0].astype(np.int64)
    _, acc_idx = np.unique(acc, return_inverse=True)
    res = rows[:, 1].astype(np.int64)
    size = max(res.max(), max(f.reserve_id for f in factors)) + 1
    cf = np.zeros(size)
    df = np.zeros(size)
    for f in factors:
        cf[f.reserve_id], df[f.reserve_id] = f.collateral, f.debt
    best = float("inf")
    under = 0
    for _ in range(5):
        t0 = time.perf_counter()
        coll = np.bincount(acc_idx, weights=rows[:, 2] * cf[res] * rows[:, 4])
        debt = np.bincount(acc_idx, weights=rows[:, 3] * df[res])
        hf = np.divide(coll, debt, out=np.full_like(coll, np.inf), where=debt > 0)
        under = int((hf < 1).sum())
        best = min(best, time.perf_counter() - t0)
    return best, under


def orm_loop(sample: int, total: int) -> float:
    ids = list(Account.objects.filter(user__username__startswith="bench").values_list("id", flat=True)[:sample])
    t0 = time.perf_counter()
    for account in Account.objects.filter(id__in=ids):
        account_health(account)
    return (time.perf_counter() - t0) / len(ids) * total


def start_workers(n: int = 2):
    procs = []
    env = dict(os.environ)
    for i in range(n):
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "WARNING", "--concurrency", "1",
             "-Q", "liquidations", "-n", f"bench{i}@%h", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, start_new_session=True))
    deadline = time.time() + 60
    while time.time() < deadline and len(app.control.ping(timeout=1) or []) < n:
        pass
    return procs


def queue_length(name: str = "liquidations") -> int:
    with app.connection_for_write() as conn:
        return conn.default_channel.client.llen(name)


def warm_up(account_ids: list[int]) -> None:
    """Running workers are warm in production: let each one import, connect and compile its market clock on
    a few healthy accounts (nothing to liquidate) before the clock starts."""
    for i in range(8):
        app.send_task("lending.liquidate_accounts", args=[account_ids[i::8], "warm-up", None, None],
                      queue="liquidations")
    deadline = time.time() + 60
    while time.time() < deadline and queue_length():
        time.sleep(0.1)
    time.sleep(1)


# Per reserve, the sums of its positions' scaled balances (what its scaled totals must equal).
POSITION_SUMS = ("(SELECT reserve_id, sum(scaled_supply) s, sum(scaled_debt) d FROM lending_position "
                 "GROUP BY reserve_id)")


def scaled_totals_from_positions() -> None:
    with connection.cursor() as c:
        c.execute("UPDATE markets_reserve r SET total_scaled_supply = coalesce(p.s, 0), "
                  f"total_scaled_debt = coalesce(p.d, 0) FROM markets_reserve r2 LEFT JOIN {POSITION_SUMS} p "
                  "ON p.reserve_id = r2.id WHERE r.id = r2.id")


def unbalanced_reserves() -> list[str]:
    """After the run: reserves whose scaled totals differ from the sum of their positions (must be none)."""
    with connection.cursor() as c:
        c.execute(f"SELECT a.symbol FROM markets_reserve r JOIN markets_asset a ON a.id = r.asset_id LEFT JOIN "
                  f"{POSITION_SUMS} p ON p.reserve_id = r.id WHERE r.total_scaled_supply <> coalesce(p.s, 0) "
                  "OR r.total_scaled_debt <> coalesce(p.d, 0) ORDER BY a.symbol")
        return [row[0] for row in c.fetchall()]


def underwater_left() -> int:
    """After the run: screened candidates whose exact HF is still below 1 (0 means every one was liquidated)."""
    from lending.liquidation import LiquidationBook

    book = LiquidationBook(account_ids=screen_accounts(), liquidator=None, treasury=None, reads=None,
                           lock_accounts=False)  # exact HFs in memory, a few queries for all of them
    return sum(1 for a in book.accounts if (hf := book.health_factor(a)) is not None and hf < E18)


def ensure_database() -> None:
    """Create the benchmark's database on a fresh server (it is the benchmark's own, dropped rows and all)."""
    import psycopg

    settings = connection.settings_dict
    params = dict(host=settings["HOST"] or None, port=settings["PORT"] or None, user=settings["USER"] or None,
                  password=settings["PASSWORD"] or None)
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]]).fetchone():
            admin.execute(f'CREATE DATABASE "{settings["NAME"]}"')
            print(f"created database {settings['NAME']}", file=sys.stderr)


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--orm-sample", type=int, default=300)
    args = parser.parse_args()
    n = args.accounts
    if connection.vendor != "postgresql":
        sys.exit("bench/liquidations.py needs PostgreSQL: set DATABASE_URL=postgres://... (and CELERY_BROKER_URL "
                 "for Redis)")
    ensure_database()
    t = time.perf_counter()
    reset_and_load(n)
    print(f"loaded {n} accounts x 5 positions in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    app.control.purge()
    procs = start_workers(2)
    try:
        warm_up(list(Account.objects.filter(user__username__startswith="bench").order_by("pk")
                     .values_list("pk", flat=True)[:80]))
        drop_prices()
        factors = reserve_factors()
        scan_times, candidates = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            candidates = screen_accounts(reserve_factors())
            scan_times.append(time.perf_counter() - t0)
        scan_seconds = min(scan_times)
        numpy_seconds, numpy_under = numpy_bound(factors)
        orm_seconds = orm_loop(min(args.orm_sample, n), n)
        t0 = time.time()
        app.send_task("lending.scan_accounts", kwargs={"round_key": "bench"}, queue="liquidations")
        last_count, quiet_since = -1, time.time()
        while time.time() - t0 < 3600:
            time.sleep(0.25)
            count = LiquidationEvent.objects.filter(round_key="bench").values("account_id").distinct().count()
            if count != last_count:
                last_count, quiet_since = count, time.time()
            elif count >= numpy_under * 0.98 and not queue_length() and time.time() - quiet_since > 3:
                break
            elif time.time() - quiet_since > 60:
                break
        last = LiquidationEvent.objects.filter(round_key="bench").aggregate(m=Max("created_at"))["m"]
        end_to_end = (last.timestamp() - t0) if last else float("nan")
        liquidations = LiquidationEvent.objects.filter(round_key="bench").count()
        accounts_liquidated = last_count
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
    result = {
        "accounts": n, "positions": n * 5, "database": connection.vendor,
        "underwater_numpy": numpy_under, "candidates_screened": len(candidates),
        "scan_seconds": round(scan_seconds, 4), "numpy_seconds": round(numpy_seconds, 5),
        "scan_vs_numpy": round(scan_seconds / numpy_seconds, 1),
        "orm_seconds_extrapolated": round(orm_seconds, 2), "scan_speedup_vs_orm": round(orm_seconds / scan_seconds, 1),
        "end_to_end_seconds": round(end_to_end, 2), "liquidations": liquidations,
        "accounts_liquidated": accounts_liquidated, "underwater_left": underwater_left(),
        "unbalanced_reserves": unbalanced_reserves(),
        "liquidations_per_second": round(liquidations / end_to_end, 1) if end_to_end else None,
        "cpus": os.cpu_count(),
    }
    print(f"{'measure':34} {'value':>14}")
    for key, value in result.items():
        print(f"{key:34} {value!s:>14}")
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    for name in ("liquidations.json", f"liquidations_{n}.json"):  # the latest run, and one file per size
        (results / name).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
