"""After the load: wait for the keeper to settle, then report liquidations, their latency, the accounts still
under water and whether the books balance (lending.books, the same check as the tests). Prints one JSON object.
Run by bench/load/run.py with the production profile's environment."""
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django  # noqa: E402

django.setup()

from lending.books import ledger_problems  # noqa: E402
from lending.models import Account, LiquidationEvent  # noqa: E402
from lending.selectors import account_health  # noqa: E402

WAD = 10**18


def underwater(prefix: str) -> list[int]:
    out = []
    for account in Account.objects.filter(user__username__startswith=prefix, system_role__isnull=True):
        hf = account_health(account).health_factor
        if hf is not None and hf < WAD:
            out.append(account.pk)
    return out


def percentile(values: list[int], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return float(values[min(len(values) - 1, int(round(q * (len(values) - 1))))])


def main() -> None:
    prefix = os.environ.get("LOAD_USER_PREFIX", "load")
    settle = float(os.environ.get("LOAD_SETTLE_SECONDS", "30"))
    shock_at = float(os.environ.get("LOAD_SHOCK_AT") or 0)
    deadline, left, last = time.time() + settle, None, -1
    while True:
        count = LiquidationEvent.objects.count()
        left = underwater(prefix)
        if (not left and count == last) or time.time() > deadline:
            break
        last = count
        time.sleep(2)
    events = LiquidationEvent.objects.all()
    if shock_at:
        events = events.filter(created_at__gte=datetime.fromtimestamp(shock_at, UTC))
    latencies = list(events.values_list("latency_ms", flat=True))
    first_last = events.order_by("created_at").values_list("created_at", flat=True)
    problems = ledger_problems()
    print(json.dumps({
        "liquidations": LiquidationEvent.objects.count(),
        "liquidated_accounts": LiquidationEvent.objects.values("account").distinct().count(),
        "liquidations_after_shock": len(latencies),
        "liquidation_latency_ms": {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
                                   "max": max(latencies) if latencies else None},
        "shock_to_last_liquidation_seconds": round(first_last.last().timestamp() - shock_at, 2)
        if shock_at and latencies else None,
        "underwater_left": len(left or []),
        "ledger_balanced": not problems,
        "ledger_problems": problems[:20],
    }))


if __name__ == "__main__":
    main()
