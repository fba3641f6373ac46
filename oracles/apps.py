from django.apps import AppConfig


class OraclesConfig(AppConfig):
    name = "oracles"

    def ready(self):
        from common.metrics import collector_register

        from . import metrics, receivers

        collector_register("oracles.feeds", metrics.collect_feeds)  # read at scrape time by GET /metrics
        receivers.connect()
