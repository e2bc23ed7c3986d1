"""Principals reused across requests only while the account snapshot they came from is current."""

from __future__ import annotations

from datetime import UTC, datetime

from stsd.auth import principal as p
from stsd.auth.principal_cache import PrincipalCache
from stsd.store.directory import AccountView

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def view(generation: int) -> AccountView:
    return AccountView(id="123456789012", partition="aws", generation=generation,
                       global_endpoint_token_version=1, created_at=NOW)


def test_hit_only_for_the_same_snapshot_object() -> None:
    cache = PrincipalCache()
    first, second = view(1), view(1)  # equal content, different snapshots
    root = p.root("123456789012", "aws", "AKIAEXAMPLE")
    cache.put("AKIAEXAMPLE", first, root)
    assert cache.get("AKIAEXAMPLE", first) is root
    assert cache.get("AKIAEXAMPLE", second) is None
    assert cache.get("AKIAOTHER", first) is None


def test_bounded() -> None:
    cache = PrincipalCache(max_entries=3)
    snapshot = view(1)
    for n in range(10):
        cache.put(n, snapshot, p.root("123456789012", "aws", f"AKIA{n}"))
    assert len(cache._entries) == 3
    assert [cache.get(n, snapshot) is not None for n in range(10)] == [False] * 7 + [True] * 3


def test_memo_is_per_principal_and_not_part_of_equality() -> None:
    a = p.root("123456789012", "aws", "AKIAEXAMPLE")
    b = p.root("123456789012", "aws", "AKIAEXAMPLE")
    a.memo["authz"] = object()
    assert a == b and hash(a) == hash(b)
    assert b.memo == {}
