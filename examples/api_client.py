"""A bot written from the API schema alone, with plain `requests`.

It registers, takes test tokens, supplies TSLAx, borrows USDC, then watches its health factor and the NYSE
session through the next regular-market close (--through-close), or for --minutes. At the close the oracle
starts haircutting the stock token's price, so the health factor steps down without any trade.

    .venv/bin/python examples/api_client.py --base http://127.0.0.1:8000 --minutes 2
    .venv/bin/python examples/api_client.py --through-close --after-close 10   # may run for hours
"""
import argparse
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

import requests


class Client:
    def __init__(self, base: str):
        self.base = base.rstrip("/") + "/api/v1"
        self.http = requests.Session()

    def call(self, method: str, path: str, **kwargs):
        response = self.http.request(method, self.base + path, timeout=30, **kwargs)
        body = response.json()
        if response.status_code >= 400:  # every error has the shape {"error": {"code", "message", "field"}}
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


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--minutes", type=float, default=1.0, help="watch this long (ignored with --through-close)")
    parser.add_argument("--through-close", action="store_true", help="watch until after the next regular close")
    parser.add_argument("--after-close", type=float, default=5.0, help="minutes to keep watching after the close")
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--borrow-share", type=Decimal, default=Decimal("0.8"), help="of the borrowing power")
    args = parser.parse_args()
    bot = Client(args.base)
    bot.register()
    bot.act("faucet", "TSLAx", "10")
    bot.act("supply", "TSLAx", "10")
    power = Decimal(bot.call("GET", "/account/")["borrowing_power_usd"])
    amount = (power * args.borrow_share).quantize(Decimal("0.01"), rounding=ROUND_DOWN)  # USDC has 6 decimals
    account = bot.act("borrow", "USDC", str(amount))
    print(f"borrowed {account['total_debt_usd']} USD, health factor {account['health_factor']}")

    status = bot.call("GET", "/oracle/market-status/?calendar=XNYS")
    close = parse_time(status["next_close"])
    print(f"NYSE session: {status['session']}, closure: {status['closure_kind']}, next close {status['next_close']}")
    if args.through_close:
        deadline = close + timedelta(minutes=args.after_close)
    else:
        deadline = datetime.now(UTC) + timedelta(minutes=args.minutes)
    session = status["session"]
    while True:
        account = bot.call("GET", "/account/")
        price = bot.call("GET", "/oracle/prices/TSLAx/")
        status = bot.call("GET", "/oracle/market-status/?calendar=XNYS")
        if status["session"] != session:
            print(f"--- NYSE {session} -> {status['session']} (closure: {status['closure_kind']})")
            session = status["session"]
        now = datetime.now(UTC)
        print(f"{now:%H:%M:%S} HF {account['health_factor']} | TSLAx {price['reference_price']} "
              f"(effective {price['effective_price']}, haircut {price['haircut_bps']} bps, {price['session']}) "
              f"liquidation below {account['liquidation_prices'].get('TSLAx')}")
        if account["health_factor"] is not None and Decimal(account["health_factor"]) < 1:
            print("health factor below 1: the keeper may liquidate this account")
        if now >= deadline:
            return 0
        time.sleep(min(args.interval, max(0.0, (deadline - now).total_seconds())))


if __name__ == "__main__":
    sys.exit(main())
