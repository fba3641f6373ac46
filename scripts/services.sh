#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer at 127.0.0.1; start an installed-but-stopped one.
# Under CI=true a service that cannot be had fails the run.
set -u
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_up() { for _ in $(seq 1 30); do up "$1" && return 0; sleep 1; done; return 1; }
fail=0
if ! up 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  wait_up 5432 || { echo "PostgreSQL is not available at 127.0.0.1:5432" >&2; fail=1; }
fi
if ! up 6379; then
  if command -v redis-server >/dev/null; then
    echo "starting Redis" >&2
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
  wait_up 6379 || { echo "Redis is not available at 127.0.0.1:6379" >&2; fail=1; }
fi
if [ "$fail" = 1 ] && [ "${CI:-}" = "true" ]; then
  echo "CI=true: a missing service fails the run" >&2
  exit 1
fi
exit 0
