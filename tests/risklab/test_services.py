"""risklab.services: a run split into chunks, each claimed by a conditional UPDATE with a lease, its result stored
once, the run reduced once by the last chunk in."""
from datetime import timedelta

import pytest
from django.utils import timezone

from common.errors import DomainError, NotFound, Unprocessable
from config.celery_app import app
from risklab import services
from risklab.models import MonteCarloChunk, MonteCarloRun
from tests.factories import make_montecarlo_run, set_reserve

pytestmark = pytest.mark.django_db


def _run_all(run):
    for chunk in run.chunks.order_by("index"):
        assert services.montecarlo_chunk_execute(chunk_id=chunk.pk) == ("done", 0.0)
    run.refresh_from_db()
    return run


def test_a_run_is_split_into_chunks_sent_to_the_simulations_queue(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: sent.append((name, args, queue)))
    with django_capture_on_commit_callbacks(execute=True):
        run = make_montecarlo_run()
    assert [(c.path_start, c.path_stop) for c in run.chunks.order_by("index")] == [(0, 2), (2, 4), (4, 5)]
    assert run.chunks_total == 3 and run.status == "queued"
    assert sent == [("risklab.run_montecarlo_chunk", [c.pk], "simulations") for c in run.chunks.order_by("index")]
    tsla = run.spec["assets"][0]
    assert (tsla["symbol"], tsla["ltv_bps"], tsla["liquidation_threshold_bps"], tsla["liquidation_bonus_bps"]) == (
        "TSLAx", 5_500, 6_500, 10_750)
    assert run.spec["k"]["weekend"] > 0 and run.spec["pool"]["target_health_factor_bps"] == 10_500


def test_chunks_compute_and_the_last_one_reduces(monkeypatch):
    run = _run_all(make_montecarlo_run())
    assert run.status == "done" and run.chunks_done == 3 and run.finished_at is not None
    assert run.result["paths"] == 5 and set(run.result["engines"]) == {"v3.3", "v4"}
    figures = run.result["engines"]["v3.3"]
    assert set(figures["bad_debt_usd"]) == {"mean", "max", "p50", "p90", "p95", "p99"}
    assert figures["mean_liquidations"] > 0


def test_the_same_chunk_run_twice_stores_one_result_and_the_run_reduces_once():
    run = make_montecarlo_run(n_paths=2, chunk_size=1)
    first, second = run.chunks.order_by("index")
    assert services.montecarlo_chunk_execute(chunk_id=first.pk) == ("done", 0.0)
    stored = MonteCarloChunk.objects.get(pk=first.pk)
    assert services.montecarlo_chunk_execute(chunk_id=first.pk) == ("already_done", 0.0)  # a redelivery
    again = MonteCarloChunk.objects.get(pk=first.pk)
    assert (again.attempts, again.finished_at, again.result) == (1, stored.finished_at, stored.result)
    assert MonteCarloRun.objects.get(pk=run.pk).chunks_done == 1
    services.montecarlo_chunk_execute(chunk_id=second.pk)
    done = MonteCarloRun.objects.get(pk=run.pk)
    assert done.status == "done" and done.chunks_done == 2
    for chunk in (first, second):  # late redeliveries change nothing
        assert services.montecarlo_chunk_execute(chunk_id=chunk.pk) == ("already_done", 0.0)
    after = MonteCarloRun.objects.get(pk=run.pk)
    assert (after.chunks_done, after.finished_at, after.result) == (2, done.finished_at, done.result)


def test_a_lease_that_ran_out_is_taken_over_and_only_the_holder_stores():
    run = make_montecarlo_run(n_paths=1, chunk_size=1)
    chunk = run.chunks.get()
    token = services.montecarlo_chunk_claim(chunk_id=chunk.pk)
    assert services.montecarlo_chunk_execute(chunk_id=chunk.pk)[0] == "busy"  # the lease is live
    assert services.montecarlo_chunk_claim(chunk_id=chunk.pk) is None
    MonteCarloChunk.objects.filter(pk=chunk.pk).update(lease_until=timezone.now() - timedelta(seconds=1))  # died
    assert services.montecarlo_chunk_execute(chunk_id=chunk.pk) == ("done", 0.0)  # another worker takes it
    assert services.montecarlo_chunk_store(chunk_id=chunk.pk, token=token, result={"late": True}) is False
    run.refresh_from_db()
    assert run.chunks_done == 1 and run.status == "done" and "late" not in run.chunks.get().result


def test_resume_sends_again_what_is_queued_or_lost(monkeypatch, django_capture_on_commit_callbacks):
    run = make_montecarlo_run(n_paths=3, chunk_size=1)
    first, second, third = run.chunks.order_by("index")
    services.montecarlo_chunk_execute(chunk_id=first.pk)
    services.montecarlo_chunk_claim(chunk_id=second.pk)  # live lease: not sent again
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, **kw: sent.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.montecarlo_resume(run_id=run.pk) == 1
    assert sent == [third.pk]


