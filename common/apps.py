from django.apps import AppConfig


class CommonConfig(AppConfig):
    """Platform plumbing every domain app uses: API errors, idempotency, throttling, audit, health."""

    name = "common"

    def ready(self):
        from . import receivers, signals

        signals.connect()  # task ids in the logs, task runs in /metrics
        receivers.connect()  # the token authentication's cache follows user and token writes; request scopes
