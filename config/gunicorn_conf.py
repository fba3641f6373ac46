"""gunicorn settings for `make serve-prod` and compose.yaml (gunicorn -c config/gunicorn_conf.py), from the
environment: BIND (127.0.0.1:$PORT), WEB_WORKERS (2 x cores + 1), WEB_THREADS (8), WEB_TIMEOUT (30 s)."""
import os

from common.metrics import mark_process_dead

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS") or 2 * (os.cpu_count() or 1) + 1)
threads = int(os.environ.get("WEB_THREADS") or 8)
worker_class = "gthread"
timeout = int(os.environ.get("WEB_TIMEOUT") or 30)
graceful_timeout = 20
keepalive = 5
accesslog = None  # the app writes one JSON access line a request (LOG_REQUESTS), with its request id
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server, worker):
    """prometheus_client multiprocess mode: a dead worker's live gauges go; its counters stay summed."""
    mark_process_dead(worker.pid)
