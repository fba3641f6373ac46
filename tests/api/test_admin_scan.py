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


@pytest.mark.django_db(transaction=True)  # no test transaction around the request: it publishes at once, as live
def test_scan_enqueues_a_scan_task_and_says_so_when_the_broker_is_down(monkeypatch):
    from config.celery_app import app

    make_universe()
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, **kw: sent.append(kw))
    staff = api_client(make_user(staff=True))
    r = staff.post("/api/v1/admin/liquidations/scan/")
    assert r.status_code == 202
    assert sent == [{"kwargs": {"round_key": r.json()["round_key"], "oracle_round_id": None}, "queue": "liquidations"}]

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(app, "send_task", broker_down)
    r = staff.post("/api/v1/admin/liquidations/scan/")
    assert r.status_code == 503 and r.json()["error"]["code"] == "broker_unavailable"
