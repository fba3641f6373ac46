"""A new oracle round reaches the scanner through the oracle's signal (oracles never import lending); the system
accounts come back after a flush."""
from django.apps import apps as global_apps
from django.dispatch import receiver

from oracles.signals import round_published


@receiver(round_published, dispatch_uid="lending.scan_on_round")
def scan_on_round(sender, round_id: int, **kwargs) -> None:
    """One scan per oracle write (a whole tick, or an admin's price), keyed by its latest round."""
    from .services import liquidation_scan_enqueue

    # quiet: a broker outage must not fail the price write; the beat scan catches up
    liquidation_scan_enqueue(round_key=f"round-{round_id}", oracle_round_id=round_id, quiet=True)


def system_accounts_after_migrate(sender, using, apps=global_apps, **kwargs) -> None:
    """The data migration makes the system accounts; a flush (between transactional tests) empties them."""
    from .system_accounts import ensure

    ensure(apps, using)
