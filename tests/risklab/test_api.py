"""POST /api/v1/admin/montecarlo/ and GET /api/v1/admin/montecarlo/{id}/: staff queue a run (chunks run eagerly
here; tests/risklab/test_worker.py runs them on a real worker) and poll its progress and result."""
import pytest

from config.celery_app import app
from risklab import tasks
from risklab.models import MonteCarloRun
from tests.factories import api_client, make_universe, make_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/admin/montecarlo/"
BODY = {"assets": ["TSLAx"], "policy": "calibrated", "paths": "simulated", "n_paths": 3, "hours": 72,
        "accounts": 40, "seed": 9, "chunk_size": 1}


@pytest.fixture
def staff(monkeypatch):
    make_universe(seed=False)
    monkeypatch.setattr(app, "send_task",
                        lambda name, args=None, **kw: tasks.run_montecarlo_chunk.apply(args=args, throw=True))
    return api_client(make_user(staff=True))


def test_queue_run_and_poll(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = staff.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="mc-1")
    assert r.status_code == 202, r.content
    job = r.json()
    assert job["status"] == "queued" and job["progress"] == {"chunks_done": 0, "chunks_total": 3, "percent": 0.0}
    assert job["engines"] == ["v3.3", "v4"] and job["assets"] == ["TSLAx"]
    done = staff.get(f"{URL}{job['id']}/").json()
    assert done["status"] == "done" and done["progress"]["percent"] == 100.0
    assert done["result"]["paths"] == 3 and set(done["result"]["engines"]) == {"v3.3", "v4"}
    assert staff.get(URL).json()[0]["id"] == job["id"]
    replay = staff.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="mc-1")
    assert replay.status_code == 202 and MonteCarloRun.objects.count() == 1


def test_staff_only():
    make_universe(seed=False)
    assert api_client(make_user()).post(URL, BODY, format="json").status_code == 403
    assert api_client(make_user()).get(f"{URL}1/").status_code == 403
    assert api_client().get(URL).status_code in (401, 403)


BAD = [
    ({"assets": ["NOPE"]}, 404, "assets"),
    ({"assets": "TSLAx"}, 400, "assets"),
    ({"engines": ["v9"]}, 400, "engines"),
    ({"paths": "meteor"}, 400, "paths"),
    ({"n_paths": -1}, 400, "n_paths"),
    ({"hours": "NaN"}, 400, "hours"),
    ({"seed": 2**40}, 400, "seed"),
    ({"n_paths": 5_000, "accounts": 100_000, "hours": 2_880, "chunk_size": 50}, 422, "n_paths"),
]


def test_bad_input_is_a_clear_4xx_and_nothing_is_queued(staff):
    for change, status, field in BAD:
        r = staff.post(URL, {**BODY, **change}, format="json")
        assert r.status_code == status, (change, r.content)
        assert r.json()["error"]["field"] == field, change
    assert not MonteCarloRun.objects.exists()


def test_unknown_run_is_404(staff):
    r = staff.get(f"{URL}999999/")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_the_schema_names_the_endpoints(staff):
    schema = api_client().get("/api/v1/schema/?format=json").json()
    assert {"/api/v1/admin/montecarlo/", "/api/v1/admin/montecarlo/{run_id}/"} <= set(schema["paths"])
