"""Sign in with Ethereum: ask for a nonce, sign an EIP-4361 message with eth-account, get an API token.

    .venv/bin/python examples/siwe_login.py --base http://127.0.0.1:8000
"""
import argparse
import sys
from datetime import UTC, datetime
from urllib.parse import urlparse

import requests
from eth_account import Account
from eth_account.messages import encode_defunct


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--key", help="hex private key (a fresh one is made if omitted)")
    args = parser.parse_args()
    wallet = Account.from_key(args.key) if args.key else Account.create()
    domain = urlparse(args.base).netloc  # must equal the Host the server sees
    nonce = requests.get(f"{args.base}/api/v1/auth/siwe/nonce/", timeout=10).json()["nonce"]
    issued = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    message = (f"{domain} wants you to sign in with your Ethereum account:\n{wallet.address}\n\n"
               f"Sign in to the lending simulator.\n\nURI: {args.base}/\nVersion: 1\nChain ID: 1\n"
               f"Nonce: {nonce}\nIssued At: {issued}")
    signature = wallet.sign_message(encode_defunct(text=message)).signature.hex()
    response = requests.post(f"{args.base}/api/v1/auth/siwe/verify/", timeout=10,
                             json={"message": message, "signature": "0x" + signature.removeprefix("0x")})
    print(response.status_code, response.json())
    return 0 if response.ok else 1


if __name__ == "__main__":
    sys.exit(main())
