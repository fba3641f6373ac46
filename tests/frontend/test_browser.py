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
