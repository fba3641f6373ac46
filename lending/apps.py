from django.apps import AppConfig


class LendingConfig(AppConfig):
    name = "lending"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import signals  # connects the scan to new oracle rounds

        post_migrate.connect(signals.system_accounts_after_migrate, sender=self, dispatch_uid="lending.system_accounts")

        from common.metrics import collector_register

        from . import metrics

        collector_register("lending.liquidations", metrics.collect_liquidations)  # read at scrape time by /metrics
