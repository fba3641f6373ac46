"""A worker killed with kill -9 in the middle of a Monte Carlo chunk costs that chunk's time, never the run: the
chunk's message comes back (acks_late on Redis, after the visibility timeout), its lease has run out, another
worker claims and computes it, and every chunk is counted once.

Runs on the Redis database that TEST_CELERY_BROKER_URL names (give it one of its own); it never restarts Redis."""
import os
import signal
import time

import pytest

from core.simulation import montecarlo
from risklab.models import MonteCarloChunk, MonteCarloRun
from tests.factories import api_client, make_universe, make_user
from tests.test_worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.fault]
LEASE_SECONDS = 8  # above a chunk's compute time here, below the test settings' 30 s visibility timeout


@pytest.fixture
def short_lease(monkeypatch):
    """Set before worker_process copies the environment for its workers."""
    monkeypatch.setenv("MONTECARLO_LEASE_SECONDS", str(LEASE_SECONDS))


def _queue_a_run_and_kill_its_worker_mid_chunk(worker_process) -> tuple[int, MonteCarloChunk]:
    """A 3-chunk run queued through the API, its only worker killed with SIGKILL while a chunk is claimed: the run
    id and that chunk."""
    staff = api_client(make_user(staff=True))
    r = staff.post("/api/v1/admin/montecarlo/", {"assets": ["TSLAx", "SPYx"], "paths": "simulated",
                                                 "policy": "calibrated", "n_paths": 6, "chunk_size": 2,
                                                 "hours": 24 * 14, "accounts": 20_000, "seed": 5}, format="json")
    assert r.status_code == 202, r.content
    run_id = r.json()["id"]
    victim = worker_process(name="victim", queues="simulations")
    # mid-chunk, for certain: a chunk claimed (running, first attempt) and not stored when the signal lands
    assert wait_for(lambda: MonteCarloChunk.objects.filter(run_id=run_id, status="running").exists(), 60)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    return run_id, MonteCarloChunk.objects.get(run_id=run_id, status="running")


def test_a_worker_killed_mid_chunk_costs_one_chunk_and_the_run_completes(short_lease, worker_process):
    make_universe(seed=False)
    run_id, killed = _queue_a_run_and_kill_its_worker_mid_chunk(worker_process)
    assert killed.attempts == 1 and killed.result is None
    started = time.time()
    worker_process(name="rescuer", queues="simulations")
    assert wait_for(lambda: MonteCarloRun.objects.get(pk=run_id).status == "done", 150)
    run = MonteCarloRun.objects.get(pk=run_id)
    chunks = list(run.chunks.order_by("index"))
    assert run.chunks_done == run.chunks_total == 3 and all(c.status == "done" for c in chunks)
    assert run.result["paths"] == 6
    rescued = next(c for c in chunks if c.pk == killed.pk)
    assert rescued.attempts == 2  # taken over once, after its lease ran out
    assert rescued.result == montecarlo.chunk(run.spec, rescued.path_start, rescued.path_stop)  # same numbers
    print(f"run completed {time.time() - started:.1f} s after the kill")


def _drop_unacked_message(chunk_id: int) -> bool:
    """Lose the dead worker's message for one chunk, as a broker restart without persistence would: kombu keeps
    unacknowledged Redis messages in the `unacked` hash until the visibility timeout restores them."""
    import base64
    import json

    import redis

    from config.celery_app import app

    client = redis.Redis.from_url(app.conf.broker_url)
    for tag, raw in client.hgetall("unacked").items():
        message = json.loads(raw)[0]
        args = json.loads(base64.b64decode(message["body"]))[0]
        if message["headers"]["task"] == "risklab.run_montecarlo_chunk" and args == [chunk_id]:
            client.zrem("unacked_index", tag)
            client.hdel("unacked", tag)
            return True
    return False


def test_the_beat_sweep_requeues_a_dead_workers_chunk_whose_message_is_lost(short_lease, worker_process,
                                                                           beat_process):
    """With the killed chunk's message gone, only the beat's sweep (risklab.requeue_stale_chunks) can bring it
    back: once the lease runs out it puts the chunk back and sends it again, and the run completes."""
    from django.core.management import call_command
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    make_universe(seed=False)
    call_command("setup_schedules", "--json")
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(task="risklab.requeue_stale_chunks").update(interval=every_second)
    PeriodicTask.objects.exclude(task="risklab.requeue_stale_chunks").update(enabled=False)
    run_id, killed = _queue_a_run_and_kill_its_worker_mid_chunk(worker_process)
    assert _drop_unacked_message(killed.pk)
    started = time.time()
    worker_process(name="rescuer", queues="default,simulations")
    beat_process()
    assert wait_for(lambda: MonteCarloRun.objects.get(pk=run_id).status == "done", 150)
    run = MonteCarloRun.objects.get(pk=run_id)
    assert run.chunks_done == run.chunks_total == 3 and run.result["paths"] == 6
    rescued = run.chunks.get(pk=killed.pk)
    assert rescued.attempts == 2 and rescued.result == montecarlo.chunk(run.spec, rescued.path_start,
                                                                        rescued.path_stop)
    print(f"run completed {time.time() - started:.1f} s after the kill, the lost chunk sent again by the sweep")
