"""A borrower in a real browser (Playwright driving Debian's Chromium): register, faucet, supply, borrow, and
see the health factor; a bad amount is explained inline; no console errors anywhere."""
import os

import pytest

from tests.factories import make_universe, set_price

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture
def universe():
    # database work happens before Playwright starts its event loop in this thread
    make_universe()
    set_price("TSLAx", "250")


@pytest.fixture
def page(universe, live_server):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is missing (make test installs it)")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        errors = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        browser.close()
        assert errors == [], errors


def act(page, asset, amount, button):
    page.get_by_label("Asset").select_option(asset)
    page.get_by_label("Amount (token units)").fill(amount)
    page.get_by_role("button", name=button, exact=True).click()


def test_borrower_journey(page, live_server):
    page.goto(live_server.url + "/register/")
    page.get_by_label("Username").fill("browser-bob")
    page.get_by_label("Password", exact=True).fill("a-long-pass-123")
    page.get_by_label("Password confirmation").fill("a-long-pass-123")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url("**/account/")
    act(page, "TSLAx", "10", "Faucet")
    page.get_by_text("Faucet of 10 TSLAx done.").wait_for()
    act(page, "TSLAx", "10", "Supply")
    page.get_by_text("Supply of 10 TSLAx done.").wait_for()
    act(page, "USDC", "1000", "Borrow")
    page.get_by_text("Borrow of 1000 USDC done.").wait_for()
    hf = page.get_by_test_id("health-factor").inner_text()
    assert hf.startswith("1.") or hf.startswith("2."), hf
    act(page, "USDC", "1.1234567", "Borrow")
    page.get_by_role("alert").get_by_text("more than 6 decimals").wait_for()
    page.screenshot(path="/tmp/ui_account.png", full_page=True)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="TSLAx").first.click()
    page.wait_for_selector("#chart canvas")


@pytest.fixture
def risk_admin(universe):
    from tests.factories import make_user

    return make_user("risk-rita", staff=True, password="a-long-pass-123")


def test_risk_admin_runs_a_backtest_on_a_real_worker(risk_admin, worker_process, page, live_server):
    """The form queues the job, a Celery worker runs it, the page polls its progress and shows the result."""
    worker_process()
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("risk-rita")
    page.get_by_label("Password").fill("a-long-pass-123")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Backtests").click()
    page.get_by_label("Asset").select_option("SPYx")
    page.get_by_label("From (first session)").fill("2015-01-01")
    page.get_by_label("To (last session)").fill("2024-12-31")
    page.get_by_label("kamino: Kamino's LTV/LT, frozen price, no weekend mode").uncheck()
    page.get_by_label("What-if LTV (bps, blank = the reserve's)").fill("9000")
    page.get_by_label("What-if liquidation threshold (bps)").fill("9300")
    page.get_by_role("button", name="Run backtest").click()
    page.wait_for_url("**/backtests/*/")
    result = page.get_by_test_id("backtest-result")
    result.wait_for(timeout=90_000)  # the fragment polled until done, then stopped
    text = result.inner_text()
    for policy in ("none", "fixed", "calibrated", "pause_when_closed"):
        assert policy in text
    assert "kamino" not in text and "Least bad debt" in page.content()
    assert page.locator("#backtest-status[hx-trigger]").count() == 0
    page.screenshot(path="/tmp/ui_backtest.png", full_page=True)
