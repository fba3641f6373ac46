from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Platform plumbing every domain app uses: API errors, idempotency, throttling, audit, health."""

    name = "common"
