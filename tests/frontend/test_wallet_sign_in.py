"""Sign-In with Ethereum in a real browser: a stand-in EIP-1193 wallet (window.ethereum, its keys held by eth-account
on the test's side) answers the page's requests, so frontend/static/frontend/siwe.js runs as it does with MetaMask:
the EIP-55 checksum it computes, the EIP-4361 message it builds, the nonce and verify API, the session exchange.
The page without a wallet is in test_borrower_journey.py."""
import pytest

from tests.frontend.test_browser import page, universe  # noqa: F401 - fixtures (Chromium, console errors)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# window.ethereum forwards to Python: the address in lowercase (the page must checksum it itself), chain 10
WALLET = """
window.ethereum = {
  request: async ({method, params}) => {
    if (method === "eth_requestAccounts") return [await window.__walletAddress()];
    if (method === "eth_chainId") return "0xa";
    if (method === "personal_sign") return await window.__walletSign(params[0], params[1]);
    throw new Error("unsupported " + method);
  },
};
"""


def wallet_accounts(address: str) -> tuple[str | None, int]:
    from lending.models import Account

    accounts = list(Account.objects.filter(eth_address=address.lower()).select_related("user"))
    return (accounts[0].user.username if accounts else None), len(accounts)


def off_the_loop(fn, *args):
    """Django refuses the ORM in a thread running an event loop (Playwright's): ask from another thread."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def test_a_wallet_signs_in_creates_its_account_and_lands_on_the_dashboard(page, live_server):  # noqa: F811
    from eth_account import Account
    from eth_account.messages import encode_defunct
    from playwright.sync_api import expect

    wallet = Account.create()
    signed = []

    def sign(text: str, address: str) -> str:
        assert address == wallet.address  # the page sends the EIP-55 form it computed from the lowercase one
        signed.append(text)
        return "0x" + bytes(wallet.sign_message(encode_defunct(text=text)).signature).hex()

    page.expose_function("__walletAddress", lambda: wallet.address.lower())
    page.expose_function("__walletSign", sign)
    page.add_init_script(WALLET)
    page.goto(live_server.url + "/login/wallet/")
    expect(page.locator("#siwe-status")).to_have_text("A browser wallet is available.")
    page.get_by_role("button", name="Sign in with wallet").click()
    page.wait_for_url(live_server.url + "/")
    expect(page.get_by_test_id("health-factor")).to_have_text("∞")

    host = live_server.url.split("//")[1]
    assert signed and signed[0].startswith(f"{host} wants you to sign in with your Ethereum account:\n"
                                           f"{wallet.address}\n") and "\nChain ID: 10\n" in signed[0]
    username, accounts = off_the_loop(wallet_accounts, wallet.address)
    assert accounts == 1 and username.startswith("wallet-") and f"Log out ({username})" in page.content()

    # a second sign-in with the same wallet is the same account, not a new one
    page.context.clear_cookies()
    page.goto(live_server.url + "/login/wallet/")
    page.get_by_role("button", name="Sign in with wallet").click()
    page.wait_for_url(live_server.url + "/")
    assert off_the_loop(wallet_accounts, wallet.address) == (username, 1) and len(signed) == 2
