"""Fixtures for every test under tests/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grokvid_nb._ratelimit import reset_limiters
from grokvid_nb._schedule import end_ratios, queue_words


@pytest.fixture(autouse=True)
def _fresh_rate_limiters() -> Iterator[None]:
    """Each test starts with no shared per-account rate limiter: a limiter made by an earlier
    test (another time scale, another account) would otherwise hold this test's requests.
    Nor with end ratios learned by an earlier test's jobs (they move a progress job's aim), nor
    with a provider's queue word distrusted by an earlier test's job."""
    reset_limiters()
    end_ratios.clear()
    queue_words.clear()
    yield
    reset_limiters()
    end_ratios.clear()
    queue_words.clear()
