"""The audit trail of a production-shaped deployment: ``stsd serve --workers 2`` on a real
PostgreSQL. Each worker has its own writer process; every record reaches the store and the
files exactly once (no two writers' files collide), and a clean shutdown leaves no writer behind.

Skipped when the PostgreSQL binaries are missing (an error with ``STSD_REQUIRE_BACKENDS=1``)."""

from __future__ import annotations

import contextlib
import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from stsd.store.db import make_engine
from stsd.store.models import AuditEvent
from stsd.testing_backends import (
    BackendUnavailable,
    DatabaseStsdServer,
    create_database,
    new_master_key,
    postgres_server,
)
from tests.audit.conftest import ACCOUNT_A, file_records, request_id, wait_for

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_server())
        except BackendUnavailable as error:
            if os.environ.get("STSD_REQUIRE_BACKENDS") == "1":
                pytest.fail(f"STSD_REQUIRE_BACKENDS=1 but {error}", pytrace=False)
            pytest.skip(str(error))
        yield create_database(url, f"stsd_audit_{os.getpid()}")


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            for child in map(int, (task / "children").read_text().split()):
                found += [child, *_descendants(child)]
    return found


def _writers(pid: int) -> dict[int, int]:
    """The audit writer processes under ``pid``: writer pid → its parent (a server worker)."""
    out = {}
    for child in _descendants(pid):
        with contextlib.suppress(FileNotFoundError):
            if b"stsd.audit.worker" in Path(f"/proc/{child}/cmdline").read_bytes():
                stat = Path(f"/proc/{child}/stat").read_text()
                out[child] = int(stat[stat.rindex(")") + 2:].split()[1])
    return out


def _store(url: str) -> list[dict]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [orjson.loads(raw) for raw in connection.scalars(select(AuditEvent.record))]
    finally:
        engine.dispose()


def test_two_workers_on_postgresql(pg_url):
    server = DatabaseStsdServer(database=pg_url, accounts=(ACCOUNT_A,), extra_args=("--workers", "2"),
                                env={"STSD_MASTER_KEY": new_master_key(), "STSD_AUDIT_FLUSH_SECONDS": "0.2"})
    server.start()
    try:
        assert server._process is not None
        writers = wait_for(lambda: (w := _writers(server._process.pid)) and len(w) == 2 and w)
        assert len(set(writers.values())) == 2, "one writer per worker"
        # Fresh clients (connections) so that both workers serve some of the calls.
        sent = [request_id(server.client("sts").get_caller_identity()) for _ in range(30)]
        wait_for(lambda: set(sent) <= {r["requestID"] for r in _store(pg_url)}, timeout=30)
        wait_for(lambda: set(sent) <= {r["requestID"] for r in file_records(server)}, timeout=30)
        stored = [r for r in _store(pg_url) if r["requestID"] in sent]
        in_files = [r for r in file_records(server) if r["requestID"] in sent]
        assert len(stored) == len(in_files) == 30
        assert Counter(r["eventID"] for r in in_files).most_common(1)[0][1] == 1
        assert {r["eventID"] for r in stored} == {r["eventID"] for r in in_files}
        assert all(r["recipientAccountId"] == ACCOUNT_A and r["eventName"] == "GetCallerIdentity" for r in stored)

        last = request_id(server.client("sts").get_caller_identity())
        server.stop(signal.SIGTERM)
        assert last in {r["requestID"] for r in _store(pg_url)}  # delivered before the server exited
        assert not [pid for pid in writers if Path(f"/proc/{pid}").exists()
                    and "Z" not in Path(f"/proc/{pid}/stat").read_text().split(") ")[1][:1]]
    finally:
        server.cleanup()
