"""On PostgreSQL, concurrent borrows on one account never both pass a check only one of them could."""
import threading

import pytest
from django.db import connection, connections

from common.errors import DomainError
from lending import services
from lending.models import Position
from tests.factories import fund_and_supply, make_account, make_universe, set_price

E6 = 10**6


@pytest.mark.django_db(transaction=True)
def test_concurrent_borrows_stay_within_borrowing_power():
    assert connection.vendor == "postgresql"
    make_universe()
    set_price("TSLAx", "250")
    account = make_account()
    fund_and_supply(account, "TSLAx", "100")  # $25,000 at LTV 55% -> $13,750 of power
    results, barrier = [], threading.Barrier(8)

    def borrow():
        try:
            barrier.wait()
            services.account_borrow(account=account, symbol="USDC", amount=4_000 * E6)
            results.append("ok")
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=borrow) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 3 x 4,000 = 12,000 fits in 13,750; a 4th would need 16,000
    assert results.count("ok") == 3, results
    assert set(results) - {"ok"} == {"borrowing_power_exceeded"}
    debt = Position.objects.get(account=account, reserve__asset__symbol="USDC").scaled_debt
    assert debt <= 12_000 * E6 + 1
