"""The tasks run in a real Celery worker process, on Redis, against PostgreSQL."""
import time

import pytest

from config.celery_app import app
from markets.models import Heartbeat, Reserve
from markets.services import universe_load

pytestmark = [pytest.mark.worker]


def wait_for(predicate, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_worker_runs_heartbeat_and_accrual(worker_process):
    universe_load()
    Reserve.objects.filter(asset__symbol="USDC").update(last_update=1, total_scaled_debt=10**12,
                                                        variable_borrow_rate=10**26)
    worker_process()
    app.send_task("markets.heartbeat", queue="default")
    app.send_task("lending.accrue_reserves", queue="accrual")
    assert wait_for(lambda: Heartbeat.objects.filter(name="worker").exists())
    assert wait_for(lambda: Reserve.objects.get(asset__symbol="USDC").variable_borrow_index > 10**27)
