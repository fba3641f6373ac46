"""`make load`: the production profile on loopback against a fresh PostgreSQL database, under the locust scenario.

1. creates a database of its own (LOAD_PG_URL names the server; dropped at the end unless LOAD_KEEP_DB=1);
2. starts scripts/serve-prod.sh (gunicorn, a worker per queue, beat) with DJANGO_ALLOW_INSECURE_LOOPBACK=1 and
   its own throttle rates (API_THROTTLE_RATES, reported in the JSON) on a Redis database that it flushes;
3. seeds the users fast (bench/load/seed.py: bulk rows, one password hash, DRF tokens);
4. runs locust headless for LOAD_SECONDS (60) with LOAD_USERS (200) users, and, halfway, a price shock on
   TSLAx (LOAD_SHOCK_PERCENT, -20) that liquidates the seeded risky share of the accounts;
5. waits for the keeper, reads the liquidations and checks the books (bench/load/report.py), scrapes /metrics;
6. stops everything and writes bench/results/load.json (or LOAD_OUT).

Sustained requests/s counts only the steady part (every user spawned). Locust runs on the same 2 cores: its own
CPU time is reported as a share of the machine's (`locust_cpu_share`)."""
import csv
import json
import os
import resource
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[2]
PY = str(ROOT / ".venv/bin/python")
OUT = Path(os.environ.get("LOAD_OUT") or ROOT / "bench/results/load.json")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


SECONDS = env_int("LOAD_SECONDS", 60)
USERS = env_int("LOAD_USERS", 200)
ACCOUNTS = env_int("LOAD_ACCOUNTS", USERS)
SPAWN_RATE = float(os.environ.get("LOAD_SPAWN_RATE") or max(1.0, USERS / 5))
PORT = env_int("LOAD_PORT", 8765)
PG_URL = os.environ.get("LOAD_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/13")
BROKER_URL = os.environ.get("LOAD_BROKER_URL", REDIS_URL)
SHOCK_PERCENT = os.environ.get("LOAD_SHOCK_PERCENT", "-35")
# The run's own limits, high enough that the scenario measures the app rather than its throttles.
THROTTLES = os.environ.get("LOAD_THROTTLE_RATES", "anon=1000000/min,user=1000000/min,auth=1000/min,"
                                                  "actions=1000000/min")
VAR = Path(os.environ.get("LOAD_VAR_DIR", ROOT / "var/load"))
BASE = f"http://127.0.0.1:{PORT}"


