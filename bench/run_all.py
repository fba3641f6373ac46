"""make bench: run every benchmark in bench/ (each writes bench/results/<name>.json).

The liquidation benchmark needs PostgreSQL and Redis: unless DATABASE_URL and CELERY_BROKER_URL say otherwise it
uses a `bench` database and Redis db 9 at 127.0.0.1 (the services `make test` uses). The others (market_clock,
montecarlo) need neither."""
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def main() -> int:
    failed = []
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
    env.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/9")
    print(f"DATABASE_URL={env['DATABASE_URL']} CELERY_BROKER_URL={env['CELERY_BROKER_URL']}", flush=True)
    for script in sorted(HERE.glob("*.py")):
        if script.name in {"run_all.py", "__init__.py"} or script.name.startswith("_"):
            continue
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent, env=env).returncode:
            failed.append(script.name)
    if failed:
        print("failed:", ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
