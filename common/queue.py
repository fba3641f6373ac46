"""Send a task by name once the current transaction commits.

Tasks import the services they call; services send tasks by name through here and never import tasks, so no
services <-> tasks cycle. Nothing leaves before the data it names is committed."""
import logging
from collections.abc import Callable

from celery import current_app
from django.db import transaction

from .errors import BrokerUnavailable

logger = logging.getLogger(__name__)


def enqueue_on_commit(name: str, *, queue: str, args: list | None = None, kwargs: dict | None = None,
                      quiet: bool = False, what: str = "",
                      message: str = "The task broker is unreachable; try again when it is back.",
                      on_failure: Callable[[], None] | None = None) -> None:
    """After commit, publish task `name` on `queue` (JSON ids only).

    A broker outage raises BrokerUnavailable (503) with `message`, after `on_failure` has run (say, to mark a
    job failed). quiet=True logs it instead, naming `what` was lost: for a write that must not fail because a
    follow-up was lost (a safety net catches up)."""
    def publish():
        try:
            current_app.send_task(name, args=args, kwargs=kwargs, queue=queue)
        except Exception:  # noqa: BLE001 - whatever the broker client raises, the task was not queued
            if on_failure is not None:
                on_failure()
            if not quiet:
                raise BrokerUnavailable(message) from None
            logger.warning("could not enqueue %s; the safety net will catch up", what or name, exc_info=True)

    transaction.on_commit(publish)
