"""A new borrower in a real browser (Playwright driving Debian's Chromium): wallet sign-in without a wallet,
sign up and land on the dashboard (skip link, live HF region, ticking market countdown), take TSLAx from the
faucet, supply it (Enter submits), borrow USDC with the preview checked before submitting (a refusal first,
inline), see the health factor and its chart appear on `/`, repay with Max, withdraw with Max; the dashboard at
390 px; no console errors, no serious or critical axe-core violation. Screenshots go to
$UI_SCREENSHOTS/borrower_journey (default /tmp/ui_screenshots)."""
import os
import re
from pathlib import Path

import pytest

from tests.frontend.test_browser import page, universe  # noqa: F401 - fixtures (Chromium, console errors)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("UI_SCREENSHOTS", "/tmp/ui_screenshots")) / "borrower_journey"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page) -> list[str]:  # noqa: F811 - the fixture imported above
    """Serious and critical axe-core violations. axe is evaluated through the DevTools protocol: the app never
    serves it, and the page's CSP would refuse an injected <script>."""
    if not AXE.exists():
        pytest.fail("axe-core is missing from node_modules (make install runs npm ci)")
    page.evaluate(AXE.read_text())
    return page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
        .filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).slice(0, 3).join(", "))""")


def open_form(page, link: str) -> None:  # noqa: F811
    """A row's action link opens that action's own form in the action panel (wait for that form, not the one
    it replaces)."""
    action = link.split()[0]
    page.get_by_role("link", name=link, exact=True).first.click()
    page.locator(f"#action-panel form[action$='/act/{action.lower()}/']").wait_for()


def submit(page, amount: str, button: str, done: str) -> None:  # noqa: F811
    page.get_by_label("Amount", exact=True).fill(amount)
    page.get_by_role("button", name=button, exact=True).click()
    page.get_by_role("status").get_by_text(done).wait_for()


def test_borrower_journey(page, live_server):  # noqa: F811
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_default_timeout(10_000)
    # Wallet sign-in in a browser without window.ethereum says so plainly, and offers the password route.
    page.goto(live_server.url + "/login/wallet/")
    expect(page.locator("#siwe-status")).to_contain_text("No browser wallet found")
    expect(page.locator("#siwe-button")).to_be_hidden()
    page.goto(live_server.url + "/register/")
    page.get_by_label("Username").fill("browser-bob")
    page.get_by_label("Password", exact=True).fill("a-long-pass-123")
    page.get_by_label("Password confirmation").fill("a-long-pass-123")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(live_server.url + "/")
    hf = page.get_by_test_id("health-factor")
    expect(hf).to_have_text("∞")
    assert hf.evaluate("e => e.closest('[aria-live]').getAttribute('aria-live')") == "polite"  # the polled HF
    # The skip link is the first Tab stop, visible and outlined when focused; it moves focus to the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0 and skip.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # Market badges with a live countdown: app.js counts down to the <time>'s datetime every second (moved here
    # to 90 s from now, so the test does not depend on the hour or the day).
    expect(page.get_by_test_id("to-supply").locator(".badge").first).to_be_visible()
    countdown = page.get_by_test_id("to-supply").locator("time[data-countdown]").first
    countdown.evaluate("e => e.setAttribute('datetime', new Date(Date.now() + 90_000).toISOString())")
    expect(countdown).to_have_text(re.compile(r"^1m [23]\ds$"), timeout=3_000)
    expect(countdown).not_to_have_text(countdown.inner_text(), timeout=3_000)  # and it ticks

    open_form(page, "Faucet TSLAx")
    expect(page.get_by_label("Asset")).to_have_value("TSLAx")
    submit(page, "10", "Faucet", "Faucet of 10 TSLAx done.")
    open_form(page, "Supply TSLAx")  # Enter in the amount submits this form's action, Supply
    page.get_by_label("Amount", exact=True).fill("10")
    page.get_by_label("Amount", exact=True).press("Enter")
    page.get_by_role("status").get_by_text("Supply of 10 TSLAx done.").wait_for()

    # Borrow: the form previews before submitting: too much is refused inline, then 1,000 USDC against
    # 10 TSLAx at $250 (threshold 65%) takes the health factor from ∞ to 2,500 x 0.65 / 1,000 = 1.62.
    open_form(page, "Borrow USDC")
    page.get_by_label("Amount", exact=True).fill("5000")
    expect(page.get_by_test_id("refusal")).to_contain_text("exceeds your borrowing power")
    page.get_by_label("Amount", exact=True).fill("1000")
    expect(page.get_by_test_id("hf-after")).to_have_text("1.62")
    expect(page.get_by_test_id("power-after")).to_have_text("$375.00")
    expect(page.get_by_test_id("refusal")).to_have_count(0)
    page.screenshot(path=SHOTS / "1-borrow-preview.png", full_page=True)
    page.get_by_role("button", name="Borrow", exact=True).click()
    page.get_by_role("status").get_by_text("Borrow of 1000 USDC done.").wait_for()
    expect(hf).to_have_text("1.62")
    page.locator("#hf-chart canvas").wait_for()  # the chart arrives with the first borrow, no reload
    expect(page.get_by_test_id("liquidation-prices")).to_contain_text("$153.85")  # 1,000 / (10 x 0.65)
    assert axe_violations(page) == []
    page.goto(live_server.url + "/")  # and it is there on a fresh load of /
    expect(page.get_by_test_id("health-factor")).to_have_text("1.62")
    page.screenshot(path=SHOTS / "2-dashboard.png", full_page=True)

    # Repay with Max: with a little USDC on top of the borrowed 1,000, Max is the whole debt, interest included.
    open_form(page, "Faucet USDC")
    submit(page, "5", "Faucet", "Faucet of 5 USDC done.")
    open_form(page, "Repay USDC")
    page.get_by_role("button", name="Max", exact=True).click()
    expect(page.get_by_label("Amount", exact=True)).to_have_value("max")
    expect(page.get_by_test_id("hf-after")).to_have_text("∞")
    page.get_by_role("button", name="Repay", exact=True).click()
    page.get_by_role("status").get_by_text("Repay of 1000").wait_for()
    expect(page.get_by_test_id("health-factor")).to_have_text("∞")

    # Withdraw: more than supplied is refused inline in the service's words; Max, without debt, is all of it.
    open_form(page, "Withdraw TSLAx")
    page.get_by_label("Amount", exact=True).fill("11")
    expect(page.get_by_test_id("refusal")).to_have_text("You can withdraw at most 10 TSLAx.")
    page.get_by_role("button", name="Max", exact=True).click()
    expect(page.get_by_test_id("refusal")).to_have_count(0)
    page.get_by_role("button", name="Withdraw", exact=True).click()
    page.get_by_role("status").get_by_text("Withdraw of 10 TSLAx done.").wait_for()
    expect(page.get_by_test_id("supplies")).to_have_count(0)

    # 390 px: nothing wider than the screen (wide tables scroll inside their cards)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=SHOTS / "3-dashboard-390.png", full_page=True)
    assert axe_violations(page) == []
