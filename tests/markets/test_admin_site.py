"""Django admin: what the audited services own (reserves, oracle feeds, haircut policies) and history (audit
rows, oracle rounds, liquidations, backtests) can be read there but not changed, added or deleted."""
import pytest

from common.models import AuditEntry
from markets.models import Reserve
from oracles.models import HaircutPolicy, OracleFeed
from tests.factories import superuser_page_client

pytestmark = pytest.mark.django_db
READ_ONLY = ["markets/reserve", "common/auditentry", "oracles/oraclefeed", "oracles/haircutpolicy",
             "oracles/oracleround", "oracles/backtest", "lending/liquidationevent"]


@pytest.fixture
def superuser():
    return superuser_page_client()


@pytest.mark.parametrize("model", READ_ONLY)
def test_listed_but_not_editable(superuser, model):
    assert superuser.get(f"/admin/{model}/").status_code == 200
    assert superuser.get(f"/admin/{model}/add/").status_code == 403


def test_a_policy_cannot_be_changed_behind_the_audit(superuser):
    policy = HaircutPolicy.objects.get(asset__symbol="TSLAx")
    r = superuser.post(f"/admin/oracles/haircutpolicy/{policy.pk}/change/", {"mode": "none", "coverage": "0.9"})
    assert r.status_code in (302, 403) and HaircutPolicy.objects.get(pk=policy.pk).mode == policy.mode
    feed = OracleFeed.objects.get(asset__symbol="TSLAx")
    superuser.post(f"/admin/oracles/oraclefeed/{feed.pk}/change/", {"source": "manual"})
    assert OracleFeed.objects.get(pk=feed.pk).source == feed.source
    reserve = Reserve.objects.get(asset__symbol="TSLAx")
    superuser.post(f"/admin/markets/reserve/{reserve.pk}/delete/", {"post": "yes"})
    assert Reserve.objects.filter(pk=reserve.pk).exists()
    assert not AuditEntry.objects.exists()
