"""POST /api/v1/admin/liquidations/scan/"""
import pytest

from tests.factories import api_client, make_universe, make_user

pytestmark = pytest.mark.django_db


def test_scan_is_accepted_for_staff_only(redis_up):
    make_universe()
    r = api_client(make_user(staff=True)).post("/api/v1/admin/liquidations/scan/")
    assert r.status_code == 202 and r.json()["round_key"].startswith("manual-")
    assert api_client(make_user()).post("/api/v1/admin/liquidations/scan/").status_code == 403
    assert api_client().post("/api/v1/admin/liquidations/scan/").status_code == 401
