"""Monte Carlo runs: queue one (validated, its inputs snapshotted), run its chunks on any number of workers, reduce.

Each chunk is claimed by a conditional UPDATE (queued -> running, with a lease); a chunk whose lease ran out (its
worker died) can be claimed again. Its result is stored by the claim that holds it (running -> done for that
attempt only), in the same transaction that counts it on the run, so a redelivered or twice-run chunk is counted
once. The transaction that counts the last chunk also claims the reduction (running -> reducing, conditional on
every chunk being in) and writes the result: it happens once, and a worker killed during it rolls it all back,
so the redelivered chunk does it again. A chunk whose claimant died is put back and sent again by the beat's sweep
(montecarlo_requeue_stale) once its lease runs out, not after the broker's visibility timeout. Services never
import tasks: chunks go out by task name after commit."""
from __future__ import annotations

import functools
import math
import os
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from common.errors import DomainError, NotFound, Unprocessable
from common.queue import enqueue_on_commit
from markets.models import Asset, Reserve

from .models import MonteCarloChunk, MonteCarloRun

TASK = "risklab.run_montecarlo_chunk"
QUEUE = "simulations"
MAX_ASSETS, MAX_PATHS, MAX_ACCOUNTS, MAX_CHUNKS = 10, 5_000, 100_000, 200
MIN_HOURS, MAX_HOURS = 24, 24 * 120
# path-steps x accounts x assets x engines a run may ask for (about an hour of one core at the benchmark's speed)
MAX_WORK = 2 * 10**11


def lease_seconds() -> int:
    """How long a claimed chunk is its worker's; longer than a chunk takes, shorter than the broker's visibility
    timeout is not required (a redelivery that finds a live lease waits and retries)."""
    return int(getattr(settings, "MONTECARLO_LEASE_SECONDS", os.environ.get("MONTECARLO_LEASE_SECONDS", 120)))


