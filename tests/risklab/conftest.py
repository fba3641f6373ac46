import functools

import pytest

from tests.factories import small_gap_sampler


@pytest.fixture(autouse=True)
def _small_gaps(monkeypatch):
    """Chunks draw their gaps from one ticker's closures (the sampler over every ticker takes seconds to build)."""
    from core.simulation import paths

    monkeypatch.setattr(paths, "empirical_gaps", _sampler)


@functools.cache
def _sampler():
    return small_gap_sampler()
