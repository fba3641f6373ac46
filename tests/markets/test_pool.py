"""markets.services.pool_update_parameters: the pool's liquidation engine as an audited, validated parameter."""
import pytest

from common.errors import Conflict
from common.models import AuditEntry
from common.services import audit_revert
from markets.models import Pool, Reserve
from markets.selectors import pool_engine, pool_get
from markets.services import ValidationFailed, pool_update_parameters, reserve_update_parameters
from tests.factories import make_universe, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    make_universe(seed=False)
    return make_user(staff=True)


def update(admin, reason="test", **changes):
    return pool_update_parameters(actor=admin, changes=changes, reason=reason)


def test_pool_get_creates_the_default_row_once():
    assert Pool.objects.count() == 0
    pool = pool_get()
    assert (pool.liquidation_engine, pool.target_health_factor_bps, pool.liquidation_bonus_factor_bps,
            pool.health_factor_for_max_bonus_bps) == ("v3.3", 10_500, 5_000, 9_500)
    assert pool_get().pk == pool.pk and Pool.objects.count() == 1
    engine, params = pool_engine()
    assert engine == "v3.3"
    assert (params.target_health_factor, params.health_factor_for_max_bonus) == (105 * 10**16, 95 * 10**16)


def test_switch_to_v4_is_audited(admin):
    pool = update(admin, liquidation_engine="v4", target_health_factor_bps=10_300, reason="compare engines")
    assert (pool.liquidation_engine, pool.target_health_factor_bps) == ("v4", 10_300)
    assert pool_get().liquidation_engine == "v4"
    rows = AuditEntry.objects.filter(target="pool:default").order_by("field")
    assert [(r.field, r.old_value, r.new_value, r.reason, r.actor) for r in rows] == [
        ("liquidation_engine", "v3.3", "v4", "compare engines", admin),
        ("target_health_factor_bps", 10_500, 10_300, "compare engines", admin),
    ]
    assert pool_engine()[1].target_health_factor == 103 * 10**16


@pytest.mark.parametrize("changes, field", [
    ({"liquidation_engine": "v5"}, "liquidation_engine"),
    ({"target_health_factor_bps": 9_999}, "target_health_factor_bps"),      # T >= 1
    ({"target_health_factor_bps": 0}, "target_health_factor_bps"),
    ({"health_factor_for_max_bonus_bps": 10_000}, "health_factor_for_max_bonus_bps"),  # h_max < 1
    ({"liquidation_bonus_factor_bps": 10_001}, "liquidation_bonus_factor_bps"),  # f <= 100%
    ({"liquidation_bonus_factor_bps": -1}, "liquidation_bonus_factor_bps"),
    ({"target_health_factor_bps": "10500"}, "target_health_factor_bps"),
    ({"nonsense": 1}, "nonsense"),
])
def test_invalid_pool_changes_are_refused_and_change_nothing(admin, changes, field):
    pool_get()
    with pytest.raises(ValidationFailed) as err:
        update(admin, **changes)
    assert err.value.field == field and err.value.message
    assert pool_get().liquidation_engine == "v3.3" and pool_get().target_health_factor_bps == 10_500
    assert not AuditEntry.objects.exists()


def test_reason_is_required(admin):
    with pytest.raises(ValidationFailed) as err:
        update(admin, reason=" ", liquidation_engine="v4")
    assert err.value.field == "reason"


def test_v4_refuses_a_reserve_whose_bonus_times_lt_reaches_100(admin):
    # 8000 x 12500 = exactly 100%: v3.3's PoolConfigurator accepts it, v4's Spoke does not
    reserve_update_parameters(symbol="TSLAx", actor=admin, reason="edge", changes=dict(
        ltv_bps=7_000, liquidation_threshold_bps=8_000, liquidation_bonus_bps=12_500))
    AuditEntry.objects.all().delete()
    with pytest.raises(ValidationFailed) as err:
        update(admin, liquidation_engine="v4")
    assert err.value.field == "liquidation_engine" and "TSLAx" in err.value.message
    assert pool_get().liquidation_engine == "v3.3" and not AuditEntry.objects.exists()


def test_under_v4_a_reserve_change_that_breaks_it_is_refused(admin):
    update(admin, liquidation_engine="v4")
    with pytest.raises(ValidationFailed) as err:
        reserve_update_parameters(symbol="TSLAx", actor=admin, reason="x", changes=dict(
            ltv_bps=7_000, liquidation_threshold_bps=8_000, liquidation_bonus_bps=12_500))
    assert err.value.field == "liquidation_bonus_bps"
    assert Reserve.objects.get(asset__symbol="TSLAx").liquidation_threshold_bps == 6_500
    # just below (12_499 x 8000 -> percentMulUp 9_999.2 -> 10_000) is still refused; 12_400 passes
    with pytest.raises(ValidationFailed):
        reserve_update_parameters(symbol="TSLAx", actor=admin, reason="x", changes=dict(
            ltv_bps=7_000, liquidation_threshold_bps=8_000, liquidation_bonus_bps=12_499))
    reserve_update_parameters(symbol="TSLAx", actor=admin, reason="x", changes=dict(
        ltv_bps=7_000, liquidation_threshold_bps=8_000, liquidation_bonus_bps=12_400))


def test_revert_goes_back_through_the_service(admin):
    update(admin, liquidation_engine="v4", reason="try v4")
    entry = AuditEntry.objects.get(target="pool:default", field="liquidation_engine")
    undo = audit_revert(entry_id=entry.pk, actor=admin, reason="back")
    assert pool_get().liquidation_engine == "v3.3"
    assert (undo.field, undo.old_value, undo.new_value) == ("liquidation_engine", "v4", "v3.3")
    # a second revert of the same entry: the field has changed since
    with pytest.raises(Conflict):
        audit_revert(entry_id=entry.pk, actor=admin, reason="again")
