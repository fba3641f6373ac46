"""Browser fixtures (Playwright driving Debian's Chromium, failing on any console error) and a risk admin's
backtest on a real worker. The borrower's journey: test_borrower_journey.py."""
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
        # Chromium's own CSP message does not say which script broke the policy: log where it happened
        page.add_init_script("document.addEventListener('securitypolicyviolation', e => console.error("
                             "'CSP violation: ' + [e.violatedDirective, e.sourceFile, e.lineNumber, e.columnNumber, "
                             "e.sample].join(' ')))")
        errors = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        browser.close()
        assert errors == [], errors


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
    page.get_by_label("From (first session)").fill("2022-01-03")
    page.get_by_label("To (last session)").fill("2024-12-31")
    page.get_by_label("kamino: Kamino's LTV/LT, frozen price, no weekend mode").uncheck()
    page.get_by_label("What-if LTV (bps, blank = the reserve's)").fill("9000")
    page.get_by_label("What-if liquidation threshold (bps)").fill("9300")
    page.get_by_label("Liquidation engine").select_option("v4")
    page.get_by_label("Seed (blank = drawn)").fill("1")
    page.get_by_label("Also recommend LTV / threshold per engine and policy (slower)").check()
    page.get_by_role("button", name="Run backtest").click()
    page.wait_for_url("**/backtests/*/")
    result = page.get_by_test_id("backtest-result")
    result.wait_for(timeout=90_000)  # the fragment polled until done, then stopped
    text = result.inner_text()
    for policy in ("none", "fixed", "calibrated", "pause_when_closed"):
        assert policy in text
    assert "kamino" not in text
    assert "Least bad debt at market" in page.content() or "Every policy ended with the same bad debt" in page.content()
    assert page.locator("#backtest-status[hx-trigger]").count() == 0
    assert "engine Aave v4" in page.content() and page.get_by_test_id("recommendation").is_visible()
    page.locator("#liquidations-chart canvas").first.wait_for()  # uPlot drew the chart after the htmx swap
    assert page.get_by_test_id("bad-debt-chart").locator("rect").count() == 4 * 5  # 4 policies x 5 size bins
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    page.screenshot(path="/tmp/ui_backtest.png", full_page=True)
