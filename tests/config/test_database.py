"""config.settings.base.database_from_env on PostgreSQL: parameters bound by the server and hot statements prepared
(PostgreSQL then skips parsing and planning them), exact for 78-digit integers; off for a pooler that needs it."""
import pytest
from django.db import connection

from config.settings.base import PREPARE_THRESHOLD, database_from_env
from lending.models import LedgerEntry
from markets.models import Reserve
from tests.factories import make_universe

URL = "postgres://postgres@127.0.0.1:5432/somedb"


def test_postgresql_binds_on_the_server_and_prepares_and_sqlite_is_unchanged(monkeypatch):
    monkeypatch.delenv("DATABASE_PREPARED_STATEMENTS", raising=False)
    assert database_from_env(URL)["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": PREPARE_THRESHOLD}
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "0")
    assert database_from_env(URL)["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": None}
    assert "server_side_binding" not in database_from_env("sqlite:///x.db")["OPTIONS"]


@pytest.mark.django_db
def test_a_hot_statement_is_prepared_on_its_fifth_run_and_reads_exactly():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    make_universe()
    big = 10**77 + 123456789  # 78 digits, over any int8: bound as numeric
    Reserve.objects.filter(asset__symbol="USDC").update(total_scaled_supply=big)

    def prepared_count():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                           ["%markets_reserve%total_scaled_supply%"])
            return cursor.fetchone()[0]

    before = prepared_count()
    for _ in range(PREPARE_THRESHOLD + 1):
        reserve = Reserve.objects.get(asset__symbol="USDC", total_scaled_supply=big)
        assert reserve.total_scaled_supply == big
    assert prepared_count() > before
    assert Reserve.objects.filter(total_scaled_supply__gt=big - 1).count() == 1
    assert not LedgerEntry.objects.filter(amount=big).exists()
