import logging
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
application = get_wsgi_application()

# Build the OpenAPI schema before the first request: drf-spectacular's lazy set-up is not thread-safe.
try:
    from common.api.schema import cached_schema

    cached_schema()
except Exception:  # noqa: BLE001 - a schema bug must not keep the site down; the view builds it under a lock
    logging.getLogger(__name__).exception("OpenAPI schema warm-up failed")

# Compile the market clocks too (about a second of CPU a process, exchange_calendars and pandas included): the
# first requests that needed one paid it, under load a risk console's second.
from core.clock import CALENDARS, MarketClock  # noqa: E402

for calendar in CALENDARS:
    MarketClock.get(calendar)
