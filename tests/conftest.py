"""Fixtures for every test under tests/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grokvid_nb._ratelimit import reset_limiters


@pytest.fixture(autouse=True)
def _fresh_rate_limiters() -> Iterator[None]:
    """Each test starts with no shared per-account rate limiter: a limiter made by an earlier
    test (another time scale, another account) would otherwise hold this test's requests."""
    reset_limiters()
    yield
    reset_limiters()
