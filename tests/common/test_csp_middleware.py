"""common.middleware.CSPMiddleware sets what django-csp's own middleware sets, on every kind of response: the
settings' policy (built once, again after a settings change), a view's own policy, a nonce, an exemption, a
report-only policy and Django's debug pages."""
import pytest
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware as DjangoCSP
from django.http import HttpResponse, HttpResponseNotFound, JsonResponse
from django.test import RequestFactory, override_settings

from common.middleware import CSPMiddleware

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def _headers(middleware_class, path, make_response, *, nonce=False):
    request = RequestFactory().get(path)
    middleware = middleware_class(lambda r: make_response())
    middleware.process_request(request)
    used = str(request.csp_nonce) if nonce else None
    response = middleware.process_response(request, make_response())
    found = {h: response.get(h) for h in HEADERS}
    return {h: v.replace(used, "NONCE") if v and used else v for h, v in found.items()}, request


def _with(**attrs):
    def make():
        response = HttpResponse("<p>page</p>")
        for name, value in attrs.items():
            setattr(response, name, value)
        return response
    return make


CASES = {
    "a page": ("/", _with(), False),
    "the API": ("/api/v1/markets/", lambda: JsonResponse({"ok": True}), False),
    "a view's update": ("/", _with(_csp_update={"img-src": ["https://img.example"]}), False),
    "a view's replacement": ("/", _with(_csp_replace={"script-src": ["'self'", "https://cdn.example"]}), False),
    "an exempt view": ("/", _with(_csp_exempt=True), False),
    "a nonce asked for": ("/", _with(), True),
}


@pytest.mark.parametrize("case", CASES)
def test_the_same_headers_as_django_csp(case):
    path, make, nonce = CASES[case]
    ours, _ = _headers(CSPMiddleware, path, make, nonce=nonce)
    theirs, _ = _headers(DjangoCSP, path, make, nonce=nonce)
    assert ours == theirs
    assert (ours["Content-Security-Policy"] is None) == (case == "an exempt view")


def test_report_only_and_a_settings_change_are_followed(settings):
    before, _ = _headers(CSPMiddleware, "/", _with())
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY={"DIRECTIVES": {"default-src": ["'none'"]}},
                           CONTENT_SECURITY_POLICY={**settings.CONTENT_SECURITY_POLICY,
                                                    "EXCLUDE_URL_PREFIXES": ["/excluded/"]}):
        changed, _ = _headers(CSPMiddleware, "/", _with())
        assert changed == _headers(DjangoCSP, "/", _with())[0]
        assert changed["Content-Security-Policy-Report-Only"] and not before["Content-Security-Policy-Report-Only"]
        excluded, _ = _headers(CSPMiddleware, "/excluded/x", _with())
        assert excluded == _headers(DjangoCSP, "/excluded/x", _with())[0]
        assert excluded["Content-Security-Policy"] is None
    assert _headers(CSPMiddleware, "/", _with())[0] == before


def test_debug_pages_are_left_alone_and_a_late_nonce_is_an_error(settings):
    settings.DEBUG = True
    ours, _ = _headers(CSPMiddleware, "/missing/", lambda: HttpResponseNotFound("debug page"))
    assert ours == _headers(DjangoCSP, "/missing/", lambda: HttpResponseNotFound("debug page"))[0]
    assert ours["Content-Security-Policy"] is None
    settings.DEBUG = False
    _, request = _headers(CSPMiddleware, "/", _with())
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
