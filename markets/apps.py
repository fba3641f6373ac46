from django.apps import AppConfig


class MarketsConfig(AppConfig):
    name = "markets"

    def ready(self):
        from common.metrics import collector_register

        from . import metrics, receivers

        collector_register("markets.reserves", metrics.collect_reserves)  # read at scrape time by GET /metrics
        receivers.connect()
