"""A Content-Security-Policy with no inline script on every page, and pages that need none: no inline
<script>, no on* handler, no inline style; in a real browser the pages (site, API docs, admin) load with no
CSP violation, htmx still swaps and the charts draw."""
import datetime
import os
from html.parser import HTMLParser

import pytest
from django.test import Client

from oracles.models import Backtest
from tests.factories import fund_and_supply, make_account, make_universe, make_user, set_price

pytestmark = pytest.mark.django_db
DATA_SCRIPT_TYPES = ("application/json", "application/ld+json")  # data blocks, never executed


class Inline(HTMLParser):
    """Collects what a policy without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__()
        self.problems, self._in_script = [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        handlers = [a for a in attrs if a.startswith("on")]
        if handlers:
            self.problems.append(f"<{tag} {handlers}>")
        if "style" in attrs:
            self.problems.append(f"<{tag} style=...>")
        if tag == "style":
            self.problems.append("<style>")
        if tag == "script":
            self._in_script = not attrs.get("src") and attrs.get("type") not in DATA_SCRIPT_TYPES
        if any(str(v or "").lower().startswith("javascript:") for v in attrs.values()):
            self.problems.append(f"<{tag} javascript: URL>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]}")


def inline_problems(html: str) -> list[str]:
    parser = Inline()
    parser.feed(html)
    return parser.problems


def assert_policy(response):
    policy = response["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["script-src"] == ["'self'"] and directives["default-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"] and directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["base-uri"] == ["'self'"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy


@pytest.fixture
def clients():
    make_universe()
    set_price("TSLAx", "250")
    account = make_account()
    fund_and_supply(account, "TSLAx", "10")
    staff = make_user(staff=True)
    staff.is_superuser = True
    staff.save()
    Backtest.objects.create(asset_id=account.positions.first().reserve.asset_id, date_from=datetime.date(2024, 1, 2),
                            date_to=datetime.date(2024, 1, 31), policies=["none"], created_by=staff)
    anon, user, admin = Client(), Client(), Client()
    user.force_login(account.user)
    admin.force_login(staff)
    return anon, user, admin


PAGES = [("anon", "/"), ("anon", "/login/"), ("anon", "/register/"), ("anon", "/markets/TSLAx/"),
         ("anon", "/no-such-page/"), ("user", "/history/"), ("user", "/"), ("admin", "/risk/"),
         ("admin", "/risk/TSLAx/"), ("admin", "/backtests/"), ("admin", "/backtests/{backtest}/")]


def test_every_page_has_the_policy_and_no_inline_code(clients):
    by_name = dict(zip(("anon", "user", "admin"), clients))
    backtest = Backtest.objects.get().pk
    for who, url in PAGES:
        r = by_name[who].get(url.format(backtest=backtest))
        assert r.status_code in (200, 404), (url, r.status_code)
        assert_policy(r)
        assert inline_problems(r.content.decode()) == [], url
    fragment = by_name["user"].get("/", HTTP_HX_REQUEST="true")  # what htmx swaps in
    assert inline_problems(fragment.content.decode()) == []


def test_api_docs_and_admin_run_without_inline_script(clients):
    anon, _, admin = clients
    docs = anon.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert_policy(docs)
    assert inline_problems(docs.content.decode()) == []
    script = anon.get("/api/v1/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert script["Content-Type"].startswith("application/javascript")
    for url in ("/admin/login/", "/admin/", "/admin/markets/reserve/"):
        r = (anon if "login" in url else admin).get(url)
        assert r.status_code == 200
        assert_policy(r)
        assert [p for p in inline_problems(r.content.decode()) if "style" not in p] == [], url


def test_api_responses_carry_the_policy(clients):
    assert_policy(clients[0].get("/api/v1/markets/"))


CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_load_in_a_browser_without_csp_violations(live_server):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is missing (make test installs it)")
        pytest.skip("Debian's chromium is not installed")
    make_universe()
    set_price("TSLAx", "250")
    account = make_account(password="a-long-pass-123")
    fund_and_supply(account, "TSLAx", "10")
    username = account.user.username  # database work before Playwright starts its event loop in this thread
    staff = make_user("csp-admin", staff=True, password="a-long-pass-123")
    staff.is_superuser = True
    staff.save()
    reserve = account.positions.first().reserve_id
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        errors = []
        # Django's admin pages name no icon, so Chromium asks for /favicon.ico (a 404, not a CSP matter)
        page.on("console", lambda msg: errors.append(f"{msg.text} {msg.location.get('url')}")
                if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico") else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # any violation, reported or not, lands here (securitypolicyviolation fires for every blocked load)
        page.add_init_script("document.addEventListener('securitypolicyviolation',"
                             " e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))")
        page.goto(live_server.url + "/")
        page.wait_for_function("window.htmx && document.querySelector('#markets table')")
        swapped = page.evaluate("""() => new Promise(done => {
            document.body.addEventListener('htmx:afterSwap', () => done(true), {once: true});
            htmx.ajax('GET', '/', {target: '#markets', swap: 'innerHTML'});
        })""")
        assert swapped
        assert page.evaluate("htmx.config.includeIndicatorStyles") is False
        assert page.locator("style").count() == 0  # htmx injected no indicator <style>
        page.goto(live_server.url + "/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("a-long-pass-123")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/")
        page.goto(live_server.url + "/")
        page.evaluate("window.swaps = 0; document.body.addEventListener('htmx:afterSwap', () => window.swaps++)")
        page.get_by_role("link", name="Withdraw TSLAx", exact=True).first.click()  # the row's own form, via htmx
        page.locator("#action-panel form[action$='/act/withdraw/']").wait_for()
        page.get_by_label("Amount", exact=True).fill("1")
        page.get_by_role("button", name="Withdraw", exact=True).click()
        page.get_by_role("status").get_by_text("Withdraw of 1 TSLAx done.").wait_for()
        assert page.evaluate("window.swaps") >= 1  # htmx posted the form and swapped the panel in place
        page.goto(live_server.url + "/markets/TSLAx/")
        page.wait_for_selector(".uplot")  # the chart drew under the policy
        page.goto(live_server.url + "/api/v1/docs/")
        page.wait_for_selector(".swagger-ui .info")
        page.context.clear_cookies()
        page.goto(live_server.url + "/admin/login/")
        page.get_by_label("Username").fill("csp-admin")
        page.get_by_label("Password").fill("a-long-pass-123")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/admin/")
        page.goto(live_server.url + "/admin/markets/asset/")
        page.goto(live_server.url + f"/admin/markets/reserve/{reserve}/change/")
        page.get_by_text("View reserve").wait_for()
        browser.close()
    assert errors == [], errors
