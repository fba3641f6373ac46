"""A bot written from the API schema alone, with plain `requests`.

It registers, takes test tokens, supplies TSLAx, borrows USDC, then watches its health factor (and the
oracle's haircut) until the regular market next closes, or for --minutes.

    .venv/bin/python examples/api_client.py --base http://127.0.0.1:8000 --minutes 2
"""
import argparse
import secrets
import sys
import time
from datetime import datetime, timezone

import requests


class Client:
    def __init__(self, base: str):
        self.base = base.rstrip("/") + "/api/v1"
        self.http = requests.Session()

    def call(self, method: str, path: str, **kwargs):
        response = self.http.request(method, self.base + path, timeout=30, **kwargs)
        body = response.json()
        if response.status_code >= 400:
            error = body["error"]
            raise SystemExit(f"{method} {path}: {response.status_code} {error['code']}: {error['message']}")
        return body

    def register(self) -> None:
        name = f"bot-{secrets.token_hex(4)}"
        token = self.call("POST", "/auth/register/", json={"username": name, "password": secrets.token_hex(12)})
        self.http.headers["Authorization"] = f"Token {token['token']}"

    def act(self, action: str, asset: str, amount: str) -> dict:
        # amounts are decimal strings; the key makes a retried request safe
        return self.call("POST", f"/account/{action}/", json={"asset": asset, "amount": amount},
                         headers={"Idempotency-Key": secrets.token_hex(8)})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--interval", type=float, default=10.0)
    args = parser.parse_args()
    bot = Client(args.base)
    bot.register()
    bot.act("faucet", "TSLAx", "10")
    bot.act("supply", "TSLAx", "10")
    power = float(bot.call("GET", "/account/")["borrowing_power_usd"])
    account = bot.act("borrow", "USDC", f"{power * 0.8:.2f}")
    print(f"borrowed {account['total_debt_usd']} USD, health factor {account['health_factor']}")
    status = bot.call("GET", "/oracle/market-status/?calendar=XNYS")
    print(f"NYSE session: {status['session']}, closure: {status['closure_kind']}, next close {status['next_close']}")
    deadline = time.time() + args.minutes * 60
    while time.time() < deadline:
        account = bot.call("GET", "/account/")
        price = bot.call("GET", "/oracle/prices/TSLAx/")
        now = datetime.now(timezone.utc).strftime("%H:%M:%S")
        print(f"{now} HF {account['health_factor']} | TSLAx {price['reference_price']} "
              f"(effective {price['effective_price']}, haircut {price['haircut_bps']} bps, {price['session']})")
        time.sleep(args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
