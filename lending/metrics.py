"""Scrape-time lending metrics for /metrics (registered in LendingConfig.ready()): liquidations and their
latency from the oracle round to the ledger (LiquidationEvent.latency_ms), as a histogram built by one query."""
from django.db.models import Count, Q, Sum
from prometheus_client.core import HistogramMetricFamily

from .models import LiquidationEvent

LATENCY_BUCKETS_MS = (50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000)


def collect_liquidations():
    counts = LiquidationEvent.objects.aggregate(
        total=Count("id"), total_ms=Sum("latency_ms"),
        **{f"le_{ms}": Count("id", filter=Q(latency_ms__lte=ms)) for ms in LATENCY_BUCKETS_MS})
    buckets = [(str(ms / 1000), counts[f"le_{ms}"]) for ms in LATENCY_BUCKETS_MS]
    buckets.append(("+Inf", counts["total"]))
    latency = HistogramMetricFamily("liquidation_latency_seconds", "From the oracle round's publication to the "
                                    "liquidation's ledger rows, per liquidation event.")
    latency.add_metric([], buckets, sum_value=(counts["total_ms"] or 0) / 1000)
    yield latency
