"""Every number that crosses the boundary is bounded before it reaches the database: prices, amounts, caps,
percentages, ids and dates. A manual price more than 10x away from the current one needs an explicit confirm."""
import pytest
from django.test import Client

from common.models import AuditEntry
from core.amounts import MAX_PRICE, format_price
from markets.models import Reserve
from markets.services import MAX_VALID_CAP
from oracles.models import Backtest, HaircutPolicy, OracleFeed, OracleRound
from tests.api.action_cases import snapshot
from tests.factories import api_client, make_borrower, make_user

pytestmark = pytest.mark.django_db
PRICE_URL = "/api/v1/admin/oracle/TSLAx/price/"

HUGE_PRICES = ["999999999999.99999999", "92233720368", "92233720368.54775807", "100000000000",
               "9" * 29, "1" + "0" * 28, format_price(MAX_PRICE) + ".00000001", "9" * 400, "1" * 41 + ".5"]


@pytest.fixture
def world():
    user = make_borrower()
    staff = make_user(staff=True)
    page = Client()
    page.force_login(staff)
    return user, api_client(staff), page


def state():
    return (snapshot(), AuditEntry.objects.count(), OracleRound.objects.count(), Backtest.objects.count(),
            list(Reserve.objects.order_by("pk").values_list(*Reserve.PARAMETER_FIELDS)),
            list(HaircutPolicy.objects.order_by("pk").values_list("mode", "coverage", "fixed_bps",
                                                                  "reopen_grace_seconds")),
            list(OracleFeed.objects.order_by("pk").values_list("source", "config", "heartbeat_seconds")))


def tsla_price():
    return OracleFeed.objects.select_related("latest_round").get(asset__symbol="TSLAx").latest_round.reference_price


def assert_error(response, status, field=None, code=None):
    assert response.status_code == status, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["message"]
    if field is not None:
        assert error["field"] == field, error
    if code is not None:
        assert error["code"] == code, error


@pytest.mark.parametrize("price", HUGE_PRICES)
def test_huge_prices_are_a_400_in_the_api_and_the_risk_desk(world, price):
    _, staff, page = world
    before = state()
    for confirm in (False, True):
        assert_error(staff.post(PRICE_URL, {"price": price, "confirm": confirm, "reason": "x"}, format="json"), 400,
                     "price", "invalid_price")
        data = {"form": "price", "price": price, "reason": "x"}
        r = page.post("/risk/TSLAx/", {**data, "confirm": "on"} if confirm else data)
        assert r.status_code == 400 and b"price" in r.content
    assert state() == before


def test_the_highest_price_is_accepted_with_confirm(world):
    _, staff, _ = world
    r = staff.post(PRICE_URL, {"price": format_price(MAX_PRICE), "confirm": True}, format="json")
    assert r.status_code == 201 and tsla_price() == MAX_PRICE
    # a shock that would take it past the bound is refused, nothing moves
    before = state()
    assert_error(staff.post("/api/v1/admin/oracle/TSLAx/shock/", {"percent": "1000", "at": "now"}, format="json"),
                 400, "percent")
    assert state() == before


@pytest.mark.parametrize("price", ["2500.00000001", "2501", "92233720", "24.99999999", "0.00000001", "1"])
def test_a_price_ten_times_away_needs_confirm(world, price):
    _, staff, page = world
    before = state()
    assert_error(staff.post(PRICE_URL, {"price": price, "reason": "typo?"}, format="json"), 409, "confirm",
                 "confirmation_required")
    assert_error(staff.post(PRICE_URL, {"price": price, "confirm": False}, format="json"), 409, "confirm",
                 "confirmation_required")
    r = page.post("/risk/TSLAx/", {"form": "price", "price": price, "reason": "typo?"})
    assert r.status_code == 200 and b"confirm" in r.content and b'name="confirm"' in r.content
    assert state() == before and tsla_price() == 250 * 10**8
    audits = AuditEntry.objects.count()
    r = staff.post(PRICE_URL, {"price": price, "confirm": True, "reason": "really"}, format="json")
    assert r.status_code == 201, r.content
    assert AuditEntry.objects.count() == audits + 1 and tsla_price() != 250 * 10**8


def test_the_risk_desk_confirm_checkbox_sets_a_far_price(world):
    _, _, page = world
    audits = AuditEntry.objects.count()
    r = page.post("/risk/TSLAx/", {"form": "price", "price": "3000", "reason": "split", "confirm": "on"})
    assert r.status_code == 302 and tsla_price() == 3000 * 10**8
    assert AuditEntry.objects.count() == audits + 1


