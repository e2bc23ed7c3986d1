"""Fixtures for the policy tests."""

import pytest

from stsd.policy import parse_policy


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Parsing is cached; tests that count parses or inspect errors want a clean slate.
    parse_policy.cache_clear()
    yield
