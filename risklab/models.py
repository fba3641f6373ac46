"""Monte Carlo runs of the vectorised core (core.simulation.montecarlo), split into chunks that workers claim."""
from django.db import models

from common.models import Job


class MonteCarloRun(Job):
    """One run: the spec it computes from (snapshotted when queued), its chunks' progress, the reduced result."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        REDUCING = "reducing"  # the last chunk is in; one worker (claimed by a conditional UPDATE) reduces
        DONE = "done"
        FAILED = "failed"

    spec = models.JSONField(help_text="core.simulation.montecarlo's spec: assets and parameters, engines, policy, "
                                      "paths, hours, accounts, seed")
    n_paths = models.PositiveIntegerField()
    chunks_total = models.PositiveIntegerField()
    chunks_done = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)

    def __str__(self):
        return f"Monte Carlo run {self.pk} ({self.status}, {self.chunks_done}/{self.chunks_total})"


class MonteCarloChunk(models.Model):
    """Paths [path_start, path_stop) of a run. Claimed queued -> running with a lease; a lease that ran out (its
    worker died) can be claimed again; the result is stored once (running -> done, by the claim that holds it)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"

    run = models.ForeignKey(MonteCarloRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    path_start = models.PositiveIntegerField()
    path_stop = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)  # claims so far; the claim number is the lease's token
    result = models.JSONField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="uniq_chunk_per_run")]

    def __str__(self):
        return f"chunk {self.index} of run {self.run_id} ({self.status})"
