"""A new oracle round reaches the scanner through the oracle's signal (oracles never import lending)."""
from django.dispatch import receiver

from oracles.signals import round_published


@receiver(round_published, dispatch_uid="lending.scan_on_round")
def scan_on_round(sender, round_id: int, **kwargs) -> None:
    from .tasks import scan_accounts

    try:
        scan_accounts.apply_async(kwargs={"round_key": f"round-{round_id}", "oracle_round_id": round_id},
                                  queue="liquidations")
    except Exception:  # noqa: BLE001 - a broker outage must not fail the price write; the beat scan catches up
        import logging

        logging.getLogger(__name__).warning("could not enqueue the scan for round %s", round_id, exc_info=True)
