"""A tiny Monte Carlo run through a real Celery worker process, on Redis, against PostgreSQL: staff POST, chunks
on the simulations queue, the last chunk reduces, the client polls progress to 100%."""
import pytest

from risklab.models import MonteCarloChunk
from tests.factories import api_client, make_universe, make_user
from tests.test_worker import wait_for

pytestmark = [pytest.mark.worker]


def test_worker_runs_a_monte_carlo_queued_through_the_api(worker_process):
    make_universe(seed=False)
    worker_process(queues="simulations")
    staff = api_client(make_user(staff=True))
    r = staff.post("/api/v1/admin/montecarlo/", {"assets": ["SPYx"], "paths": "historical", "policy": "calibrated",
                                                 "n_paths": 4, "chunk_size": 2, "hours": 24 * 10, "accounts": 50,
                                                 "seed": 2}, format="json")
    assert r.status_code == 202, r.content
    url = f"/api/v1/admin/montecarlo/{r.json()['id']}/"
    assert wait_for(lambda: staff.get(url).json()["status"] == "done", 90)
    run = staff.get(url).json()
    assert run["progress"] == {"chunks_done": 2, "chunks_total": 2, "percent": 100.0}
    assert run["result"]["paths"] == 4 and set(run["result"]["engines"]) == {"v3.3", "v4"}
    assert list(MonteCarloChunk.objects.values_list("attempts", flat=True)) == [1, 1]


@pytest.fixture
def short_lease(monkeypatch):
    # read by the worker processes (the fixture below copies os.environ when it starts them)
    monkeypatch.setenv("MONTECARLO_LEASE_SECONDS", "4")


def _pool_children(pid: int) -> list[int]:
    import pathlib

    kids = []
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def test_a_worker_process_killed_mid_chunk_costs_that_chunk_not_the_run(short_lease, worker_process):
    """kill -9 the pool process computing a chunk: the master rejects the task (acks_late, reject_on_worker_lost),
    it comes back, waits out the dead claim's lease, and the chunk is computed again; the result equals a run
    nobody killed (every chunk is a pure function of the spec and its path range)."""
    import os
    import signal
    import time

    from risklab.models import MonteCarloRun

    make_universe(seed=False)
    worker = worker_process(queues="simulations")
    staff = api_client(make_user(staff=True))
    body = {"assets": ["SPYx", "TSLAx"], "paths": "simulated", "policy": "calibrated", "n_paths": 6,
            "chunk_size": 2, "hours": 24 * 30, "accounts": 20_000, "seed": 5}
    r = staff.post("/api/v1/admin/montecarlo/", body, format="json")
    assert r.status_code == 202, r.content
    run_id = r.json()["id"]
    assert wait_for(lambda: MonteCarloChunk.objects.filter(run_id=run_id, status="running").exists(), 60)
    victims = _pool_children(worker.pid)
    assert victims, "the prefork pool has a child"
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    killed_at = time.time()
    url = f"/api/v1/admin/montecarlo/{run_id}/"
    assert wait_for(lambda: staff.get(url).json()["status"] == "done", 180), staff.get(url).json()
    attempts = sorted(MonteCarloChunk.objects.filter(run_id=run_id).values_list("attempts", flat=True))
    assert attempts[-1] == 2 and attempts[:-1] == [1, 1]  # one chunk claimed twice, the others once
    took = time.time() - killed_at
    killed = staff.get(url).json()
    # the same run again with nobody killed: the same figures
    r2 = staff.post("/api/v1/admin/montecarlo/", body, format="json")
    assert wait_for(lambda: staff.get(f"/api/v1/admin/montecarlo/{r2.json()['id']}/").json()["status"] == "done",
                    180)
    clean = staff.get(f"/api/v1/admin/montecarlo/{r2.json()['id']}/").json()
    assert killed["result"] == clean["result"] and killed["progress"]["percent"] == 100.0
    assert MonteCarloRun.objects.filter(status="failed").count() == 0
    print(f"run finished {took:.1f} s after the kill")
