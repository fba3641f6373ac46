"""The API's only body parser: JSON, refused past a small nesting depth so nothing downstream recurses deeply."""
import re

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import APIException, ParseError
from rest_framework.utils import json

MAX_JSON_DEPTH = 32


def body_object(request) -> dict:
    """The body, or {} when it is not a JSON object: each field then answers for itself as missing."""
    return request.data if isinstance(request.data, dict) else {}


def json_depth_exceeds(data, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays/objects nest deeper than limit (iterative: never recurses itself)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def text_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """The same test on the raw text, before parsing: the C decoder recurses per level, and a library that raises
    the recursion limit (some do) turns deep input into a C stack overflow instead of a RecursionError."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            return True
    return False


class PayloadTooLarge(APIException):
    status_code = 413
    default_detail = "The request body is too large; nothing was changed."
    default_code = "payload_too_large"


class BoundedJSONParser(parsers.JSONParser):
    """JSONParser answering 400 (code too_deep) to nesting deeper than MAX_JSON_DEPTH, RecursionError included."""

    max_depth = MAX_JSON_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        too_deep = ParseError(f"JSON nested deeper than {self.max_depth} levels is refused.", code="too_deep")
        # DRF hands parsers the raw stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check: apply it here.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge()
        try:
            text = raw.decode(encoding)
            if text_depth_exceeds(text, self.max_depth):
                raise too_deep
            data = json.loads(text, parse_constant=json.strict_constant)
        except RecursionError:
            raise too_deep from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if json_depth_exceeds(data, self.max_depth):
            raise too_deep
        return data
