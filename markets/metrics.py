"""Scrape-time metrics of the reserves for /metrics (registered in MarketsConfig.ready())."""
from prometheus_client.core import GaugeMetricFamily

from .models import Reserve


def collect_reserves():
    deficit = GaugeMetricFamily("reserve_deficit_tokens", "Bad debt recorded on each reserve (Aave v3.3 deficit), "
                                "in whole tokens.", labels=["reserve"])
    deficit_base = GaugeMetricFamily("reserve_deficit_base_units", "The same deficit in the token's base units.",
                                     labels=["reserve"])
    for symbol, decimals, amount in Reserve.objects.values_list("asset__symbol", "asset__decimals", "deficit"):
        deficit.add_metric([symbol], int(amount) / 10**decimals)  # a float is fine for a chart, never for books
        deficit_base.add_metric([symbol], int(amount))
    yield deficit
    yield deficit_base
