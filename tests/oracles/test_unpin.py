"""oracle_unpin: a pin ends, the feed the pin replaced resumes, and its price applies again at once."""
import pytest

from common.errors import Conflict, DomainError
from common.models import AuditEntry
from common.services import audit_revert
from markets.models import Asset
from oracles.models import OracleFeed, OracleRound
from oracles.selectors import oracle_read
from oracles.services import oracle_set_manual_price, oracle_unpin, round_publish
from tests.factories import make_universe, make_user

pytestmark = pytest.mark.django_db
USD = 10**8


@pytest.fixture
def pinned():
    """TSLAx on its simulated feed at $250, then pinned by an admin at $200."""
    make_universe()
    tsla = Asset.objects.get(symbol="TSLAx")
    OracleFeed.objects.filter(asset=tsla).update(source="simulated")
    round_publish(asset=tsla, reference_price=250 * USD, token_price=251 * USD, source="simulated", notify=False)
    admin = make_user(staff=True)
    oracle_set_manual_price(asset=tsla, price=200 * USD, actor=admin, reason="drill")
    assert oracle_read(tsla).reference_price == 200 * USD
    return tsla, admin


def test_unpin_resumes_the_feed_and_its_price(pinned, django_capture_on_commit_callbacks):
    tsla, admin = pinned
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rnd = oracle_unpin(asset=tsla, actor=admin, reason="drill over")
    assert callbacks, "the fresh round is announced (and scanned) once committed"
    read = oracle_read(tsla)
    assert read.source == "simulated" and rnd.source == "simulated"
    assert (read.reference_price, read.token_price) == (250 * USD, 251 * USD)  # the pinned $200 no longer applies
    price, source = AuditEntry.objects.order_by("-pk")[:2][::-1]
    assert (price.field, price.old_value, price.new_value) == ("reference_price", 200 * USD, 250 * USD)
    assert (source.field, source.old_value, source.new_value) == ("source", "manual", "simulated")
    assert source.reason == "drill over" and source.actor == admin


def test_refusals_change_nothing(pinned):
    tsla, admin = pinned
    rounds = OracleRound.objects.count()
    with pytest.raises(DomainError) as exc:
        oracle_unpin(asset=tsla, actor=admin, reason="  ")
    assert exc.value.field == "reason"
    oracle_unpin(asset=tsla, actor=admin, reason="once")
    with pytest.raises(Conflict) as exc:
        oracle_unpin(asset=tsla, actor=admin, reason="twice")
    assert exc.value.code == "not_pinned"
    with pytest.raises(Conflict) as exc:  # a stablecoin's own source is the manual $1
        oracle_unpin(asset=Asset.objects.get(symbol="USDC"), actor=admin, reason="no")
    assert exc.value.code == "no_feed_to_resume"
    assert OracleRound.objects.count() == rounds + 1


def test_a_stock_pinned_without_a_record_resumes_its_simulated_rounds():
    make_universe()  # every feed manual, with no audit row; the first rounds came from the simulated feed
    aapl = Asset.objects.get(symbol="AAPLx")
    first = OracleRound.objects.filter(asset=aapl).order_by("pk").first()
    round_publish(asset=aapl, reference_price=first.reference_price // 2, source="manual", notify=False)
    oracle_unpin(asset=aapl, actor=make_user(staff=True), reason="resume")
    assert oracle_read(aapl).source == "simulated" and oracle_read(aapl).reference_price == first.reference_price


def test_reverting_the_pin_resumes_the_price_too(pinned):
    tsla, admin = pinned
    pin = AuditEntry.objects.get(target="oracle_source:TSLAx", field="source")
    latest = audit_revert(entry_id=pin.pk, actor=admin, reason="undo")
    assert (latest.field, latest.new_value) == ("source", "simulated")
    assert oracle_read(tsla).reference_price == 250 * USD
