"""lending.tasks and what feeds them: worker settings, the scan's chunks on the liquidations queue, the keeper task
run in-process (eagerly), bounded retries, the oracle-round trigger and the beat schedules."""
import json

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.celery_app import app
from core.amounts import parse_price
from lending import keeper, services, tasks
from lending.models import LiquidationEvent
from markets.models import Asset, Reserve
from oracles.models import OracleRound
from oracles.services import round_publish
from tests.factories import fund_and_supply, ledger_mismatches, make_account, make_universe, set_price

pytestmark = pytest.mark.django_db
E6 = 10**6


@pytest.fixture
def sent(monkeypatch):
    """Messages the code would publish, as (task name, args, kwargs, options), instead of sending them."""
    messages = []

    def send_task(name, args=None, kwargs=None, **options):
        json.dumps([args, kwargs])  # JSON only: ids, never objects
        messages.append((name, list(args or []), dict(kwargs or {}), options))

    monkeypatch.setattr(app, "send_task", send_task)
    return messages


@pytest.fixture
def underwater_accounts():
    make_universe()
    set_price("TSLAx", "250")
    accounts = []
    for i in range(30):
        account = make_account()
        fund_and_supply(account, "TSLAx", "10")
        services.account_borrow(account=account, symbol="USDC", amount=(1_300 if i < 24 else 500) * E6)
        accounts.append(account)
    set_price("TSLAx", "190")  # the first 24 fall to HF 0.95
    return accounts[:24], accounts[24:]


@pytest.mark.parametrize("name", ["lending.scan_accounts", "lending.liquidate_accounts", "lending.accrue_reserves"])
def test_worker_settings(name):
    task = app.tasks[name]
    assert task.acks_late and task.reject_on_worker_lost and task.ignore_result
    assert 0 < task.soft_time_limit < task.time_limit < 30  # below the Redis visibility timeout (30 s in tests)
    assert task.max_retries and task.max_retries <= 5 and task.autoretry_for == (OperationalError,)
    assert task.retry_jitter and task.retry_backoff_max < 30
    assert app.conf.worker_prefetch_multiplier == 1 and app.conf.task_serializer == "json"
    queue = app.amqp.router.route({}, name)["queue"].name
    assert queue == ("accrual" if name == "lending.accrue_reserves" else "liquidations")


def test_scan_sends_candidates_in_chunks_to_the_liquidations_queue(underwater_accounts, sent,
                                                                 django_capture_on_commit_callbacks):
    under, healthy = underwater_accounts
    with django_capture_on_commit_callbacks(execute=True):
        count = keeper.liquidation_scan(round_key="scan-1")
    assert count == len(under)
    assert {m[0] for m in sent} == {"lending.liquidate_accounts"}
    assert all(m[3]["queue"] == "liquidations" for m in sent)
    chunked = [account_id for m in sent for account_id in m[1][0]]
    assert sorted(chunked) == sorted(a.pk for a in under)  # every candidate once, no healthy account
    assert len(sent) > 1 and {m[1][1] for m in sent} == {"scan-1"}


