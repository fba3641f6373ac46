#!/usr/bin/env bash
# make run: web + Celery worker + beat side by side; Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
$PY manage.py migrate --noinput -v0
$PY manage.py createcachetable  # throttle counters without Redis (no-op when REDIS_URL is set)
$PY manage.py load_universe
$PY manage.py setup_schedules
$PY manage.py collectstatic --noinput -v0
pids=()
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT
.venv/bin/celery -A config worker -l INFO --concurrency 2 -Q default,liquidations,prices,accrual,simulations \
  -n "worker@%h" & pids+=($!)
.venv/bin/celery -A config beat -l INFO -S django_celery_beat.schedulers:DatabaseScheduler \
  --pidfile= --schedule var/celerybeat-schedule & pids+=($!)
echo "Serving on http://127.0.0.1:${PORT}/ (Ctrl-C stops web, worker and beat)"
.venv/bin/gunicorn config.wsgi:application --bind "127.0.0.1:${PORT}" --workers 2 --threads 4 \
  --access-logfile - & pids+=($!)
wait -n "${pids[@]}"
