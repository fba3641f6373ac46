"""markets.services.reserve_update_parameters: PoolConfigurator validation on the resulting config, plus audit."""
import pytest

from common.models import AuditEntry
from markets.models import Reserve
from markets.services import ValidationFailed, reserve_update_parameters
from tests.factories import make_universe, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    make_universe(seed=False)
    return make_user(staff=True)


def update(admin, reason="test", **changes):
    return reserve_update_parameters(symbol="TSLAx", actor=admin, changes=changes, reason=reason)


def test_raising_ltv_and_lt_together_is_validated_as_a_whole(admin):
    # LTV 80% alone would exceed LT 65%; with LT 85% in the same change it is fine
    reserve = update(admin, ltv_bps=8_000, liquidation_threshold_bps=8_500, liquidation_bonus_bps=10_500)
    assert (reserve.ltv_bps, reserve.liquidation_threshold_bps) == (8_000, 8_500)
    rows = AuditEntry.objects.filter(target="reserve:TSLAx").order_by("field")
    assert [(r.field, r.old_value, r.new_value, r.reason, r.actor) for r in rows] == [
        ("liquidation_bonus_bps", 10_750, 10_500, "test", admin),
        ("liquidation_threshold_bps", 6_500, 8_500, "test", admin),
        ("ltv_bps", 5_500, 8_000, "test", admin),
    ]


@pytest.mark.parametrize("changes, field", [
    ({"ltv_bps": 7_000}, "ltv_bps"),  # above LT 65%
    ({"liquidation_bonus_bps": 10_000}, "liquidation_bonus_bps"),  # must be > 100%
    ({"liquidation_threshold_bps": 9_500, "liquidation_bonus_bps": 10_600}, "liquidation_bonus_bps"),  # LT x bonus
    ({"reserve_factor_bps": 10_001}, "reserve_factor_bps"),
    ({"liquidation_protocol_fee_bps": 10_001}, "liquidation_protocol_fee_bps"),
    ({"optimal_usage_bps": 99}, "optimal_usage_bps"),
    ({"optimal_usage_bps": 9_901}, "optimal_usage_bps"),
    ({"slope1_bps": 40_000}, "slope1_bps"),  # above slope2
    ({"supply_cap": 68_719_476_736}, "supply_cap"),
])
def test_invalid_configs_are_refused_and_change_nothing(admin, changes, field):
    before = {f: getattr(Reserve.objects.get(asset__symbol="TSLAx"), f) for f in Reserve.PARAMETER_FIELDS}
    with pytest.raises(ValidationFailed) as err:
        update(admin, **changes)
    assert err.value.field == field
    assert err.value.message
    after = {f: getattr(Reserve.objects.get(asset__symbol="TSLAx"), f) for f in Reserve.PARAMETER_FIELDS}
    assert before == after
    assert not AuditEntry.objects.exists()


def test_reason_is_required(admin):
    with pytest.raises(ValidationFailed) as err:
        update(admin, reason="  ", ltv_bps=5_000)
    assert err.value.field == "reason"


def test_unpausing_sets_a_grace_period(admin, settings):
    settings.UNPAUSE_GRACE_SECONDS = 600
    update(admin, paused=True)
    reserve = update(admin, paused=False)
    assert reserve.grace_until is not None


def test_no_op_change_writes_no_audit(admin):
    update(admin, ltv_bps=5_500)
    assert not AuditEntry.objects.exists()


def test_default_universe_is_idempotent_and_valid():
    make_universe(seed=False)
    make_universe(seed=False)
    symbols = set(Reserve.objects.values_list("asset__symbol", flat=True))
    assert {"USDC", "USDT", "SPYx", "QQQx", "AAPLx", "TSLAx", "NVDAx", "GOOGLx", "HOODx", "MSTRx", "AAPLon",
            "TSLAon", "AMZNrh", "SPACEXpre"} <= symbols
    assert Reserve.objects.get(asset__symbol="SPYx").ltv_bps == 7_300
