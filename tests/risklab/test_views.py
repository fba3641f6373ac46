"""/risk/montecarlo/: staff queue a run from the form; the status fragment polls every second while chunks come in
and stops (returned without its trigger) once the result is there."""
import pytest
from django.test import Client

from risklab import services
from tests.factories import make_universe, make_user

pytestmark = pytest.mark.django_db


def _staff_client():
    client = Client()
    client.force_login(make_user(staff=True))
    return client


def test_staff_only():
    make_universe(seed=False)
    client = Client()
    client.force_login(make_user())
    assert client.get("/risk/montecarlo/").status_code == 302


def test_form_queues_a_run_and_the_fragment_stops_polling_when_done():
    make_universe(seed=False)
    client = _staff_client()
    page = client.get("/risk/montecarlo/")
    assert page.status_code == 200 and b"Run Monte Carlo" in page.content
    r = client.post("/risk/montecarlo/", {"assets": ["TSLAx"], "engines": ["v3.3", "v4"], "policy": "none",
                                          "paths": "simulated", "n_paths": 2, "hours": 48, "accounts": 20,
                                          "seed": 1})
    assert r.status_code == 302, r.content
    url = r["Location"]
    running = client.get(url, HTTP_HX_REQUEST="true")
    assert b'hx-trigger="every 1s"' in running.content and b"0 of 2 chunks" in running.content
    run_id = int(url.rstrip("/").split("/")[-1])
    for chunk in services.MonteCarloChunk.objects.filter(run_id=run_id):
        services.montecarlo_chunk_execute(chunk_id=chunk.pk)
    done = client.get(url, HTTP_HX_REQUEST="true")
    assert b"hx-trigger" not in done.content and b'data-testid="montecarlo-result"' in done.content
    assert b"v4" in done.content


def test_bad_form_input_is_shown_inline():
    make_universe(seed=False)
    r = _staff_client().post("/risk/montecarlo/", {"assets": ["TSLAx"], "engines": ["v3.3"], "policy": "none",
                                                   "paths": "monday_gap_all", "hours": 48, "n_paths": 1,
                                                   "accounts": 10, "seed": 1})
    assert r.status_code == 200 and b'role="alert"' in r.content


def test_backtests_page_links_here():
    make_universe(seed=False)
    assert b'href="/risk/montecarlo/"' in _staff_client().get("/backtests/").content
