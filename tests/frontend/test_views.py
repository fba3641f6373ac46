"""Pages and htmx partials, through Django's test client."""
import pytest
from django.test import Client

from lending.models import Position
from tests.factories import make_universe, make_user, set_price

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_user():
    make_universe()
    set_price("TSLAx", "250")
    user = make_user()
    client = Client()
    client.force_login(user)
    return client, user


def test_dashboard_full_and_partial():
    make_universe()
    page = Client().get("/")
    assert page.status_code == 200 and b"TSLAx" in page.content and b"htmx.min.js" in page.content
    partial = Client().get("/", HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"TSLAx" in partial.content


def test_register_lands_on_the_dashboard_with_the_health_factor():
    make_universe()
    client = Client()
    r = client.post("/register/", {"username": "erin", "password1": "a-long-pass-123", "password2": "a-long-pass-123"})
    assert r.status_code == 302 and r["Location"] == "/"
    page = client.get("/").content.decode()
    assert 'data-testid="health-factor">∞' in page and "Your supplies" in page and "Assets to borrow" in page
    assert 'aria-live="polite"' in page and 'href="#main"' in page  # live HF, skip link
    assert client.get("/account/")["Location"] == "/"  # the old account page is the dashboard now


def test_actions_one_form_each_and_inline_errors(client_user):
    client, user = client_user
    form = client.get("/act/borrow/?asset=USDC", HTTP_HX_REQUEST="true").content.decode()
    assert '<label for="borrow-asset">Asset</label>' in form and '<label for="borrow-amount">Amount</label>' in form
    assert form.count('type="submit"') == 1 and ">Borrow</button>" in form and ">Max</button>" in form
    for action, asset, amount in [("faucet", "TSLAx", "10"), ("supply", "TSLAx", "10"), ("borrow", "USDC", "1000")]:
        r = client.post(f"/act/{action}/", {"asset": asset, "amount": amount}, HTTP_HX_REQUEST="true")
        assert r.status_code == 200 and b"done." in r.content, r.content[:500]
    assert Position.objects.get(account__user=user, reserve__asset__symbol="USDC").scaled_debt > 0
    r = client.post("/act/borrow/", {"asset": "USDC", "amount": "1.1234567"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and b"more than 6 decimals" in r.content
    r = client.post("/act/borrow/", {"asset": "USDC", "amount": "999999"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and b"exceeds your borrowing power" in r.content
    assert client.post("/act/launder/", {"asset": "USDC", "amount": "1"}).status_code == 404
    # without htmx a success redirects to the dashboard, with the notice
    r = client.post("/act/faucet/", {"asset": "USDC", "amount": "5"}, follow=True)
    assert r.redirect_chain == [("/", 302)] and b"Faucet of 5 USDC done." in r.content


def test_preview_before_and_after_and_max(client_user):
    """10 TSLAx at $250, LTV 55%, LT 65%: borrowing 1,000 USDC takes HF from ∞ to 2,500 x 0.65 / 1,000 = 1.62
    and borrowing power from $1,375 to $375; too much is refused inline, with status 200."""
    client, _ = client_user
    for action, asset, amount in [("faucet", "TSLAx", "10"), ("supply", "TSLAx", "10")]:
        client.post(f"/act/{action}/", {"asset": asset, "amount": amount}, HTTP_HX_REQUEST="true")
    p = client.post("/act/borrow/preview/", {"asset": "USDC", "amount": "1000"}, HTTP_HX_REQUEST="true")
    text = p.content.decode()
    assert p.status_code == 200 and 'data-max="1375"' in text
    assert 'data-testid="hf-after">1.62<' in text and "$1,375.00 → " in text and ">$375.00<" in text
    refused = client.post("/act/borrow/preview/", {"asset": "USDC", "amount": "2000"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200 and b"you can borrow at most about 1375 USDC" in refused.content
    bad = client.post("/act/borrow/preview/", {"asset": "USDC", "amount": "NaN"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and b"plain decimal number" in bad.content
    # "max" works on every form: here the most you can borrow
    r = client.post("/act/borrow/", {"asset": "USDC", "amount": "max"}, HTTP_HX_REQUEST="true")
    assert b"Borrow of 1375 USDC done." in r.content
    client.post("/act/faucet/", {"asset": "USDC", "amount": "10"}, HTTP_HX_REQUEST="true")
    repay = client.post("/act/repay/preview/", {"asset": "USDC", "amount": ""}, HTTP_HX_REQUEST="true")
    assert b'data-max="max"' in repay.content  # the wallet covers the debt: Max repays all of it, interest included
    r = client.post("/act/repay/", {"asset": "USDC", "amount": "max"}, HTTP_HX_REQUEST="true")
    assert b"Repay of 1375" in r.content and 'data-testid="health-factor">∞' in r.content.decode()


def test_dashboard_requires_nothing_but_actions_require_login():
    make_universe()
    assert Client().get("/act/supply/").status_code == 302
    assert Client().get("/history/").status_code == 302
    wallet = Client().get("/login/wallet/").content.decode()
    assert "window.ethereum" not in wallet and "siwe.js" in wallet and "No wallet?" in wallet


def test_market_page_has_chart_data():
    make_universe()
    set_price("TSLAx", "250")
    r = Client().get("/markets/TSLAx/")
    assert r.status_code == 200 and b'id="chart-data"' in r.content
    status = r.content.decode().split('data-testid="market-status"')[1].split("</p>")[0]
    assert 'class="badge session-' in status and "data-countdown" in status  # the badge and the live countdown


def _liquidated_borrower():
    """The DESIGN hand-worked case: 100 TSLAx at $250, 17,000 USDC borrowed, TSLAx to $225, one keeper step."""
    from lending import keeper, services
    from tests.factories import fund_and_supply, set_reserve

    make_universe()
    set_reserve("TSLAx", ltv_bps=7_000, liquidation_threshold_bps=7_500, liquidation_bonus_bps=10_500)
    set_price("TSLAx", "250")
    user = make_user()
    account = services.account_for_user(user)
    fund_and_supply(account, "TSLAx", "100")
    services.account_borrow(account=account, symbol="USDC", amount=17_000 * 10**6)
    set_price("TSLAx", "225")
    assert len(keeper.keeper_run(account_ids=[account.pk], round_key="ui")) == 1
    return user, account


def test_history_lists_actions_and_liquidations_with_units():
    user, _ = _liquidated_borrower()
    client = Client()
    client.force_login(user)
    page = client.get("/history/").content.decode()
    assert "Liquidations" in page and "<td>Borrow</td><td>USDC</td><td class=\"num\">17,000</td>" in page
    assert "8,500 USDC" in page and '<span class="hf danger">0.99</span> → ' in page and "$225.00" in page
    other = Client()
    other.force_login(make_user())
    assert "8,500 USDC" not in other.get("/history/").content.decode()  # nobody else's


def test_dashboard_shows_the_risk_outlook_and_the_health_factor_chart():
    user, _ = _liquidated_borrower()  # liquidated once, with debt left: HF > 1 now
    from lending import services

    services.account_borrow(account=services.account_for_user(user), symbol="USDC", amount=100 * 10**6)
    client = Client()
    client.force_login(user)
    page = client.get("/").content.decode()
    assert 'data-testid="outlook"' in page and "next NYSE close" in page and "next NYSE open" in page
    assert 'id="hf-chart-data"' in page and '"label": "Health factor"' in page and 'role="img"' in page
    assert 'data-testid="liquidation-prices"' in page and 'data-testid="current-ltv"' in page
    partial = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="hf-value"' in partial and "hf-chart-data" not in partial  # the poll skips the chart


def _set_wallet(user, symbol, whole):
    from lending.models import WalletBalance

    WalletBalance.objects.filter(account__user=user, asset__symbol=symbol).update(amount=whole * 10**6)


PREVIEW_REFUSALS = [  # (setup, action, asset, amount, the API's error code): one validation path for both
    ("fresh", "faucet", "TSLAx", "0", "invalid_amount"),
    ("fresh", "faucet", "USDC", "99999999", "faucet_limit_exceeded"),
    ("fresh", "supply", "TSLAx", "5", "insufficient_balance"),
    ("paused", "supply", "TSLAx", "5", "reserve_paused"),
    ("frozen", "supply", "TSLAx", "5", "reserve_frozen"),
    ("collateral", "withdraw", "TSLAx", "0", "invalid_amount"),
    ("collateral", "withdraw", "TSLAx", "11", "insufficient_balance"),
    ("fresh", "withdraw", "TSLAx", "1", "insufficient_balance"),
    ("debt", "withdraw", "TSLAx", "9", "health_factor_too_low"),
    ("fresh", "borrow", "USDC", "100", "no_collateral"),
    ("collateral", "borrow", "USDC", "5000", "borrowing_power_exceeded"),
    ("frozen", "borrow", "USDC", "100", "reserve_frozen"),
    ("paused", "borrow", "USDC", "100", "reserve_paused"),
    ("collateral", "repay", "USDC", "10", "no_debt"),
    ("debt", "repay", "USDC", "2000", "insufficient_balance"),
    ("paused", "repay", "USDC", "10", "reserve_paused"),
]


@pytest.mark.parametrize("setup, action, symbol, amount, code", PREVIEW_REFUSALS)
def test_the_previews_refusal_is_the_apis_error_and_the_preview_changes_nothing(client_user, setup, action,
                                                                                symbol, amount, code):
    import html
    import re

    from tests.api.action_cases import snapshot
    from tests.factories import api_client, fund_and_supply, set_reserve

    client, user = client_user
    account = user.account
    if setup in ("collateral", "debt", "paused", "frozen"):
        fund_and_supply(account, "TSLAx", "10")
    if setup in ("debt", "paused"):
        client.post("/act/borrow/", {"asset": "USDC", "amount": "1000"}, HTTP_HX_REQUEST="true")
        _set_wallet(user, "USDC", 10)
    if setup in ("paused", "frozen"):
        set_reserve(symbol, **{setup: True})
    before = snapshot()
    page = client.post(f"/act/{action}/preview/", {"asset": symbol, "amount": amount}, HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and snapshot() == before
    shown = re.search(r'data-testid="refusal">(.*?)</p>', page.content.decode(), re.S)
    assert shown, page.content.decode()
    error = api_client(user).post(f"/api/v1/account/{action}/", {"asset": symbol, "amount": amount},
                                  format="json").json()["error"]
    assert error["code"] == code and html.unescape(shown.group(1)) == error["message"]
    assert snapshot() == before
    if error["field"] == "asset":  # refused whatever the amount: said as soon as the form opens
        opened = client.post(f"/act/{action}/preview/", {"asset": symbol, "amount": ""}, HTTP_HX_REQUEST="true")
        assert html.escape(error["message"]) in opened.content.decode()


def test_history_paginates_25_a_page(client_user):
    from lending import services

    client, user = client_user
    for _ in range(30):
        services.account_faucet(account=user.account, symbol="USDC", amount=10**6)
    first = client.get("/history/").content.decode()
    assert first.count("<td>Faucet</td>") == 25 and "Page 1 of 2" in first and 'href="?page=2" rel="next"' in first
    second = client.get("/history/?page=2").content.decode()
    assert second.count("<td>Faucet</td>") == 5 and 'href="?page=1" rel="prev"' in second
