from rest_framework import serializers

from core.aave.engines import ENGINES
from core.simulation.montecarlo import PATH_KINDS
from core.simulation.paths import POLICIES

from ..models import MonteCarloRun
from ..selectors import montecarlo_progress


class MonteCarloInSerializer(serializers.Serializer):
    assets = serializers.ListField(child=serializers.CharField(max_length=20), min_length=1, max_length=10,
                                   help_text="collateral symbols with shipped price history, e.g. [\"TSLAx\"]")
    engines = serializers.ListField(child=serializers.ChoiceField(ENGINES), min_length=1, max_length=2,
                                    default=list(ENGINES))
    policy = serializers.ChoiceField(POLICIES, default="calibrated", help_text="closed-market haircut policy")
    paths = serializers.ChoiceField(PATH_KINDS, default="simulated",
                                    help_text="simulated, historical, or a named stress on simulated paths")
    n_paths = serializers.IntegerField(default=100, help_text="1..5000")
    hours = serializers.IntegerField(default=24 * 14, help_text="path length in hourly steps (24..2880)")
    accounts = serializers.IntegerField(default=1_000, help_text="borrowers in the book (1..100000)")
    seed = serializers.IntegerField(default=0, help_text="fixes every draw: the book and each path")
    chunk_size = serializers.IntegerField(required=False, help_text="paths per chunk (default: about 10 chunks)")
    seize_at = serializers.ChoiceField(["reference", "haircut"], default="reference",
                                       help_text="price the seized collateral at the reference price (default) "
                                                 "or the haircut price (the old rule, to compare)")


class MonteCarloProgressSerializer(serializers.Serializer):
    chunks_done = serializers.IntegerField()
    chunks_total = serializers.IntegerField()
    percent = serializers.FloatField()


class MonteCarloSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(MonteCarloRun.Status.values)
    assets = serializers.ListField(child=serializers.CharField())
    engines = serializers.ListField(child=serializers.CharField())
    policy = serializers.CharField()
    paths = serializers.CharField()
    n_paths = serializers.IntegerField()
    hours = serializers.IntegerField()
    accounts = serializers.IntegerField()
    seed = serializers.IntegerField()
    spec = serializers.JSONField(help_text="the inputs snapshotted when queued (reserve parameters, haircut tables)")
    progress = MonteCarloProgressSerializer()
    result = serializers.JSONField(allow_null=True, help_text='{"paths", "borrowed_usd", "engines": {ENGINE: '
                                                              '{"bad_debt_usd": {"mean", "p50", "p90", "p95", "p99", '
                                                              '"max"}, "bad_debt_share_of_borrows": {...}, ...}}}')
    error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    @staticmethod
    def from_run(run) -> dict:
        spec = run.spec
        return {"id": run.pk, "status": run.status, "assets": [a["symbol"] for a in spec["assets"]],
                "engines": spec["engines"], "policy": spec["policy"], "paths": spec["paths"], "n_paths": run.n_paths,
                "hours": spec["hours"], "accounts": spec["accounts"], "seed": spec["seed"], "spec": spec,
                "progress": montecarlo_progress(run), "result": run.result, "error": run.error,
                "created_at": run.created_at, "started_at": run.started_at, "finished_at": run.finished_at}
