"""Principals reused across requests while the caller's account snapshot is unchanged.

A principal is a pure function of its credential and the account's directory snapshot
(``AccountView``, immutable; every IAM write produces a new one). Reusing it keeps its
memoised authorisation data (policies, condition keys) for the next request of the same
caller. An entry is only returned while the account's current snapshot is the very object
it was built from, so a change to the caller's user, role, keys or policies is seen at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable

from stsd.auth.principal import Principal
from stsd.store.directory import AccountView

MAX_ENTRIES = 4096


class PrincipalCache:
    def __init__(self, max_entries: int = MAX_ENTRIES):
        self._entries: dict[Hashable, tuple[AccountView, Principal]] = {}
        self._max = max_entries

    def get(self, key: Hashable, account: AccountView) -> Principal | None:
        entry = self._entries.get(key)
        if entry is not None and entry[0] is account:
            return entry[1]
        return None

    def put(self, key: Hashable, account: AccountView, principal: Principal) -> None:
        entries = self._entries
        if len(entries) >= self._max:
            # The oldest insertion; if another thread changed the dict meanwhile, skip this
            # eviction (the bound still holds to within a few entries).
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                del entries[next(iter(entries))]
        entries[key] = (account, principal)

    def clear(self) -> None:
        self._entries.clear()


PRINCIPALS = PrincipalCache()
