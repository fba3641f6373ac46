"""schemathesis 4 on every operation, authenticated as staff, all phases: no 5xx, every response conforms."""
import os
import subprocess
import sys

import pytest
from rest_framework.authtoken.models import Token

from lending import services
from tests.factories import fund_and_supply, make_universe, make_user, set_price

pytestmark = pytest.mark.django_db(transaction=True)


def test_api_survives_the_fuzzer(live_server, tmp_path):
    make_universe()
    set_price("TSLAx", "250")
    staff = make_user("fuzzer", staff=True)
    account = services.account_for_user(staff)
    fund_and_supply(account, "TSLAx", "100")
    services.account_faucet(account=account, symbol="USDC", amount=1_000 * 10**6)
    services.account_borrow(account=account, symbol="USDC", amount=1_000 * 10**6)
    token = Token.objects.create(user=staff).key
    cmd = [
        os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run",
        f"{live_server.url}/api/v1/schema/?format=json", "--url", live_server.url,
        "-H", f"Authorization: Token {token}",
        "--checks", "not_a_server_error,response_schema_conformance",
        "--max-examples", os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"), "--seed", "20261123",
        "--request-timeout", "30", "--workers", "1", "--warnings", "off",
        "--report-dir", str(tmp_path),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    tail = "\n".join(result.stdout.splitlines()[-60:])
    assert result.returncode == 0, tail
    assert " passed" in result.stdout, tail
