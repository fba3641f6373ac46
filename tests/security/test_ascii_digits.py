"""Only ASCII digits count as numbers: Arabic-Indic, Devanagari, mathematical bold, superscript and fullwidth
digits are a clear 400 (an inline error on the htmx account form) and move nothing."""
import pytest
from django.test import Client

from common.models import AuditEntry
from markets.models import Reserve
from oracles.models import Backtest, HaircutPolicy, OracleFeed, OracleRound
from tests.api.action_cases import snapshot
from tests.factories import api_client, make_borrower, make_universe, make_user

pytestmark = pytest.mark.django_db


def variants(ascii_text: str) -> list[str]:
    """ascii_text with its digits in other scripts, all of them and only one."""
    out = []
    for zero in (0x0660, 0x06F0, 0x0966, 0x1D7CE, 0xFF10):  # Arabic-Indic, extended, Devanagari, bold, fullwidth
        out.append("".join(chr(zero + int(c)) if c.isdigit() else c for c in ascii_text))
    sup = dict(zip("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    out.append("".join(sup.get(c, c) for c in ascii_text))
    first = next(i for i, c in enumerate(ascii_text) if c.isdigit())
    out.append(ascii_text[:first] + chr(0x0660 + int(ascii_text[first])) + ascii_text[first + 1:])
    return out


@pytest.fixture
def world():
    user = make_borrower()
    staff = make_user(staff=True)
    page = Client()
    page.force_login(staff)
    staff_api = api_client(staff)
    for ltv in (5000, 5100, 5200, 5300):  # audited changes 1.. so that entry "٣" would name a real one
        staff_api.patch("/api/v1/admin/markets/TSLAx/", {"ltv_bps": ltv, "reason": "seed"}, format="json")
    return user, staff_api, page


def state():
    return (snapshot(), AuditEntry.objects.count(), OracleRound.objects.count(), Backtest.objects.count(),
            list(Reserve.objects.order_by("pk").values_list(*Reserve.PARAMETER_FIELDS)),
            list(HaircutPolicy.objects.order_by("pk").values_list("mode", "coverage", "fixed_bps",
                                                                  "reopen_grace_seconds")),
            list(OracleFeed.objects.order_by("pk").values_list("source", "config", "heartbeat_seconds")))


def assert_400(response, field=None):
    assert response.status_code == 400, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["message"] and (field is None or error["field"] == field), error


@pytest.mark.parametrize("amount", variants("10") + ["𝟗", "٩", "1.٥", "1.５", "¹"])
@pytest.mark.parametrize("action", ["faucet", "supply", "withdraw", "borrow", "repay"])
def test_amounts(world, action, amount):
    user, _, _ = world
    client, page = api_client(user), Client()
    page.force_login(user)
    before = state()
    for asset in ("USDC", "TSLAx"):
        assert_400(client.post(f"/api/v1/account/{action}/", {"asset": asset, "amount": amount}, format="json"),
                   "amount")
        r = page.post(f"/act/{action}/", {"asset": asset, "amount": amount})
        assert r.status_code == 200 and b"plain decimal number" in r.content  # htmx swaps only 2xx
    assert state() == before


@pytest.mark.parametrize("price", variants("260") + variants("1000.5"))
def test_prices(world, price):
    _, staff, page = world
    before = state()
    assert_400(staff.post("/api/v1/admin/oracle/TSLAx/price/", {"price": price, "confirm": True}, format="json"),
               "price")
    assert page.post("/risk/TSLAx/", {"form": "price", "price": price, "confirm": "on"}).status_code == 400
    assert state() == before


@pytest.mark.parametrize("percent", variants("-20") + variants("12.5"))
def test_percentages(world, percent):
    _, staff, page = world
    before = state()
    assert_400(staff.post("/api/v1/admin/oracle/TSLAx/shock/", {"percent": percent, "at": "now"}, format="json"),
               "percent")
    assert_400(staff.post("/api/v1/admin/what-if/", {"shocks": {"TSLAx": percent}}, format="json"), "shocks.TSLAx")
    assert page.post("/risk/TSLAx/", {"form": "what-if", "percent": percent, "at": "now"}).status_code == 400
    assert state() == before


@pytest.mark.parametrize("kind", range(len(variants("3"))))
def test_audit_revert_entry(world, kind):
    _, staff, page = world
    real = AuditEntry.objects.filter(target="reserve:TSLAx", field="ltv_bps").order_by("-pk").first().pk
    before = state()
    for entry in (variants(str(real))[kind], "²", "³", "Ⅲ", "½", f" {real} x"):
        r = page.post("/risk/TSLAx/", {"form": "revert", "entry": entry, "reason": "x", "confirm": "on"})
        assert r.status_code == 400 and b"Choose a change to revert" in r.content
        r = staff.post(f"/api/v1/admin/audit/{entry}/revert/", {"reason": "x"}, format="json")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert state() == before
    ascii_entry = {"form": "revert", "entry": str(real), "reason": "x", "confirm": "on"}
    assert page.post("/risk/TSLAx/", ascii_entry).status_code == 302  # ASCII works


@pytest.mark.parametrize("value", variants("5000"))
def test_risk_desk_integers(world, value):
    _, staff, page = world
    before = state()
    # the desk's form takes percentages (53, 7.5) and whole tokens: a valid form but for the one field
    form = {"form": "risk", "reason": "x", "ltv_bps": "53", "liquidation_threshold_bps": "65",
            "liquidation_bonus_bps": "7.5", "supply_cap": "0", "borrow_cap": "0"}
    for field in ("ltv_bps", "liquidation_threshold_bps", "liquidation_bonus_bps", "supply_cap", "borrow_cap"):
        r = page.post("/risk/TSLAx/", {**form, field: value})
        assert r.status_code == 400 and b"digits 0-9" in r.content
        assert_400(staff.patch("/api/v1/admin/markets/TSLAx/", {field: value, "reason": "x"}, format="json"), field)
    assert state() == before


@pytest.mark.parametrize("value", variants("8000"))
def test_oracle_policy_source_and_backtest_numbers(world, value):
    _, staff, page = world
    before = state()
    policy = "/api/v1/admin/oracle/TSLAx/policy/"
    assert_400(staff.patch(policy, {"fixed_bps": {"weekend": value}, "reason": "x"}, format="json"),
               "fixed_bps.weekend")
    assert_400(staff.patch(policy, {"reopen_grace_seconds": value, "reason": "x"}, format="json"),
               "reopen_grace_seconds")
    assert_400(staff.patch(policy, {"coverage": "0." + value[-3:], "reason": "x"}, format="json"), "coverage")
    assert_400(staff.patch("/api/v1/admin/oracle/SPYx/source/", {"source": "replay", "ticker": "SPY", "reason": "x",
                                                                 "heartbeat_seconds": value}, format="json"),
               "heartbeat_seconds")
    body = {"asset": "SPYx", "from": "2021-01-01", "to": "2021-12-31", "policies": ["none"],
            "parameters": {"ltv_bps": value}}
    assert_400(staff.post("/api/v1/admin/backtests/", body, format="json"))
    form = {"asset": "SPYx", "date_from": "2021-01-01", "date_to": "2021-12-31", "policies": ["none"],
            "ltv_bps": value}
    r = page.post("/backtests/", form)
    assert r.status_code == 200 and b"digits 0-9" in r.content
    assert state() == before


@pytest.mark.parametrize("day", variants("2021-01-05"))
def test_dates_and_instants(world, day):
    _, staff, page = world
    before = state()
    body = {"asset": "SPYx", "from": day, "to": "2021-12-31", "policies": ["none"]}
    assert_400(staff.post("/api/v1/admin/backtests/", body, format="json"), "from")
    assert_400(staff.post("/api/v1/admin/backtests/", {**body, "from": "2021-01-05", "to": day}, format="json"), "to")
    r = page.post("/backtests/", {"asset": "SPYx", "date_from": day, "date_to": "2021-12-31", "policies": ["none"]})
    assert r.status_code == 200 and b"YYYY-MM-DD" in r.content
    assert_400(staff.get("/api/v1/oracle/market-status/", {"at": day + "T15:00:00Z"}), "at")
    assert_400(staff.get("/api/v1/liquidations/", {"since": day + "T15:00:00Z"}), "since")
    assert state() == before


@pytest.mark.parametrize("account", variants("3"))
def test_liquidation_account_filter(world, account):
    _, staff, _ = world
    assert_400(staff.get("/api/v1/liquidations/", {"account": account}), "account")


@pytest.mark.parametrize("command, args", [
    ("backtest", ["--asset", "SPYx", "--from", "٢٠٢١-٠١-٠١", "--to", "2021-12-31", "--policy", "none"]),
    ("backtest", ["--asset", "SPYx", "--from", "2021-01-01", "--to", "2021-12-31", "--policy", "none",
                  "--ltv-bps", "٥٠٠٠"]),
    ("backtest", ["--asset", "SPYx", "--from", "2021-01-01", "--to", "2021-12-31", "--policy", "none",
                  "--bonus-bps", "𝟏𝟎𝟓𝟎𝟎"]),
    ("backtest", ["--asset", "SPYx", "--from", "2021-01-01", "--to", "2021-12-31", "--policy", "none",
                  "--lt-bps", "9" * 30]),
    ("haircut_coverage", ["--prices", "core/data/prices", "--from", "2020-01-01", "--to", "２０２１-01-01"]),
    ("haircut_coverage", ["--prices", "core/data/prices", "--from", "2020-01-01", "--to", "2021-01-01",
                          "--coverage", "٠.٩٩"]),
    ("haircut_coverage", ["--prices", "core/data/prices", "--from", "2020-01-01", "--to", "2021-01-01",
                          "--coverage", "nan"]),
])
def test_management_commands(command, args):
    import io

    from django.core.management import CommandError, call_command

    make_universe()
    with pytest.raises(CommandError):
        call_command(command, *args, stdout=io.StringIO(), stderr=io.StringIO())