def test_a_scan_for_an_older_round_stands_aside(underwater_accounts, sent, django_capture_on_commit_callbacks):
    older = OracleRound.objects.order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        assert keeper.liquidation_scan(round_key="round-old", oracle_round_id=older.pk) == 0
    assert sent == []
    latest = OracleRound.objects.order_by("-pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        assert keeper.liquidation_scan(round_key=f"round-{latest.pk}", oracle_round_id=latest.pk) == 24
    assert {m[1][2] for m in sent} == {latest.pk}
    assert all(m[1][3] <= latest.created_at.timestamp() + 1 for m in sent)  # latency counts from the price


def test_keeper_task_liquidates_once(underwater_accounts):
    under, healthy = underwater_accounts
    ids = [a.pk for a in under + healthy]
    assert tasks.liquidate_accounts.apply(args=[ids, "eager", None, None]).get() == len(under)
    assert tasks.liquidate_accounts.apply(args=[ids, "eager", None, None]).get() == len(under)  # the same events
    assert LiquidationEvent.objects.count() == len(under)
    assert not LiquidationEvent.objects.filter(account__in=healthy).exists()
    assert not ledger_mismatches()


def test_transient_database_errors_are_retried_a_bounded_number_of_times(underwater_accounts, monkeypatch):
    under, _ = underwater_accounts
    calls = []
    keeper_run = keeper.keeper_run

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("deadlock detected")
        return keeper_run(**kwargs)

    monkeypatch.setattr(keeper, "keeper_run", flaky)
    assert tasks.liquidate_accounts.apply(args=[[under[0].pk], "retry", None, None]).get() == 1
    assert len(calls) == 2

    def down(**kwargs):
        calls.append(1)
        raise OperationalError("the database is gone")

    calls.clear()
    monkeypatch.setattr(keeper, "keeper_run", down)
    with pytest.raises(OperationalError):
        tasks.liquidate_accounts.apply(args=[[under[1].pk], "retry", None, None]).get()
    assert len(calls) == 1 + tasks.liquidate_accounts.max_retries


def test_accrual_task_touches_reserves_not_positions(django_assert_max_num_queries):
    make_universe()
    Reserve.objects.filter(asset__symbol="USDC").update(last_update=1, total_scaled_debt=10**12,
                                                        variable_borrow_rate=10**26)
    reserves = Reserve.objects.count()
    with django_assert_max_num_queries(reserves + 3):
        assert tasks.accrue_reserves.apply().get() == reserves
    assert Reserve.objects.get(asset__symbol="USDC").variable_borrow_index > 10**27


def test_a_published_round_enqueues_a_scan_after_commit(sent, django_capture_on_commit_callbacks):
    make_universe()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rnd = round_publish(asset=Asset.objects.get(symbol="TSLAx"), reference_price=parse_price("200"),
                            source="manual")
        assert sent == []  # nothing leaves before the price is committed
    assert callbacks
    assert sent == [("lending.scan_accounts", [], {"round_key": f"round-{rnd.pk}", "oracle_round_id": rnd.pk},
                     {"queue": "liquidations"})]


def test_a_broker_outage_does_not_fail_the_price(monkeypatch, django_capture_on_commit_callbacks, caplog):
    make_universe()

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(app, "send_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        rnd = round_publish(asset=Asset.objects.get(symbol="TSLAx"), reference_price=parse_price("200"),
                            source="manual")
    assert OracleRound.objects.filter(pk=rnd.pk).exists()
    assert "could not enqueue the scan" in caplog.text


def test_setup_schedules_is_idempotent_and_keeps_an_admins_tuning(capsys):
    call_command("setup_schedules", "--json")
    created = json.loads(capsys.readouterr().out)["created"]
    tasks_by_name = dict(PeriodicTask.objects.values_list("task", "interval__every"))
    assert tasks_by_name["lending.scan_accounts"] == 60
    assert tasks_by_name["lending.accrue_reserves"] == 60
    assert tasks_by_name["common.heartbeat"] == 15
    assert "oracles.tick_prices" in tasks_by_name  # the oracle app's own schedules (oracles.tasks.BEAT_SCHEDULES)
    assert PeriodicTask.objects.get(task="lending.scan_accounts").queue == "liquidations"
    assert len(created) == PeriodicTask.objects.count()
    scan = PeriodicTask.objects.get(task="lending.scan_accounts")  # an admin tunes the safety net to 30 s
    scan.interval, _ = IntervalSchedule.objects.get_or_create(every=30, period=IntervalSchedule.SECONDS)
    scan.save()
    call_command("setup_schedules", "--json")
    assert json.loads(capsys.readouterr().out)["created"] == []
    assert PeriodicTask.objects.get(task="lending.scan_accounts").interval.every == 30
    assert PeriodicTask.objects.filter(task="lending.scan_accounts").count() == 1
