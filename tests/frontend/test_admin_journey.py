"""A risk admin in a real browser (Playwright driving Debian's Chromium) with a real Celery worker: retune AAPLx's
LTV with a reason (seeing who it puts at risk before saving), shock the price in percent, watch the keeper's
liquidation arrive, unpin the price, revert the retune; the console at 390 px; no console errors, no serious
or critical axe-core violation. Screenshots go to $UI_SCREENSHOTS/admin_journey (default /tmp/ui_screenshots)."""
import os
from pathlib import Path

import pytest

from tests.frontend.test_browser import page, risk_admin, universe  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("UI_SCREENSHOTS", "/tmp/ui_screenshots")) / "admin_journey"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def borrower(universe):  # noqa: F811 - the fixture imported above
    """bob: 100 AAPLx at $200 (LTV 40%, threshold 50%), 7,000 USDC borrowed: HF 1.43."""
    from lending import services
    from tests.factories import fund_and_supply, make_user, set_price

    set_price("AAPLx", "200")
    account = services.account_for_user(make_user("bob"))
    fund_and_supply(account, "AAPLx", "100")
    services.account_borrow(account=account, symbol="USDC", amount=7_000 * 10**6)
    return account


def serious_axe_violations(page) -> list[str]:  # noqa: F811
    """axe-core, evaluated through the DevTools protocol (the page's CSP allows no injected script)."""
    assert AXE.exists(), "axe-core is missing: npm ci installs it (package.json)"
    page.evaluate(AXE.read_text())
    return page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
        .filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).slice(0, 3).join(", "))""")


def shot(page, name: str) -> None:  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_admin_journey(risk_admin, borrower, worker_process, page, live_server):  # noqa: F811
    worker_process()
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill("risk-rita")
    page.get_by_label("Password", exact=True).fill("a-long-pass-123")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Risk console").click()
    page.get_by_role("heading", name="Accounts at risk", exact=True).wait_for()
    assert "bob" in page.get_by_test_id("accounts-at-risk").inner_text()
    # bob's HF (10,000 x 50% / 7,000, floored) in the dashboard's amber band (warn from 1.5 down); every feed
    # here is pinned, and flagged so
    assert page.get_by_test_id("accounts-at-risk").locator(".hf.warn").first.inner_text() == "1.42"
    assert page.get_by_test_id("exposure").locator("tr", has_text="AAPLx").get_by_text("pinned").is_visible()
    assert serious_axe_violations(page) == []
    shot(page, "1-console")

    # Retune AAPLx: the preview names bob before anything is saved.
    page.get_by_role("navigation", name="Asset desks").get_by_role("link", name="AAPLx", exact=True).click()
    page.get_by_label("LTV (%)").fill("30")
    preview = page.get_by_test_id("risk-preview")
    preview.get_by_text("1 account at risk").wait_for()
    assert "bob" in preview.inner_text() and "over LTV" in preview.inner_text()
    shot(page, "2-preview")
    page.get_by_label("Reason (required, goes to the audit trail)").fill("weekend risk")
    page.get_by_role("button", name="Save parameters").click()
    page.get_by_text("Parameters saved and audited.").wait_for()

    # Shock AAPLx by -35% now: $130, HF 0.93; the scan on the worker liquidates bob, and the list shows it.
    page.get_by_label("Move the price by (%)").fill("-35")
    page.get_by_label("When").select_option("now")
    page.get_by_label("Reason", exact=True).first.fill("drill")
    page.get_by_role("button", name="Shock", exact=True).click()
    page.get_by_text("AAPLx -35%: now $130").wait_for()
    page.get_by_test_id("liquidations").get_by_text("bob").wait_for(timeout=30_000)
    assert page.get_by_test_id("liquidations").locator(".hf.danger").count() >= 1  # HF 0.93 before, in red
    shot(page, "3-liquidated")

    # Unpin: back on the simulated feed at its own price.
    page.get_by_label("Reason for ending the pin").fill("drill over")
    page.get_by_role("button", name="Unpin").click()
    page.get_by_text("AAPLx is back on its simulated feed").wait_for()
    assert page.get_by_test_id("price-source").inner_text() == "simulated"

    # Revert the LTV change: a reason and a confirmation.
    row = page.get_by_test_id("audit").locator("tr", has_text="ltv_bps")
    row.get_by_label("Revert change", exact=False).click()
    row.get_by_label("Reason for the revert").fill("too tight")
    row.get_by_label("Set ltv_bps back to 40%").check()
    row.get_by_role("button", name="Revert change").click()
    page.get_by_text("reserve:AAPLx ltv_bps is back to 40%").wait_for()
    assert serious_axe_violations(page) == []
    shot(page, "4-reverted")

    # 390 px: wide tables scroll inside their cards, the page itself does not.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/risk/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "5-console-390")