@pytest.mark.parametrize("price", ["2500", "25", "251", "249.5"])
def test_prices_within_ten_times_need_no_confirm(world, price):
    _, staff, _ = world
    assert staff.post(PRICE_URL, {"price": price}, format="json").status_code == 201


@pytest.mark.parametrize("confirm", ["true", 1, None, [], {"a": 1}])
def test_confirm_must_be_a_json_boolean(world, confirm):
    _, staff, _ = world
    before = state()
    assert_error(staff.post(PRICE_URL, {"price": "3000", "confirm": confirm}, format="json"), 400, "confirm")
    assert state() == before


@pytest.mark.parametrize("amount", ["9" * 41, "1" * 40 + "1", "9" * 40 + "." + "9" * 19, "1" * 5000,
                                    str(2**256), str(2**256 - 1), "9" * 40 + "." + "9" * 18])
@pytest.mark.parametrize("action", ["faucet", "supply", "withdraw", "borrow", "repay"])
def test_huge_amounts_are_refused_and_move_nothing(world, amount, action):
    user, _, _ = world
    client = api_client(user)
    before = state()
    r = client.post(f"/api/v1/account/{action}/", {"asset": "TSLAx", "amount": amount}, format="json")
    assert 400 <= r.status_code < 500 and r.json()["error"]["message"], r.content[:300]
    page = Client()
    page.force_login(user)
    r = page.post(f"/act/{action}/", {"asset": "TSLAx", "amount": amount})
    assert r.status_code == 200 and b'role="alert"' in r.content or b"error" in r.content
    assert state() == before


@pytest.mark.parametrize("field, value", [("supply_cap", MAX_VALID_CAP + 1), ("borrow_cap", 10**30),
                                          ("supply_cap", -1), ("ltv_bps", 10**30), ("slope2_bps", 2**63),
                                          ("liquidation_bonus_bps", 10**400)])
def test_huge_caps_and_bps_are_refused(world, field, value):
    _, staff, page = world
    before = state()
    assert_error(staff.patch("/api/v1/admin/markets/TSLAx/", {field: value, "reason": "x"}, format="json"), 400,
                 field)
    # the desk's form takes percentages and whole tokens: valid but for the one field
    form = {"form": "risk", "reason": "x", "ltv_bps": "50", "liquidation_threshold_bps": "65",
            "liquidation_bonus_bps": "7.5", "supply_cap": "0", "borrow_cap": "0"}
    if field in form:
        r = page.post("/risk/TSLAx/", {**form, field: str(value)})
        assert r.status_code == 400, r.status_code
    assert state() == before


@pytest.mark.parametrize("cap", [str(MAX_VALID_CAP + 1), "9" * 29, "100000000000000000000"])
def test_risk_desk_caps_are_bounded(world, cap):
    _, _, page = world
    before = state()
    form = {"form": "risk", "ltv_bps": "50", "liquidation_threshold_bps": "65", "liquidation_bonus_bps": "7.5",
            "supply_cap": cap, "borrow_cap": 0, "reason": "x"}  # the desk takes percentages
    assert page.post("/risk/TSLAx/", form).status_code == 400
    assert page.post("/risk/TSLAx/", {**form, "supply_cap": 0, "borrow_cap": cap}).status_code == 400
    assert state() == before
    assert page.post("/risk/TSLAx/", {**form, "supply_cap": str(MAX_VALID_CAP)}).status_code == 302


@pytest.mark.parametrize("percent", ["1000.01", "99999", "-99.01", "-100", "1" * 30, "10000"])
def test_percentages_are_bounded(world, percent):
    _, staff, page = world
    before = state()
    assert_error(staff.post("/api/v1/admin/oracle/TSLAx/shock/", {"percent": percent, "at": "now"}, format="json"),
                 400, "percent")
    assert_error(staff.post("/api/v1/admin/what-if/", {"shocks": {"TSLAx": percent}}, format="json"), 400)
    r = page.post("/risk/TSLAx/", {"form": "what-if", "percent": percent, "at": "now"})
    assert r.status_code == 400
    assert state() == before


def test_pending_shocks_cannot_pile_up(world):
    _, staff, _ = world
    OracleFeed.objects.filter(asset__symbol="TSLAx").update(source="simulated")
    body = {"percent": "1000", "at": "next_open"}
    assert staff.post("/api/v1/admin/oracle/TSLAx/shock/", body, format="json").status_code == 200
    before = state()
    assert_error(staff.post("/api/v1/admin/oracle/TSLAx/shock/", body, format="json"), 400, "percent")
    assert state() == before


