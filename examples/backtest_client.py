"""A notebook-style risk check over the API: queue a backtest of closed-market policies, poll its progress,
print which policy loses least. Needs a staff token (e.g. from `POST /api/v1/auth/token/` for a staff user).

    .venv/bin/python examples/backtest_client.py --base http://127.0.0.1:8000 --token <staff token> \
        --asset TSLAx --from 2020-01-01 --to 2024-12-31 --ltv-bps 8000 --lt-bps 8500
"""
import argparse
import secrets
import sys
import time

import requests

POLICIES = ["none", "kamino", "fixed", "calibrated", "pause_when_closed"]
COLUMNS = ["bad_debt_usd", "liquidations", "unnecessary_liquidations", "liquidation_penalty_usd", "mean_debt_usd"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="a staff user's API token")
    parser.add_argument("--asset", default="TSLAx")
    parser.add_argument("--from", dest="start", default="2020-01-01")
    parser.add_argument("--to", dest="end", default="2024-12-31")
    parser.add_argument("--policy", dest="policies", action="append", help=f"default: all of {POLICIES}")
    parser.add_argument("--ltv-bps", type=int)
    parser.add_argument("--lt-bps", type=int)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    http = requests.Session()
    http.headers["Authorization"] = f"Token {args.token}"
    api = args.base.rstrip("/") + "/api/v1/admin/backtests/"
    body = {"asset": args.asset, "from": args.start, "to": args.end, "policies": args.policies or POLICIES}
    what_if = {k: v for k, v in (("ltv_bps", args.ltv_bps), ("liquidation_threshold_bps", args.lt_bps)) if v}
    if what_if:
        body["parameters"] = what_if  # risk parameters are JSON integers (bps)
    r = http.post(api, json=body, headers={"Idempotency-Key": secrets.token_hex(8)}, timeout=30)
    if r.status_code != 202:
        error = r.json()["error"]
        sys.exit(f"{r.status_code} {error['code']}: {error['message']} (field {error['field']})")
    job = r.json()
    deadline = time.time() + args.timeout
    while job["status"] in ("queued", "running"):
        if time.time() > deadline:
            sys.exit(f"backtest {job['id']} still {job['status']} after {args.timeout:.0f} s: is a worker running?")
        print(f"backtest {job['id']}: {job['status']}, {job['progress']['percent']}%", file=sys.stderr)
        time.sleep(1)
        job = http.get(f"{api}{job['id']}/", timeout=30).json()
    if job["status"] == "failed":
        sys.exit(f"backtest {job['id']} failed: {job['error']}")
    result = job["result"]
    print(f"{result['asset']} ({result['ticker']}) {result['from']}..{result['to']}, {result['sessions']} sessions, "
          f"LTV/LT {result['parameters']['ltv_bps']}/{result['parameters']['liquidation_threshold_bps']} bps")
    print(f"{'policy':18}" + "".join(f"{c:>26}" for c in COLUMNS))
    for name, row in result["policies"].items():
        print(f"{name:18}" + "".join(f"{row[c]!s:>26}" for c in COLUMNS))
    print(f"least bad debt: {result['least_bad_debt']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
