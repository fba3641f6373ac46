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


def _done_run(client, **change):
    body = {"assets": ["TSLAx"], "engines": ["v3.3", "v4"], "policy": "none", "paths": "simulated", "n_paths": 3,
            "hours": 48, "accounts": 20, "seed": 1, **change}
    r = client.post("/risk/montecarlo/", body)
    assert r.status_code == 302, r.content
    run_id = int(r["Location"].rstrip("/").split("/")[-1])
    for chunk in services.MonteCarloChunk.objects.filter(run_id=run_id):
        services.montecarlo_chunk_execute(chunk_id=chunk.pk)
    return r["Location"]


def test_the_result_names_policy_and_engines_for_people_and_draws_the_bad_debt_histogram():
    make_universe(seed=False)
    client = _staff_client()
    page = client.get(_done_run(client)).content.decode()
    assert "No haircut (frozen price)" in page and "<code>none</code>" in page  # never "policy none" alone
    assert page.index("<td>Aave v3.3</td>") < page.index("<td>Aave v4</td>")  # the order asked for
    assert 'data-testid="bad-debt-chart"' in page and "3 paths</title>" in page  # every path in the $0 bin
    assert "0 of 3" in page  # paths with bad debt, out of how many


def test_downloads_summary_and_per_path_csv_and_json_once_done():
    import csv
    import io
    import json

    make_universe(seed=False)
    client = _staff_client()
    url = _done_run(client)
    summary = client.get(url, {"format": "csv"})
    assert summary.status_code == 200 and summary["Content-Type"].startswith("text/csv")
    assert 'filename="montecarlo-' in summary["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(summary.content.decode())))
    assert [r["engine"] for r in rows] == ["v3.3", "v4"] and rows[0]["policy"] == "none"
    assert {"bad_debt_p99_usd", "mean_unnecessary_liquidations", "paths_with_bad_debt"} <= set(rows[0])
    per_path = list(csv.DictReader(io.StringIO(client.get(url, {"format": "paths"}).content.decode())))
    assert [(r["path"], r["engine"]) for r in per_path] == [(str(p), e) for p in range(3) for e in ("v3.3", "v4")]
    assert list(per_path[0])[:4] == ["path", "engine", "bad_debt_usd", "liquidations"]
    body = json.loads(client.get(url, {"format": "json"}).content)
    assert body["result"]["paths"] == 3 and body["spec"]["policy"] == "none" and body["status"] == "done"


def test_downloads_are_refused_before_the_run_is_done_or_in_an_unknown_format():
    make_universe(seed=False)
    client = _staff_client()
    r = client.post("/risk/montecarlo/", {"assets": ["TSLAx"], "engines": ["v3.3"], "policy": "none",
                                          "paths": "simulated", "n_paths": 1, "hours": 48, "accounts": 10,
                                          "seed": 1})
    assert client.get(r["Location"], {"format": "csv"}).status_code == 404  # queued: nothing to download
    url = _done_run(client)
    assert client.get(url, {"format": "xlsx"}).status_code == 404
