"""Platform rows every domain app uses: the audit trail, idempotency claims, process heartbeats."""
from django.conf import settings
from django.db import models


class Job(models.Model):
    """What every queued computation keeps (a backtest, a Monte Carlo run): its outcome, who asked, when."""

    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-id"]


class AuditEntry(models.Model):
    """One staff change: who, when, what, from what, to what, why (Zulip-style audit row)."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    target = models.CharField(max_length=80, help_text="e.g. reserve:TSLAx, oracle_policy:TSLAx")
    field = models.CharField(max_length=60)
    old_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)
    reason = models.TextField()

    class Meta:
        db_table = "markets_auditentry"  # made by markets before the platform app existed
        ordering = ["-id"]


class Heartbeat(models.Model):
    """Last time a process of each kind reported in; /healthz reads it."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()

    class Meta:
        db_table = "markets_heartbeat"  # made by markets before the platform app existed


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an Idempotency-Key, replayed for repeats of that key.

    The row is inserted before the action, in the action's transaction (the claim), and answered at its end,
    so other transactions only ever see it answered."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body")
    status_code = models.PositiveSmallIntegerField(null=True, help_text="null while the claiming request runs")
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "markets_idempotencyrecord"  # made by markets before the platform app existed
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="uniq_idempotency_key_per_user")]
