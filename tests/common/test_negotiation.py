"""common.api.negotiation: the remembered answer is DRF's own, for every header, renderer set and override."""
import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer, StaticHTMLRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from common.api import negotiation
from common.api.negotiation import ContentNegotiation

HEADERS = [None, "*/*", "application/json", "text/html", "text/html,application/xhtml+xml,*/*;q=0.8",
           "application/json; indent=4", "application/*", "text/*;q=0.5, application/json", "image/png, */*;q=0.1",
           "application/json;q=0, text/html", "x" * 200 + ", application/json"]
RENDERER_SETS = [(JSONRenderer, BrowsableAPIRenderer), (BrowsableAPIRenderer, JSONRenderer), (JSONRenderer,),
                 (StaticHTMLRenderer, JSONRenderer)]


def _request(accept, query=""):
    extra = {"HTTP_ACCEPT": accept} if accept is not None else {}
    return Request(APIRequestFactory().get(f"/api/v1/markets/{query}", **extra))


def _answer(negotiator, request, classes, suffix=None):
    renderers = [cls() for cls in classes]
    try:
        renderer, media_type = negotiator.select_renderer(request, renderers, suffix)
    except NotAcceptable:
        return "406"
    return renderers.index(renderer), type(renderer), media_type


@pytest.fixture(autouse=True)
def _empty():
    negotiation._chosen.clear()
    yield
    negotiation._chosen.clear()


@pytest.mark.parametrize("classes", RENDERER_SETS)
@pytest.mark.parametrize("accept", HEADERS)
def test_the_answer_is_drfs_the_first_time_and_from_the_memo(accept, classes):
    drf = _answer(DefaultContentNegotiation(), _request(accept), classes)
    for _ in range(2):  # computed, then remembered
        assert _answer(ContentNegotiation(), _request(accept), classes) == drf


@pytest.mark.parametrize("query, suffix", [("?format=api", None), ("?format=json", None), ("?format=xml", None),
                                           ("?page=2", None), ("", "json")])
def test_an_override_is_negotiated_afresh_as_drf_does(query, suffix):
    for accept in (None, "text/html"):
        expected = _outcome(DefaultContentNegotiation(), accept, query, suffix)
        assert _outcome(ContentNegotiation(), accept, query, suffix) == expected
    assert negotiation._chosen == {}  # nothing remembered for these


def _outcome(negotiator, accept, query, suffix):
    try:
        return _answer(negotiator, _request(accept, query), (JSONRenderer, BrowsableAPIRenderer), suffix)
    except Exception as exc:  # noqa: BLE001 - an unknown format is DRF's 404: the same exception either way
        return type(exc)


def test_the_memo_is_bounded_and_keeps_no_refusal(monkeypatch):
    monkeypatch.setattr(negotiation._chosen, "size", 4)
    for n in range(10):
        _answer(ContentNegotiation(), _request(f"application/json; v={n}"), (JSONRenderer,))
        assert len(negotiation._chosen) <= 4
    negotiation._chosen.clear()
    assert _answer(ContentNegotiation(), _request("image/png"), (JSONRenderer,)) == "406"
    assert negotiation._chosen == {}


@pytest.mark.django_db
def test_the_api_answers_json_and_the_browsable_page_by_accept(client):
    json_answer = client.get("/api/v1/markets/", HTTP_ACCEPT="application/json")
    html_answer = client.get("/api/v1/markets/", HTTP_ACCEPT="text/html")
    assert json_answer["Content-Type"] == "application/json"
    assert html_answer["Content-Type"].startswith("text/html")
    assert client.get("/api/v1/markets/", HTTP_ACCEPT="image/png").status_code == 406
