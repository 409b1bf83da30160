"""The statement counts pin a request's own cost. The rate limiter's sweep of windows two
hours old runs on one request in a hundred (`access/ratelimit.SWEEP_PROBABILITY`): it is
housekeeping, not the request's cost, so here it never runs and the counts are exact."""

from __future__ import annotations

import pytest

from index_service.access import ratelimit


@pytest.fixture(autouse=True)
def no_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "SWEEP_PROBABILITY", 0.0)