@pytest.mark.parametrize("path", ["/api/v1/admin/audit/{}/revert/", "/api/v1/admin/backtests/{}/"])
@pytest.mark.parametrize("entry", [str(2**63), "9" * 30, "9" * 400])
def test_huge_ids_in_paths_are_404(world, path, entry):
    _, staff, page = world
    before = state()
    method = staff.post if "revert" in path else staff.get
    r = method(path.format(entry), {"reason": "x"}, format="json") if "revert" in path else method(path.format(entry))
    assert_error(r, 404)
    assert page.get(f"/backtests/{entry}/").status_code == 404
    assert state() == before


@pytest.mark.parametrize("entry", [str(2**63), "9" * 30, "-1", "1.0", "", "1e3"])
def test_huge_or_malformed_revert_entry_on_the_risk_desk(world, entry):
    _, _, page = world
    before = state()
    r = page.post("/risk/TSLAx/", {"form": "revert", "entry": entry, "reason": "x", "confirm": "on"})
    assert r.status_code == 400 and b"Choose a change to revert" in r.content
    assert state() == before


@pytest.mark.parametrize("query", ["account=" + "9" * 30, "account=-1", "since=99999-01-01T00:00:00Z",
                                   "since=0001-01-01T00:00:00Z", "since=2024-13-01T00:00:00Z", "since=" + "2" * 60,
                                   "asset=" + "A" * 50])
def test_liquidation_filters_are_bounded(world, query):
    _, staff, _ = world
    assert_error(staff.get(f"/api/v1/liquidations/?{query}"), 400)


@pytest.mark.parametrize("at", ["99999-01-01T00:00:00Z", "0001-01-01T00:00:00", "2024-02-30T00:00:00Z",
                                "9" * 39, "2024-11-29T17:00:00+99:00"])
def test_market_status_instant_is_bounded(world, at):
    _, staff, _ = world
    assert_error(staff.get(f"/api/v1/oracle/market-status/?at={at.replace('+', '%2B')}"), 400, "at")


@pytest.mark.parametrize("change, field", [({"from": "99999-01-01"}, "from"), ({"from": "0001-01-01"}, "from"),
                                           ({"to": "2021-02-30"}, "to"), ({"to": "2021-1-5"}, "to"),
                                           ({"to": "+2021-01-05"}, "to"), ({"from": 20210101}, "from"),
                                           ({"parameters": {"ltv_bps": 10**30}}, "ltv_bps"),
                                           ({"parameters": {"ltv_bps": -(10**30)}}, "ltv_bps")])
def test_backtest_dates_and_parameters_are_bounded(world, change, field):
    _, staff, page = world
    before = state()
    body = {"asset": "SPYx", "from": "2021-01-01", "to": "2021-12-31", "policies": ["none"], **change}
    assert_error(staff.post("/api/v1/admin/backtests/", body, format="json"), 400, field)
    form = {"asset": "SPYx", "date_from": body["from"], "date_to": body["to"], "policies": ["none"],
            "ltv_bps": (body.get("parameters") or {}).get("ltv_bps", "")}
    r = page.post("/backtests/", form)
    assert r.status_code == 200 and b"errorlist" in r.content or b"error" in r.content
    assert state() == before


@pytest.mark.parametrize("body, field", [({"coverage": "1e999999"}, "coverage"), ({"coverage": "9" * 50}, "coverage"),
                                         ({"reopen_grace_seconds": 10**30}, "reopen_grace_seconds"),
                                         ({"fixed_bps": {"weekend": 10**30}}, "fixed_bps.weekend"),
                                         ({"fixed_bps": {"weekend": "800"}}, "fixed_bps.weekend")])
def test_policy_numbers_are_bounded(world, body, field):
    _, staff, _ = world
    before = state()
    assert_error(staff.patch("/api/v1/admin/oracle/TSLAx/policy/", {**body, "reason": "x"}, format="json"), 400,
                 field)
    assert state() == before


@pytest.mark.parametrize("heartbeat", [10**30, "60", 5, 7 * 86_400 + 1])
def test_source_heartbeat_is_bounded(world, heartbeat):
    _, staff, _ = world
    before = state()
    body = {"source": "replay", "ticker": "SPY", "reason": "x", "heartbeat_seconds": heartbeat}
    assert_error(staff.patch("/api/v1/admin/oracle/SPYx/source/", body, format="json"), 400, "heartbeat_seconds")
    assert state() == before
