#!/usr/bin/env bash
# make serve-prod: the production profile (config.settings.production) on this machine: gunicorn, one Celery
# worker per queue, one beat, against DATABASE_URL and REDIS_URL / CELERY_BROKER_URL (redis:// or amqp://).
# Needs SECRET_KEY, DATABASE_URL, ALLOWED_HOSTS (the settings name whichever is missing).
# Over plain HTTP on 127.0.0.1 only with DJANGO_ALLOW_INSECURE_LOOPBACK=1 (and loopback ALLOWED_HOSTS).
#
# Knobs: PORT (8000) or BIND, WEB_WORKERS (4 x cores), WEB_THREADS (1); WORKER_QUEUES, a list of
# queue:concurrency ("liquidations:2 prices:1 accrual:1 simulations:1 default:1"); SERVE_SKIP_SETUP=1 skips
# migrate/load_universe/collectstatic; SERVE_CHECK_DEPLOY=0 skips the deploy check (never in production); LOG_DIR=dir writes each process's JSON log lines to dir/<name>.log
# instead of stderr; PROMETHEUS_MULTIPROC_DIR (var/prometheus) is shared by all processes for /metrics.
# SIGINT/SIGTERM stops everything; so does any one process dying (a supervisor restarts the set).
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=config.settings.production
PY=.venv/bin/python
VAR_DIR="${VAR_DIR:-var}"
export VAR_DIR
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$VAR_DIR/prometheus}"
WORKER_QUEUES="${WORKER_QUEUES:-liquidations:2 prices:1 accrual:1 simulations:1 default:1}"

# counters of a previous run would be summed into this one's
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

if [ "${SERVE_CHECK_DEPLOY:-1}" = 1 ]; then
  $PY manage.py check --deploy --fail-level WARNING
fi
if [ "${SERVE_SKIP_SETUP:-0}" != 1 ]; then
  $PY manage.py migrate --noinput -v0
  $PY manage.py load_universe
  $PY manage.py setup_schedules
  # WhiteNoise hashes and compresses (gzip, brotli) every file on each collectstatic: skip it while nothing
  # that feeds STATIC_ROOT changed since the last one
  manifest="$VAR_DIR/staticfiles/staticfiles.json"
  if [ ! -f "$manifest" ] || [ -n "$(find requirements.txt package-lock.json ./*/static node_modules/htmx.org/dist \
      node_modules/uplot/dist -newer "$manifest" -type f -print -quit 2>/dev/null)" ]; then
    $PY manage.py collectstatic --noinput -v0
  fi
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # give Celery time to finish (or hand back, acks_late) what it holds
  for _ in $(seq 1 40); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

start() {  # start NAME CMD...: in the background, output to LOG_DIR/NAME.log when LOG_DIR is set
  local name=$1; shift
  if [ -n "${LOG_DIR:-}" ]; then
    mkdir -p "$LOG_DIR"
    "$@" >>"$LOG_DIR/$name.log" 2>&1 &
  else
    "$@" &
  fi
  pids+=($!)
}

for spec in $WORKER_QUEUES; do
  queue=${spec%%:*}; concurrency=${spec##*:}
  start "worker-$queue" .venv/bin/celery -A config worker -l INFO -Q "$queue" --concurrency "$concurrency" \
    -n "$queue@%h" --without-gossip --without-mingle
done
# beat is a singleton: two beats would send every scheduled task twice
start beat .venv/bin/celery -A config beat -l INFO -S django_celery_beat.schedulers:DatabaseScheduler \
  --pidfile= --schedule "$VAR_DIR/celerybeat-schedule"
start web .venv/bin/gunicorn -c config/gunicorn_conf.py config.wsgi:application
echo "production profile up: web on ${BIND:-127.0.0.1:${PORT:-8000}}, workers [$WORKER_QUEUES], beat" >&2
wait -n "${pids[@]}"
echo "a process exited; stopping the rest" >&2
