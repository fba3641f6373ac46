"""Celery signal receivers for observability: the task id in every log line of a task, and each run counted and
timed by task name for /metrics. Connected in CommonConfig.ready() (so in the worker too)."""
import time

from celery.signals import task_postrun, task_prerun

from .logs import task_id_var
from .metrics import celery_task_seconds, celery_tasks

_running: dict[str, tuple[float, object]] = {}  # task id -> (start, context token); one process, its own tasks


def task_started(task_id=None, task=None, **kwargs) -> None:
    _running[task_id] = (time.perf_counter(), task_id_var.set(task_id))


def task_finished(task_id=None, task=None, state=None, **kwargs) -> None:
    started, token = _running.pop(task_id, (None, None))
    name = getattr(task, "name", None) or "unknown"
    celery_tasks.labels(name, state or "UNKNOWN").inc()
    if started is not None:
        celery_task_seconds.labels(name).observe(time.perf_counter() - started)
    if token is not None:
        try:
            task_id_var.reset(token)
        except ValueError:  # finished in another context (eager mode inside a request): just clear it
            task_id_var.set(None)


def connect() -> None:
    task_prerun.connect(task_started, dispatch_uid="common.observability.task_started", weak=False)
    task_postrun.connect(task_finished, dispatch_uid="common.observability.task_finished", weak=False)
