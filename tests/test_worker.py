"""The tasks run in a real Celery worker process, on Redis, against PostgreSQL."""
import time

import pytest

from common.models import Heartbeat
from config.celery_app import app
from markets.models import Reserve
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
    app.send_task("common.heartbeat", queue="default")
    app.send_task("lending.accrue_reserves", queue="accrual")
    assert wait_for(lambda: Heartbeat.objects.filter(name="worker").exists())
    assert wait_for(lambda: Reserve.objects.get(asset__symbol="USDC").variable_borrow_index > 10**27)


def test_worker_runs_a_backtest_queued_through_the_api(worker_process):
    """A staff POST commits the job and sends it to the simulations queue; the worker claims and runs it while
    the client polls its progress."""
    from oracles.models import Backtest
    from tests.factories import api_client, make_user

    universe_load()
    worker_process()
    staff = api_client(make_user(staff=True))
    r = staff.post("/api/v1/admin/backtests/", {"asset": "TSLAx", "from": "2020-01-01", "to": "2024-12-31",
                                                "policies": ["none", "fixed", "calibrated"]}, format="json")
    assert r.status_code == 202, r.content
    url = f"/api/v1/admin/backtests/{r.json()['id']}/"
    assert wait_for(lambda: staff.get(url).json()["status"] == "done", 90)
    job = staff.get(url).json()
    assert job["progress"] == {"processed": 3 * 1258, "total": 3 * 1258, "percent": 100.0}
    assert set(job["result"]["policies"]) == {"none", "fixed", "calibrated"}
    assert Backtest.objects.get().finished_at is not None
