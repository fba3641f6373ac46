#!/usr/bin/env bash
# make load: the production profile on loopback against a fresh PostgreSQL database under the locust scenario;
# writes bench/results/load.json (bench/load/run.py says how). LOAD_SECONDS (60), LOAD_USERS (200) and the other
# LOAD_* variables in run.py tune it. Needs PostgreSQL and Redis at 127.0.0.1 (started if installed but stopped).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/services.sh
exec .venv/bin/python bench/load/run.py
