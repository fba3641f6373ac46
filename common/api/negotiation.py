"""DRF's content negotiation with its answer remembered per Accept header and renderer set.

Every API request parsed its Accept header into media types and matched them against the renderers: 2.6% of the
web processes' CPU under the load scenario, for a header that nearly every client sends the same way. The answer
depends only on the header, the renderers' classes (in order) and a format override, so a short header's answer is
kept (which renderer of the list, and the media type) and given back as DRF would give it. A request with a query
string or a format suffix, a long header, or one DRF refuses (406) is negotiated afresh each time. The memo is
bounded: clients choose the headers, so it is emptied when full rather than grown."""
from rest_framework.negotiation import DefaultContentNegotiation

from common.memo import BoundedMemo

_SHORT = 128  # longer headers are rare and negotiated afresh
_chosen = BoundedMemo(256)  # (accept, renderer classes) -> (index in the list, media type)


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if format_suffix or request.META.get("QUERY_STRING") or len(accept) > _SHORT:
            return super().select_renderer(request, renderers, format_suffix)
        key = (accept, *(type(r) for r in renderers))
        chosen = _chosen.get(key)
        if chosen is None:
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            chosen = _chosen.keep(key, (renderers.index(renderer), media_type))
        return renderers[chosen[0]], chosen[1]
