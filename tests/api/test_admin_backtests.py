"""POST /api/v1/admin/backtests/ and GET /api/v1/admin/backtests/{id}/: staff queue a backtest, a worker runs it
(eagerly here; tests/test_worker.py runs it on a real worker), the result and progress are polled."""
from datetime import date, timedelta

import pytest

from config.celery_app import app
from markets.models import Asset
from oracles import tasks
from oracles.models import Backtest
from tests.factories import api_client, make_universe, make_user, set_reserve

pytestmark = pytest.mark.django_db
URL = "/api/v1/admin/backtests/"
BODY = {"asset": "SPYx", "from": "2021-01-01", "to": "2021-12-31", "policies": ["none", "calibrated"]}


@pytest.fixture
def staff(monkeypatch, django_capture_on_commit_callbacks):
    make_universe()
    # run the task in-process when the request commits
    monkeypatch.setattr(app, "send_task", lambda name, args=None, **kw: tasks.run_backtest.apply(args=args))
    return api_client(make_user(staff=True))


def test_queue_run_and_poll(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = staff.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="bt-1")
    assert r.status_code == 202, r.content
    job = r.json()
    assert job["status"] == "queued" and job["progress"] == {"processed": 0, "total": 2 * 252, "percent": 0.0}
    done = staff.get(f"{URL}{job['id']}/").json()
    assert done["status"] == "done" and done["progress"]["percent"] == 100.0
    assert set(done["result"]["policies"]) == {"none", "calibrated"}
    assert {"bad_debt_usd", "liquidations", "unnecessary_liquidations"} <= set(done["result"]["policies"]["none"])
    assert staff.get(URL).json()[0]["id"] == job["id"]
    replay = staff.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="bt-1")
    assert replay.status_code == 202 and replay["Idempotent-Replayed"] == "true" and Backtest.objects.count() == 1


