"""oracles.selectors.oracle_reads(shared=True): the feeds and policies from the process's copy (common.readcache
.memo), the same reads as the database's and never older than the last committed round, feed or policy write."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lending.services import account_for_user
from markets.models import Asset
from oracles.models import HaircutPolicy
from oracles.selectors import oracle_reads
from tests.core.test_clock import et
from tests.factories import api_client, fund_and_supply, make_universe, make_user, set_price

pytestmark = pytest.mark.django_db
SATURDAY = et("2024-11-23 12:00")


@pytest.fixture
def on(read_cache):
    make_universe(haircuts=True)


def reads(at=SATURDAY, *, shared=True):
    return oracle_reads(Asset.objects.order_by("id"), at=at, shared=shared)


def test_the_same_reads_as_the_database_and_no_queries_the_second_time(on):
    assert reads() == reads(shared=False)
    with CaptureQueriesContext(connection) as queries:
        again = reads()
    assert again == reads(shared=False)
    assert not [q for q in queries.captured_queries if "oracles_" in q["sql"]]


def test_a_committed_round_or_policy_is_read_at_once(on, django_capture_on_commit_callbacks):
    reads()
    with django_capture_on_commit_callbacks(execute=True):
        set_price("TSLAx", "123.45")
    assert reads()["TSLAx"].reference_price == 12_345_000_000
    with django_capture_on_commit_callbacks(execute=True):
        policy = HaircutPolicy.objects.get(asset__symbol="TSLAx")
        policy.mode, policy.fixed_bps = HaircutPolicy.Mode.FIXED, {"weekend": 1_234}
        policy.save()
    assert reads()["TSLAx"].haircut_bps == 1_234
    assert reads() == reads(shared=False)


def test_the_account_shows_a_new_price_in_the_same_second(on, django_capture_on_commit_callbacks):
    user = make_user()
    fund_and_supply(account_for_user(user), "TSLAx", "10")
    client = api_client(user)
    before = client.get("/api/v1/account/").json()
    with django_capture_on_commit_callbacks(execute=True):
        set_price("TSLAx", "1")
    after = client.get("/api/v1/account/").json()
    assert after["total_collateral_usd"] != before["total_collateral_usd"]