BAD = [
    ({"assets": ["NOPE"]}, NotFound, "assets"),
    ({"assets": ["SPACEXpre"]}, Unprocessable, "assets"),  # no shipped history
    ({"assets": []}, DomainError, "assets"),
    ({"engines": ["v5"]}, DomainError, "engines"),
    ({"policy": "bogus"}, DomainError, "policy"),
    ({"paths": "monday_gap_all", "hours": 48}, DomainError, "hours"),  # a stress needs its weekend
    ({"n_paths": 0}, DomainError, "n_paths"),
    ({"accounts": "5"}, DomainError, "accounts"),
    ({"n_paths": 5_000, "accounts": 100_000, "hours": 24 * 120, "chunk_size": 50}, Unprocessable, "n_paths"),
]


def test_bad_runs_are_refused_and_nothing_is_written():
    for change, error, field in BAD:  # one universe for every case: loading it is the slow part
        with pytest.raises(error) as exc:
            make_montecarlo_run(**change)
        assert exc.value.field == field, change
    assert not MonteCarloRun.objects.exists()


def test_v4_refuses_a_bonus_times_threshold_of_100_percent():
    from tests.factories import make_universe

    make_universe(seed=False)
    set_reserve("SPYx", liquidation_threshold_bps=9_500, liquidation_bonus_bps=10_600)  # v3.3 would allow it
    with pytest.raises(Unprocessable) as exc:
        make_montecarlo_run(assets=["SPYx"])
    assert exc.value.field == "engines"
    assert make_montecarlo_run(assets=["SPYx"], engines=["v3.3"]).spec["engines"] == ["v3.3"]


def _stale(chunk_id: int) -> None:
    """The claimant died: its lease ran out a second ago."""
    MonteCarloChunk.objects.filter(pk=chunk_id).update(lease_until=timezone.now() - timedelta(seconds=1))


def test_the_sweep_requeues_only_chunks_whose_lease_ran_out(monkeypatch, django_capture_on_commit_callbacks):
    run = make_montecarlo_run(n_paths=4, chunk_size=1)
    done, dead, live, waiting = run.chunks.order_by("index")
    services.montecarlo_chunk_execute(chunk_id=done.pk)
    services.montecarlo_chunk_claim(chunk_id=dead.pk)
    services.montecarlo_chunk_claim(chunk_id=live.pk)
    _stale(dead.pk)
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: sent.append((name, args, queue)))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.montecarlo_requeue_stale() == 1
    # the dead claim only: not the live lease, not the chunk waiting in the queue, not the finished one
    assert sent == [("risklab.run_montecarlo_chunk", [dead.pk], "simulations")]
    back = MonteCarloChunk.objects.get(pk=dead.pk)
    assert (back.status, back.lease_until, back.attempts) == ("queued", None, 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.montecarlo_requeue_stale() == 0  # a second sweep (or a second beat) sends nothing more
    assert len(sent) == 1
    # the re-sent message and the broker's own late redelivery: one claim computes, the other finds it done
    assert services.montecarlo_chunk_execute(chunk_id=dead.pk) == ("done", 0.0)
    assert services.montecarlo_chunk_execute(chunk_id=dead.pk) == ("already_done", 0.0)
    assert MonteCarloChunk.objects.get(pk=dead.pk).attempts == 2
    assert MonteCarloRun.objects.get(pk=run.pk).chunks_done == 2


def test_a_slow_claimant_put_back_by_the_sweep_still_stores_until_someone_else_claims():
    run = make_montecarlo_run(n_paths=2, chunk_size=1)
    slow, taken = run.chunks.order_by("index")
    slow_token = services.montecarlo_chunk_claim(chunk_id=slow.pk)
    taken_token = services.montecarlo_chunk_claim(chunk_id=taken.pk)
    _stale(slow.pk)
    _stale(taken.pk)
    assert services.montecarlo_requeue_stale() == 2
    # nobody claimed `slow` since: its claimant's result is the only one and counts
    assert services.montecarlo_chunk_store(chunk_id=slow.pk, token=slow_token, result={"paths": 1}) is True
    # `taken` was claimed again after the put-back: the old claimant's late result is refused
    assert services.montecarlo_chunk_claim(chunk_id=taken.pk) == taken_token + 1
    assert services.montecarlo_chunk_store(chunk_id=taken.pk, token=taken_token, result={"late": True}) is False
    assert MonteCarloRun.objects.get(pk=run.pk).chunks_done == 1


def test_the_sweep_leaves_a_chunk_claimed_when_the_broker_is_down(monkeypatch, django_capture_on_commit_callbacks):
    run = make_montecarlo_run(n_paths=1, chunk_size=1)
    chunk = run.chunks.get()
    services.montecarlo_chunk_claim(chunk_id=chunk.pk)
    _stale(chunk.pk)

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(app, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        services.montecarlo_requeue_stale()
    after = MonteCarloChunk.objects.get(pk=chunk.pk)
    assert after.status == "running" and after.lease_until < timezone.now()  # the next sweep tries again
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, **kw: sent.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.montecarlo_requeue_stale() == 1
    assert sent == [chunk.pk]


def test_the_sweep_ignores_finished_and_failed_runs():
    run = make_montecarlo_run(n_paths=1, chunk_size=1)
    services.montecarlo_chunk_claim(chunk_id=run.chunks.get().pk)
    _stale(run.chunks.get().pk)
    MonteCarloRun.objects.filter(pk=run.pk).update(status=MonteCarloRun.Status.FAILED)
    assert services.montecarlo_requeue_stale() == 0