def test_what_if_parameters_are_kept_with_the_job(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = staff.post(URL, {**BODY, "parameters": {"ltv_bps": 9_000, "liquidation_threshold_bps": 9_300}},
                       format="json")
    job = staff.get(f"{URL}{r.json()['id']}/").json()
    assert job["parameters"] == {"ltv_bps": 9_000, "liquidation_threshold_bps": 9_300}
    assert job["result"]["parameters"]["ltv_bps"] == 9_000


def test_engine_seize_at_seed_and_recommend_go_with_the_job(staff, django_capture_on_commit_callbacks):
    body = {**BODY, "policies": ["none", "fixed"], "engine": "v4", "seize_at": "haircut", "seed": 7,
            "recommend": True}
    with django_capture_on_commit_callbacks(execute=True):
        r = staff.post(URL, body, format="json")
    assert r.status_code == 202, r.content
    queued = r.json()
    assert (queued["engine"], queued["seize_at"], queued["seed"], queued["recommend"]) == ("v4", "haircut", 7, True)
    job = staff.get(f"{URL}{queued['id']}/").json()
    assert job["status"] == "done", job["error"]
    result = job["result"]
    assert (result["engine"], result["seize_at"]) == ("v4", "haircut")
    assert job["progress"]["processed"] == job["progress"]["total"] == result["progress_units"]
    rec = result["recommendation"]
    assert rec["seed"] == 7 and {(x["engine"], x["policy"]) for x in rec["by_engine_and_policy"]} == {
        ("v4", "none"), ("v4", "fixed")}
    # defaults: the pool's engine (null on the job, named in the result), seizure at the reference price
    with django_capture_on_commit_callbacks(execute=True):
        plain = staff.post(URL, BODY, format="json").json()
    assert (plain["engine"], plain["seize_at"], plain["seed"], plain["recommend"]) == (None, "reference", None, False)
    assert staff.get(f"{URL}{plain['id']}/").json()["result"]["engine"] == "v3.3"


def test_the_new_fields_are_in_the_schema(staff):
    schema = staff.get("/api/v1/schema/?format=json").json()["components"]["schemas"]
    assert {"engine", "seize_at", "seed", "recommend"} <= set(schema["BacktestInRequest"]["properties"])
    assert {"engine", "seize_at", "seed", "recommend"} <= set(schema["Backtest"]["properties"])


def test_staff_only():
    make_universe()
    assert api_client(make_user()).post(URL, BODY, format="json").status_code == 403
    assert api_client(make_user()).get(f"{URL}1/").status_code == 403
    assert api_client().get(URL).status_code in (401, 403)


@pytest.mark.parametrize("change, field, status", [
    ({"asset": "NOPE"}, None, 404),  # unknown asset
    ({"asset": 5}, None, 404),
    ({"asset": "SPACEXpre"}, "asset", 422),  # no price history ships for it
    ({"policies": []}, "policies", 400),
    ({"policies": ["yolo"]}, "policies", 400),
    ({"policies": "none"}, "policies", 400),
    ({"from": 20210101}, "from", 400),  # a JSON number
    ({"from": "2021-01-01.5"}, "from", 400),
    ({"from": "abc"}, "from", 400),
    ({"from": "2022-01-01"}, "from", 400),  # after to
    ({"from": "1990-01-01", "to": "1990-12-31"}, "from", 422),
    ({"parameters": {"ltv_bps": 0}}, None, 202),  # zero LTV is a valid what-if: nobody borrows
    ({"parameters": {"ltv_bps": -1}}, "ltv_bps", 400),
    ({"parameters": {"ltv_bps": "80.5"}}, "parameters.ltv_bps", 400),  # too many decimals for bps
    ({"parameters": {"ltv_bps": "abc"}}, "parameters.ltv_bps", 400),
    ({"parameters": {"ltv_bps": "8000"}}, "ltv_bps", 400),  # a string where a JSON integer belongs
    ({"parameters": {"ltv_bps": 9_900}}, "ltv_bps", 400),  # above the threshold: PoolConfigurator's limit
    ({"parameters": {"liquidation_bonus_bps": 20_000}}, "liquidation_bonus_bps", 400),
    ({"parameters": {"reserve_factor_bps": 10}}, "parameters", 400),
    ({"engine": "v5"}, "engine", 400),
    ({"engine": None}, "engine", 400),
    ({"seize_at": "market"}, "seize_at", 400),
    ({"seed": -1}, "seed", 400),
    ({"seed": 2**32}, "seed", 400),
    ({"seed": "1"}, "seed", 400),
    ({"recommend": "yes"}, "recommend", 400),
])
def test_bad_input_is_a_clear_4xx_and_queues_nothing(staff, change, field, status):
    r = staff.post(URL, {**BODY, **change}, format="json")
    assert r.status_code == status, r.content
    if status >= 400:
        assert r.json()["error"]["message"] and Backtest.objects.count() == 0
        if field:
            assert r.json()["error"]["field"] == field


def test_a_paused_reserve_still_backtests(staff, django_capture_on_commit_callbacks):
    set_reserve("SPYx", paused=True)  # history is history: pausing the live reserve does not stop a what-if
    with django_capture_on_commit_callbacks(execute=True):
        r = staff.post(URL, BODY, format="json")
    assert staff.get(f"{URL}{r.json()['id']}/").json()["status"] == "done"


def test_unknown_backtest_is_404(staff):
    assert staff.get(f"{URL}999/").status_code == 404


@pytest.mark.django_db(transaction=True)  # real commits, so the enqueue runs inside the request as it does live
def test_broker_down_is_a_503_and_the_job_says_nothing_ran(staff, monkeypatch):
    def down(*a, **kw):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(app, "send_task", down)
    r = staff.post(URL, BODY, format="json")
    assert r.status_code == 503 and r.json()["error"]["code"] == "broker_unavailable"
    assert Backtest.objects.get().status == "failed"


def test_a_redelivered_task_runs_once_and_a_dead_workers_job_is_taken_over(staff):
    from django.utils import timezone

    from oracles import services

    job = services.backtest_create(asset=Asset.objects.get(symbol="SPYx"), start=date(2021, 1, 1),
                                   end=date(2021, 3, 31), policies=["none"])
    Backtest.objects.filter(pk=job.pk).update(status="running", started_at=timezone.now())
    assert services.backtest_execute(backtest_id=job.pk) is False  # another worker has it
    Backtest.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=1))
    assert services.backtest_execute(backtest_id=job.pk) is True  # that worker died: taken over
    assert Backtest.objects.get(pk=job.pk).status == "done"
    assert services.backtest_execute(backtest_id=job.pk) is False  # done: a redelivery does nothing