def _int(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(f"{name} must be a JSON integer.", field=name)
    if not lo <= value <= hi:
        raise DomainError(f"{name} must be between {lo:,} and {hi:,}.", field=name)
    return value


def _asset_spec(asset: Asset, *, policy: str, coverage: float) -> dict:
    from core.clock import MarketClock
    from core.haircut import calibrated as haircut
    from core.prices import bar_price, daily_rows
    from core.simulation import backtest

    reserve = Reserve.objects.filter(asset=asset).first()
    if reserve is None or not reserve.collateral_enabled or not reserve.liquidation_threshold_bps:
        raise Unprocessable(f"{asset.symbol} is not collateral in this pool.", code="not_collateral", field="assets")
    path = haircut.PRICES_DIR / f"{asset.underlying}.csv"
    if not asset.underlying or not path.exists():
        raise Unprocessable(f"No price history ships for {asset.symbol}; Monte Carlo covers "
                            f"{', '.join(sorted(p.stem for p in haircut.PRICES_DIR.glob('*.csv')))}.",
                            code="no_price_history", field="assets")
    ltv, lt = reserve.ltv_bps, reserve.liquidation_threshold_bps
    if policy == "kamino":
        if asset.underlying not in backtest.KAMINO_LTV_LT:
            raise Unprocessable(f"Kamino lists no {asset.underlying} market.", code="refused", field="policy")
        ltv, lt = backtest.KAMINO_LTV_LT[asset.underlying]
    fixed = {}
    if policy == "fixed":
        hp = getattr(asset, "haircut_policy", None)
        fixed = dict(hp.fixed_bps) if hp is not None and hp.fixed_bps else backtest.fixed_table(
            backtest.load_bars(path, MarketClock.get("XNYS").gap_kind), date(2025, 1, 1), coverage)
    *_, last = daily_rows(path)
    return {"symbol": asset.symbol, "ticker": asset.underlying, "ltv_bps": ltv, "liquidation_threshold_bps": lt,
            "liquidation_bonus_bps": reserve.liquidation_bonus_bps,
            "protocol_fee_bps": reserve.liquidation_protocol_fee_bps, "price": bar_price(last[3]) / 10**8,
            "sigma": haircut.default_sigma(asset.underlying) or asset.volatility_bps / 10_000, "fixed_bps": fixed}


def montecarlo_spec(*, assets: list[str], engines: list[str], policy: str, paths: str, hours: int, accounts: int,
                    seed: int, seize_at: str = "reference") -> dict:
    """The run's inputs, checked and snapshotted: reserve parameters, the pool's v4 knobs, haircut tables."""
    from core.aave import engines as engine_rules
    from core.aave.v4 import PoolConfigError, validate_collateral
    from core.haircut import calibrated as haircut
    from core.simulation import montecarlo
    from core.simulation import paths as path_kinds
    from markets.selectors import pool_get

    if not isinstance(assets, list) or not 1 <= len(assets) <= MAX_ASSETS or \
            not all(isinstance(s, str) for s in assets):
        raise DomainError(f"assets must list 1 to {MAX_ASSETS} symbols.", field="assets")
    if len(set(assets)) != len(assets):
        raise DomainError("assets must not repeat.", field="assets")
    if not isinstance(engines, list) or not engines or not set(engines) <= set(engine_rules.ENGINES) or \
            len(set(engines)) != len(engines):
        raise DomainError(f"engines must list some of {', '.join(engine_rules.ENGINES)}.", field="engines")
    if policy not in path_kinds.POLICIES:
        raise DomainError(f"policy must be one of {', '.join(path_kinds.POLICIES)}.", field="policy")
    if paths not in montecarlo.PATH_KINDS:
        raise DomainError(f"paths must be one of {', '.join(montecarlo.PATH_KINDS)}.", field="paths")
    if seize_at not in ("reference", "haircut"):
        raise DomainError("seize_at must be reference or haircut.", field="seize_at")
    hours = _int("hours", hours, montecarlo.MIN_STRESS_HOURS if paths in path_kinds.STRESSES else MIN_HOURS,
                 MAX_HOURS)
    accounts = _int("accounts", accounts, 1, MAX_ACCOUNTS)
    seed = _int("seed", seed, 0, 2**32 - 1)
    found = {a.symbol: a for a in Asset.objects.filter(symbol__in=assets).select_related("haircut_policy")}
    missing = [s for s in assets if s not in found]
    if missing:
        raise NotFound(f"Unknown asset {missing[0]!r}.", code="unknown_asset", field="assets")
    hp = getattr(found[assets[0]], "haircut_policy", None)
    coverage = float(hp.coverage) if hp is not None else 0.99
    spec_assets = [_asset_spec(found[s], policy=policy, coverage=coverage) for s in assets]
    if "v4" in engines:
        for a in spec_assets:
            try:
                validate_collateral(max_bonus_bps=a["liquidation_bonus_bps"],
                                    collateral_factor_bps=a["liquidation_threshold_bps"])
            except PoolConfigError as exc:
                raise Unprocessable(f"{a['symbol']}: {exc}", code="invalid_for_v4", field="engines") from None
    pool = pool_get()
    return {"assets": spec_assets, "engines": engines, "policy": policy, "paths": paths, "hours": hours,
            "accounts": accounts, "seed": seed, "seize_at": seize_at, "k": haircut.k_for(coverage),
            "coverage": coverage, "start": montecarlo.DEFAULT_START,
            "pool": {"target_health_factor_bps": pool.target_health_factor_bps,
                     "liquidation_bonus_factor_bps": pool.liquidation_bonus_factor_bps,
                     "health_factor_for_max_bonus_bps": pool.health_factor_for_max_bonus_bps}}


@transaction.atomic
def montecarlo_create(*, assets: list[str], engines: list[str], policy: str, paths: str, n_paths: int,
                      hours: int, accounts: int, seed: int, chunk_size: int | None = None,
                      seize_at: str = "reference", actor=None) -> MonteCarloRun:
    """Queue a run: one chunk task per `chunk_size` paths on the simulations queue, sent once this commits."""
    spec = montecarlo_spec(assets=assets, engines=engines, policy=policy, paths=paths, hours=hours,
                           accounts=accounts, seed=seed, seize_at=seize_at)
    n_paths = _int("n_paths", n_paths, 1, MAX_PATHS)
    if chunk_size is None:
        chunk_size = max(1, math.ceil(n_paths / 10))
    chunk_size = _int("chunk_size", chunk_size, max(1, math.ceil(n_paths / MAX_CHUNKS)), n_paths)
    work = n_paths * hours * accounts * len(spec["assets"]) * len(engines)
    if work > MAX_WORK:
        raise Unprocessable(f"That run is too large ({work:.2e} account-asset-steps; the limit is {MAX_WORK:.0e}): "
                            "ask for fewer paths, accounts or hours.", code="too_large", field="n_paths")
    run = MonteCarloRun.objects.create(spec=spec, n_paths=n_paths, chunks_total=math.ceil(n_paths / chunk_size),
                                       created_by=actor if actor is not None and actor.is_authenticated else None)
    chunks = MonteCarloChunk.objects.bulk_create(
        MonteCarloChunk(run=run, index=k, path_start=s, path_stop=min(s + chunk_size, n_paths))
        for k, s in enumerate(range(0, n_paths, chunk_size)))

    def failed():  # the run must not sit queued with nobody to run it
        MonteCarloRun.objects.filter(pk=run.pk).update(status=MonteCarloRun.Status.FAILED,
                                                       finished_at=timezone.now(),
                                                       error="The task broker was unreachable; nothing ran.")

    for chunk in chunks:
        enqueue_on_commit(TASK, args=[chunk.pk], queue=QUEUE, on_failure=failed)
    return run


def montecarlo_chunk_claim(*, chunk_id: int) -> int | None:
    """Claim a chunk (queued, or running on a lease that ran out): the claim's token (attempt number), or None."""
    now = timezone.now()
    claimed = MonteCarloChunk.objects.filter(
        Q(status=MonteCarloChunk.Status.QUEUED) | Q(status=MonteCarloChunk.Status.RUNNING, lease_until__lt=now),
        pk=chunk_id, run__status__in=[MonteCarloRun.Status.QUEUED, MonteCarloRun.Status.RUNNING],
    ).update(status=MonteCarloChunk.Status.RUNNING, lease_until=now + timedelta(seconds=lease_seconds()),
             attempts=F("attempts") + 1)
    if claimed != 1:
        return None
    return MonteCarloChunk.objects.values_list("attempts", flat=True).get(pk=chunk_id)


@transaction.atomic
def montecarlo_chunk_store(*, chunk_id: int, token: int, result: dict) -> bool:
    """Store a chunk's result under the claim `token` and count it; reduce the run if it was the last. False (and
    nothing written) if the claim was lost: another worker took the lease over, or the chunk is already done."""
    now = timezone.now()
    # queued with the same token: the sweep put the chunk back after its lease ran out, yet nobody has claimed it
    # since (a claim bumps `attempts`), so this slow claimant's result is still the only one
    stored = MonteCarloChunk.objects.filter(pk=chunk_id, attempts=token, status__in=[
        MonteCarloChunk.Status.RUNNING, MonteCarloChunk.Status.QUEUED]).update(status=MonteCarloChunk.Status.DONE,
                                                                   result=result, finished_at=now)
    if stored != 1:
        return False
    run_id = MonteCarloChunk.objects.values_list("run_id", flat=True).get(pk=chunk_id)
    MonteCarloRun.objects.filter(pk=run_id).update(chunks_done=F("chunks_done") + 1)  # locks the run row
    # the last chunk in claims the reduction; the row lock above makes the count exact
    if MonteCarloRun.objects.filter(pk=run_id, status=MonteCarloRun.Status.RUNNING,
                                    chunks_done=F("chunks_total")).update(status=MonteCarloRun.Status.REDUCING):
        montecarlo_reduce(run_id=run_id)
    return True


def montecarlo_reduce(*, run_id: int) -> None:
    """Every chunk's result into the run's (called inside the transaction that claimed the reduction)."""
    from core.simulation import montecarlo

    run = MonteCarloRun.objects.get(pk=run_id)
    results = list(MonteCarloChunk.objects.filter(run_id=run_id, status=MonteCarloChunk.Status.DONE)
                   .order_by("index").values_list("result", flat=True))
    result = montecarlo.reduce(run.spec, results)
    MonteCarloRun.objects.filter(pk=run_id, status=MonteCarloRun.Status.REDUCING).update(
        status=MonteCarloRun.Status.DONE, result=result, finished_at=timezone.now())


def montecarlo_chunk_execute(*, chunk_id: int) -> tuple[str, float]:
    """Claim, compute and store one chunk. Returns ("done" | "already_done" | "busy" | "gone", seconds to wait
    before trying again when busy: another worker's lease is live)."""
    from core.simulation import montecarlo

    token = montecarlo_chunk_claim(chunk_id=chunk_id)
    if token is None:
        chunk = MonteCarloChunk.objects.filter(pk=chunk_id).select_related("run").first()
        if chunk is None or chunk.run.status == MonteCarloRun.Status.FAILED:
            return "gone", 0.0
        if chunk.status == MonteCarloChunk.Status.DONE:
            return "already_done", 0.0
        left = (chunk.lease_until - timezone.now()).total_seconds() if chunk.lease_until else 1.0
        return "busy", max(left, 1.0)
    chunk = MonteCarloChunk.objects.select_related("run").get(pk=chunk_id)
    run = chunk.run
    MonteCarloRun.objects.filter(pk=run.pk, status=MonteCarloRun.Status.QUEUED).update(
        status=MonteCarloRun.Status.RUNNING, started_at=timezone.now())
    try:
        result = montecarlo.chunk(run.spec, chunk.path_start, chunk.path_stop)
    except Exception as exc:  # a bug or bad data: say so on the run (the worker logs the traceback)
        MonteCarloRun.objects.filter(pk=run.pk).update(status=MonteCarloRun.Status.FAILED, finished_at=timezone.now(),
                                                       error=f"internal error ({type(exc).__name__})")
        MonteCarloChunk.objects.filter(pk=chunk_id, attempts=token).update(status=MonteCarloChunk.Status.QUEUED,
                                                                           lease_until=None)
        raise
    montecarlo_chunk_store(chunk_id=chunk_id, token=token, result=result)
    return "done", 0.0


def montecarlo_resume(*, run_id: int) -> int:
    """Send again every chunk of an unfinished run that is queued or whose lease ran out (after a broker restart
    dropped its message, say). Safe to call any time: claims decide who computes. Returns the chunks sent."""
    now = timezone.now()
    ids = list(MonteCarloChunk.objects.filter(
        Q(status=MonteCarloChunk.Status.QUEUED) | Q(status=MonteCarloChunk.Status.RUNNING, lease_until__lt=now),
        run_id=run_id, run__status__in=[MonteCarloRun.Status.QUEUED, MonteCarloRun.Status.RUNNING],
    ).values_list("pk", flat=True))
    for pk in ids:
        enqueue_on_commit(TASK, args=[pk], queue=QUEUE)
    return len(ids)


def _unsent(*, pk: int, attempts: int, lease_until) -> None:
    """The broker was down: leave the chunk as the sweep found it (claimed, lease out), so the next sweep sends it."""
    MonteCarloChunk.objects.filter(pk=pk, status=MonteCarloChunk.Status.QUEUED, attempts=attempts).update(
        status=MonteCarloChunk.Status.RUNNING, lease_until=lease_until)


def montecarlo_requeue_stale(*, limit: int = 1_000) -> int:
    """The beat's sweep for dead workers: every chunk of an unfinished run still claimed after its lease ran out
    (lease_seconds(), MONTECARLO_LEASE_SECONDS) goes back to queued and is sent again, instead of waiting for the
    broker's visibility timeout (an hour in production). Each put-back is a conditional UPDATE on the claim it
    saw, so of two sweeps, or a sweep and a takeover, one acts; a message delivered twice is claimed once.
    Chunks merely waiting in the queue are left alone (re-sending them would only grow the queue). Returns the
    chunks sent."""
    now = timezone.now()
    stale = list(MonteCarloChunk.objects.filter(
        status=MonteCarloChunk.Status.RUNNING, lease_until__lt=now,
        run__status__in=[MonteCarloRun.Status.QUEUED, MonteCarloRun.Status.RUNNING],
    ).order_by("lease_until").values_list("pk", "attempts")[:limit])
    sent = 0
    for pk, attempts in stale:
        with transaction.atomic():
            if MonteCarloChunk.objects.filter(pk=pk, status=MonteCarloChunk.Status.RUNNING, attempts=attempts,
                                              lease_until__lt=now).update(status=MonteCarloChunk.Status.QUEUED,
                                                                          lease_until=None):
                enqueue_on_commit(TASK, args=[pk], queue=QUEUE, quiet=True, what=f"Monte Carlo chunk {pk}",
                                  on_failure=functools.partial(_unsent, pk=pk, attempts=attempts, lease_until=now))
                sent += 1
    return sent
