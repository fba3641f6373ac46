from django.apps import AppConfig


class LendingConfig(AppConfig):
    name = "lending"

    def ready(self):
        from . import signals  # noqa: F401 - connects the scan to new oracle rounds
