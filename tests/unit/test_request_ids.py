"""Request ids: RFC 4122 version-4 UUID strings, unique."""

from __future__ import annotations

import uuid

from stsd.server.pipeline import _request_id


def test_request_ids_are_version_4_uuids_and_unique() -> None:
    seen = set()
    for _ in range(2000):
        rid = _request_id()
        parsed = uuid.UUID(rid)
        assert str(parsed) == rid
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        seen.add(rid)
    assert len(seen) == 2000
