"""Prometheus metrics for GET /metrics, through prometheus_client (the format is never written by hand).

Two kinds:
- counted as things happen, in this process: HTTP requests by route (the URL pattern's name, never the raw path)
  and status, and Celery task runs and durations. Under gunicorn with several workers (and Celery's prefork
  children), set PROMETHEUS_MULTIPROC_DIR to a directory every process of the host shares: prometheus_client's
  multiprocess mode then sums them at scrape time.
- read at scrape time from the database and the broker by collectors registered here by name. common cannot
  import the domain apps (layering), so each app registers its own in AppConfig.ready() (markets: deficits,
  oracles: staleness per feed, lending: liquidation latency). common's own: process heartbeats, queue depths.
"""
import logging
import os
import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)


def app_queues() -> list[str]:
    """The queues the app routes to (CELERY_TASK_ROUTES) and the default one."""
    from django.conf import settings

    routes = getattr(settings, "CELERY_TASK_ROUTES", {}) or {}
    return sorted({r["queue"] for r in routes.values() if "queue" in r} | {settings.CELERY_TASK_DEFAULT_QUEUE})


_local = CollectorRegistry(auto_describe=True)  # this process's counters when not in multiprocess mode
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10, 30)

http_requests = Counter("http_requests", "HTTP requests answered, by route name, method and status.",
                        ["route", "method", "status"], registry=_local)
http_request_seconds = Histogram("http_request_duration_seconds", "Time to answer, by route name.", ["route"],
                                 buckets=_LATENCY_BUCKETS, registry=_local)
celery_tasks = Counter("celery_tasks", "Celery task runs finished, by task name and final state.",
                       ["task", "state"], registry=_local)
celery_task_seconds = Histogram("celery_task_duration_seconds",
                                "Celery task run time by task name (lending.scan_accounts is the scan time).",
                                ["task"], buckets=_LATENCY_BUCKETS + (60, 120, 300), registry=_local)

_collectors: dict[str, Callable[[], Iterable[Metric]]] = {}


def collector_register(name: str, collect: Callable[[], Iterable[Metric]]) -> None:
    """Add (or replace, by name) a scrape-time collector: a callable yielding prometheus_client metric families.
    A collector that raises is logged and counted in app_collector_errors; the others still report."""
    _collectors[name] = collect


class _ScrapeTime:
    def collect(self):
        failed = GaugeMetricFamily("app_collector_errors", "Scrape-time collectors that failed on this scrape.",
                                   labels=["collector"])
        for name, collect in sorted(_collectors.items()):
            started = time.perf_counter()
            try:
                families = list(collect())
            except Exception:  # noqa: BLE001 - one broken collector must not blank the whole page
                logger.warning("metrics collector %s failed", name, exc_info=True)
                failed.add_metric([name], 1)
                continue
            yield from families
            logger.debug("collector %s took %.3f s", name, time.perf_counter() - started)
        yield failed


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir") or None


def metrics_render() -> bytes:
    """The exposition page: every process's counters (multiprocess mode) or this one's, then the scrape-time
    collectors."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (http_requests, http_request_seconds, celery_tasks, celery_task_seconds):
            registry.register(collector)
    registry.register(_ScrapeTime())
    return generate_latest(registry)


def mark_process_dead(pid: int) -> None:
    """gunicorn's child_exit hook: drop a dead worker's live-gauge files (counters stay summed)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)


# --- common's own scrape-time collectors -------------------------------------------------------------------------

def collect_heartbeats():
    from django.utils import timezone

    from .models import Heartbeat

    age = GaugeMetricFamily("app_heartbeat_age_seconds", "Seconds since each kind of process last reported in "
                            "(worker: the common.heartbeat task).", labels=["name"])
    now = timezone.now()
    for name, at in Heartbeat.objects.values_list("name", "at"):
        age.add_metric([name], (now - at).total_seconds())
    yield age


def queue_depths(queues: Iterable[str] | None = None, *, timeout: float = 2.0) -> dict[str, int] | None:
    """Messages waiting in each broker queue: Redis LLEN (over kombu's priority sub-queues), AMQP passive
    queue_declare. None when the broker is unreachable; a transport that cannot say (filesystem) gives {}."""
    from celery import current_app

    queues = app_queues() if queues is None else list(queues)
    depths: dict[str, int] = {}
    try:
        with current_app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            transport = conn.transport.driver_type
            if transport == "redis":
                channel = conn.default_channel
                client = channel.client
                for queue in queues:
                    names = {channel._q_for_pri(queue, pri) for pri in channel.priority_steps}
                    depths[queue] = sum(client.llen(name) for name in names)
            elif transport == "amqp":
                for queue in queues:
                    channel = conn.channel()
                    try:
                        depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                    except Exception:  # noqa: BLE001 - not declared yet: nothing ever waited there
                        depths[queue] = 0
                    finally:
                        try:
                            channel.close()
                        except Exception:  # noqa: BLE001
                            pass
    except Exception:  # noqa: BLE001 - the broker is down: say so rather than fail the page
        logger.warning("broker unreachable for queue depths", exc_info=True)
        return None
    return depths


def collect_queues():
    depths = queue_depths()
    up = GaugeMetricFamily("celery_broker_up", "1 when the broker answered this scrape.")
    up.add_metric([], 0 if depths is None else 1)
    yield up
    gauge = GaugeMetricFamily("celery_queue_length", "Messages waiting in each broker queue.", labels=["queue"])
    for queue, depth in sorted((depths or {}).items()):
        gauge.add_metric([queue], depth)
    yield gauge


collector_register("common.heartbeats", collect_heartbeats)
collector_register("common.queues", collect_queues)
