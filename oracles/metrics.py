"""Scrape-time oracle metrics for /metrics (registered in OraclesConfig.ready()): staleness per feed."""
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from markets.models import Asset

from .selectors import oracle_reads

FLAGS = ("stale", "depeg", "outlier", "halted", "unknown")


def collect_feeds():
    now = timezone.now()
    age = GaugeMetricFamily("oracle_price_age_seconds", "Seconds since each feed's reference price last changed.",
                            labels=["asset", "source"])
    round_age = GaugeMetricFamily("oracle_round_age_seconds", "Seconds since each feed's latest round.",
                                  labels=["asset", "source"])
    flagged = GaugeMetricFamily("oracle_feed_flag", "1 when the oracle's read of the asset carries the flag "
                                "(stale: no change for longer than the heartbeat while the market is open).",
                                labels=["asset", "flag"])
    for symbol, read in sorted(oracle_reads(Asset.objects.all(), at=now).items()):
        if read.updated_at is not None:
            age.add_metric([symbol, read.source], read.price_age_seconds)
            round_age.add_metric([symbol, read.source], (now - read.updated_at).total_seconds())
        for flag in FLAGS:
            flagged.add_metric([symbol, flag], 1 if flag in read.flags else 0)
    yield age
    yield round_age
    yield flagged