def log(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def db_url(name: str) -> str:
    parts = urlsplit(PG_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin_sql(sql: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql)


def http(method: str, path: str, *, token: str | None = None, body: dict | None = None, timeout: float = 10):
    request = urllib.request.Request(BASE + path, method=method, data=json.dumps(body).encode() if body else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError as exc:
        return 0, str(exc).encode()


def machine_load() -> dict:
    """The machine's load average (`uptime`): it is shared, so other work running beside the load run shows here."""
    one, five, fifteen = os.getloadavg()
    return {"uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
            "load_1m": one, "load_5m": five, "load_15m": fifteen}


def ledger_check(env: dict) -> dict:
    """`manage.py ledger_check --json`: the books (tokens conserved, scaled totals equal to the positions)."""
    done = subprocess.run([PY, "manage.py", "ledger_check", "--json"], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return {"exit_status": done.returncode, "balanced": out["balanced"], "problems": out["problems"][:20]}


def wait_healthy(server: subprocess.Popen, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"serve-prod exited with {server.returncode}; see {VAR / 'logs'}")
        status, _ = http("GET", "/healthz", timeout=3)
        if status == 200:
            return
        time.sleep(2)
    raise SystemExit(f"the production profile was not healthy after {timeout:.0f} s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def aggregated(prefix: Path) -> dict:
    with open(f"{prefix}_stats.csv") as fh:
        rows = {row["Name"]: row for row in csv.DictReader(fh)}
    total = rows.pop("Aggregated")
    by_route = {name: {"requests": int(r["Request Count"]), "failures": int(r["Failure Count"]),
                       "p50_ms": float(r["50%"]), "p95_ms": float(r["95%"]), "p99_ms": float(r["99%"]),
                       "mean_ms": round(float(r["Average Response Time"]), 1)} for name, r in rows.items()}
    return {"total": total, "routes": by_route}


def sustained_rps(prefix: Path, users: int) -> tuple[float | None, float]:
    """Requests/s over the part of the run where every user was running (from locust's history CSV)."""
    with open(f"{prefix}_stats_history.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["Name"] == "Aggregated"]
    steady = [r for r in rows if int(r["User Count"]) >= users]
    if len(steady) < 2:
        return None, 0.0
    first, last = steady[0], steady[-1]
    seconds = int(last["Timestamp"]) - int(first["Timestamp"])
    if seconds <= 0:
        return None, 0.0
    return (int(last["Total Request Count"]) - int(first["Total Request Count"])) / seconds, seconds


def main() -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    (VAR / "logs").mkdir(exist_ok=True)
    for old in (VAR / "logs").glob("*.log"):
        old.unlink()
    name = f"load_{int(time.time())}_{os.getpid()}"
    log(f"creating database {name}")
    admin_sql(f'CREATE DATABASE "{name}"')
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    metrics_token = secrets.token_urlsafe(24)
    env = {**os.environ,
           "DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": secrets.token_urlsafe(50),
           "DATABASE_URL": db_url(name), "REDIS_URL": REDIS_URL, "CELERY_BROKER_URL": BROKER_URL,
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "DJANGO_ALLOW_INSECURE_LOOPBACK": "1", "PORT": str(PORT),
           "VAR_DIR": str(VAR), "LOG_DIR": str(VAR / "logs"), "API_THROTTLE_RATES": THROTTLES,
           "METRICS_TOKEN": metrics_token, "LOAD_USERS_FILE": str(VAR / "users.json"),
           "LOAD_ACCOUNTS": str(ACCOUNTS), "PROMETHEUS_MULTIPROC_DIR": str(VAR / "prometheus")}
    env.pop("DJANGO_DEBUG", None)
    server = subprocess.Popen(["./scripts/serve-prod.sh"], cwd=ROOT, env=env, start_new_session=True)
    result: dict = {}
    try:
        wait_healthy(server, float(os.environ.get("LOAD_START_TIMEOUT", "900")))
        log("healthy; seeding users")
        seeded = json.loads(subprocess.run([PY, "bench/load/seed.py"], cwd=ROOT, env=env, check=True,
                                           capture_output=True, text=True).stdout.strip().splitlines()[-1])
        log(f"seeded {seeded}")
        ledger_before = ledger_check(env)
        log(f"ledger_check before the load: {ledger_before}")
        load_before = machine_load()
        users = json.loads((VAR / "users.json").read_text())
        staff_token = "Token " + next(u["token"] for u in users if u["staff"])
        prefix = VAR / "locust"
        shock: dict = {}

        def shock_midway():
            time.sleep(USERS / SPAWN_RATE + SECONDS / 2 if SECONDS > 2 * USERS / SPAWN_RATE else SECONDS / 2)
            shock["at"] = time.time()
            status, body = http("POST", "/api/v1/admin/oracle/TSLAx/shock/", token=staff_token, timeout=30,
                                body={"percent": SHOCK_PERCENT, "at": "now", "reason": "load run: price shock"})
            shock.update(status=status, seconds=round(time.time() - shock["at"], 3))
            log(f"shock {SHOCK_PERCENT}% on TSLAx: HTTP {status}")

        shooter = threading.Thread(target=shock_midway, daemon=True)
        cpu_before, rusage_before = psutil.cpu_times(), resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.time()
        log(f"locust: {USERS} users, spawn {SPAWN_RATE}/s, {SECONDS} s")
        shooter.start()
        subprocess.run([str(ROOT / ".venv/bin/locust"), "-f", "bench/load/locustfile.py", "--headless",
                        "-u", str(USERS), "-r", str(SPAWN_RATE), "-t", f"{SECONDS}s", "--host", BASE,
                        "--csv", str(prefix), "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING"],
                       cwd=ROOT, env=env, check=False, stdout=open(VAR / "locust.out", "w"), stderr=subprocess.STDOUT)
        wall = time.time() - started
        rusage_after, cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN), psutil.cpu_times()
        locust_cpu = (rusage_after.ru_utime - rusage_before.ru_utime) + (rusage_after.ru_stime - rusage_before.ru_stime)
        busy = sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("user", "system", "nice", "irq",
                                                                            "softirq", "steal"))
        shooter.join(timeout=30)
        log("locust done; waiting for the keeper and checking the books")
        report = json.loads(subprocess.run([PY, "bench/load/report.py"], cwd=ROOT, check=True, capture_output=True,
                                           text=True, env={**env, "LOAD_SHOCK_AT": str(shock.get("at", "")),
                                                           "LOAD_USER_PREFIX": "load"}).stdout.strip()
                            .splitlines()[-1])
        ledger_after = ledger_check(env)
        log(f"ledger_check after the load: {ledger_after}")
        load_after = machine_load()
        status, page = http("GET", "/metrics", token=f"Bearer {metrics_token}")
        (VAR / "metrics.txt").write_bytes(page)
        stats = aggregated(prefix)
        total = stats["total"]
        rps, steady_seconds = sustained_rps(prefix, USERS)
        requests, failures = int(total["Request Count"]), int(total["Failure Count"])
        cores = psutil.cpu_count() or 1
        result = {
            "requests_per_second": round(rps if rps is not None else float(total["Requests/s"]), 1),
            "requests_per_second_whole_run": round(float(total["Requests/s"]), 1),
            "steady_seconds": steady_seconds,
            "p50_ms": float(total["50%"]), "p95_ms": float(total["95%"]), "p99_ms": float(total["99%"]),
            "error_rate": round(failures / requests, 5) if requests else None,
            "requests": requests, "failures": failures,
            "liquidations": report["liquidations"],
            "liquidated_accounts": report["liquidated_accounts"],
            "risky_accounts_seeded": seeded["risky_accounts"],
            "liquidation_latency_ms": report["liquidation_latency_ms"],
            "shock_to_last_liquidation_seconds": report["shock_to_last_liquidation_seconds"],
            "underwater_left": report["underwater_left"],
            "ledger_balanced": report["ledger_balanced"],
            "ledger_problems": report["ledger_problems"],
            "ledger_check": {"before": ledger_before, "after": ledger_after},
            "machine_load": {"before": load_before, "after": load_after},
            "shock": {"asset": "TSLAx", "percent": SHOCK_PERCENT, "http_status": shock.get("status"),
                      "seconds": shock.get("seconds"),
                      "at_second": round(shock["at"] - started, 1) if "at" in shock else None},
            "locust_cpu_seconds": round(locust_cpu, 1),
            "locust_cpu_share": round(locust_cpu / (wall * cores), 3),
            "machine_cpu_busy_share": round(busy / (wall * cores), 3),
            "metrics_scrape_status": status,
            "routes": stats["routes"],
            "config": {"users": USERS, "accounts": ACCOUNTS, "seconds": SECONDS, "spawn_rate": SPAWN_RATE,
                       "cores": cores, "api_throttle_rates": THROTTLES, "broker": urlsplit(BROKER_URL).scheme,
                       "web_workers": os.environ.get("WEB_WORKERS") or 4 * cores,
                       "web_threads": os.environ.get("WEB_THREADS") or 1,
                       "read_cache": os.environ.get("READ_CACHE", "1") == "1",
                       "worker_queues": os.environ.get("WORKER_QUEUES") or "liquidations:2 prices:1 accrual:1 "
                                                                          "simulations:1 default:1",
                       "seed_seconds": seeded["seconds"]},
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
    finally:
        log("stopping the production profile")
        stop(server)
        if os.environ.get("LOAD_KEEP_DB") != "1":
            try:
                admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as exc:  # noqa: BLE001 - report, the result is still worth writing
                log(f"could not drop {name}: {exc}")
        else:
            log(f"kept database {name} ({db_url(name)})")
        try:
            redis.Redis.from_url(REDIS_URL).flushdb()
        except Exception:  # noqa: BLE001
            pass
    out = Path(os.environ.get("LOAD_OUT", OUT))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    summary = {k: result[k] for k in ("requests_per_second", "p50_ms", "p95_ms", "p99_ms", "error_rate",
                                      "liquidations", "ledger_balanced", "locust_cpu_share")}
    print(json.dumps(summary))
    log(f"wrote {out}")
    if not result["ledger_balanced"] or not result["ledger_check"]["after"]["balanced"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
