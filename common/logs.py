"""Structured logs: one JSON object a line, carrying the request id and the Celery task id, never a secret.

The ids travel in context variables: the request middleware sets the request id, Celery's task_prerun signal the
task id (common/signals.py). Secrets are scrubbed from the message, the arguments and any extra field, by key
(password, token, authorization, cookie, ...) and by shape (`Token abc...`, `Bearer ...`, `user:pass@` in URLs),
and the configured secret values themselves (SECRET_KEY, METRICS_TOKEN, URL passwords) are blanked wherever
they appear."""
import contextvars
import json
import logging
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.core.signals import setting_changed

from .memo import BoundedMemo

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
task_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("task_id", default=None)

REDACTED = "[REDACTED]"
_SECRET_KEYS = re.compile(r"pass(word|wd)?|secret|token|authorization|cookie|session|csrf|api[_-]?key|signature|"
                          r"private[_-]?key", re.I)
_PATTERNS = [
    # `Authorization: Token abc`, `Cookie: sessionid=...`: the whole header value
    (re.compile(r"(?i)\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key)(\s*[:=]\s*)[^\r\n]+"),
     rf"\1\2{REDACTED}"),
    (re.compile(r"(?i)\b(token|bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{REDACTED}"),
    # password=..., "token": "...", sessionid=..., csrfmiddlewaretoken=...
    (re.compile(r"""(?i)\b([\w-]*(?:pass(?:word|wd)?|secret|token|sessionid|csrftoken|api[_-]?key)[\w-]*)"""
                r"""(["']?\s*[:=]\s*["']?)[^"'&\s,;}]+"""), rf"\1\2{REDACTED}"),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),  # scheme://user:pass@host
]


def _configured_secrets() -> list[str] | None:
    """The secret values in force, or None before settings are configured (logging may start first)."""
    try:
        from django.conf import settings

        values = [getattr(settings, "SECRET_KEY", ""), getattr(settings, "METRICS_TOKEN", "")]
        for url in (getattr(settings, "CELERY_BROKER_URL", ""), getattr(settings, "REDIS_URL", "")):
            values.append(urlsplit(url or "").password or "")
        values.append(settings.DATABASES.get("default", {}).get("PASSWORD") or "")
    except Exception:  # noqa: BLE001 - settings not configured yet: patterns still apply
        return None
    return [v for v in values if isinstance(v, str) and len(v) >= 6]


def _scrub(text: str, secrets: list[str]) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


_SHORT = 64
_scrubbed = BoundedMemo(4096)  # short texts scrubbed before: an access line's message and route repeat all day


def redact(text: str) -> str:
    """`text` with every secret scrubbed; a short text's answer is remembered (at most 4,096 of them, forgotten
    when the settings change, as the secrets may have)."""
    done = _scrubbed.get(text)
    if done is not None:
        return done
    secrets = _configured_secrets()
    done = _scrub(text, secrets or [])
    if secrets is not None and len(text) <= _SHORT:  # remembered only once the secrets are known
        _scrubbed.keep(text, done)
    return done


def _forget_scrubbed(**kwargs) -> None:
    _scrubbed.clear()


setting_changed.connect(_forget_scrubbed, dispatch_uid="common.logs.scrubbed")


def redact_value(key: str, value):
    if _SECRET_KEYS.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value("", v) for v in value]
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(value))


# Attributes every LogRecord has; anything else was passed as `extra=` and goes out as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id",
                                                                           "task_id"}


class ContextFilter(logging.Filter):
    """Puts the current request and task ids on every record (for any formatter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.task_id = task_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, message, request_id, task_id, extra fields, exc_info."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00",
                                                                                                         "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(message),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
            "task_id": getattr(record, "task_id", None) or task_id_var.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = redact_value(key, value)
        if record.exc_info:
            entry["exc_info"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack_info"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """Human-readable lines for `make run`, scrubbed the same way."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s %(task_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = getattr(record, "request_id", None) or request_id_var.get() or "-"
        record.task_id = getattr(record, "task_id", None) or task_id_var.get() or "-"
        return redact(super().format(record))
