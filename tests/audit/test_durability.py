"""Durability: a clean shutdown (SIGTERM/SIGINT) delivers every queued record; ``kill -9`` loses
at most what arrived during the last flush interval."""

from __future__ import annotations

import signal
import time

import pytest

from tests.audit.conftest import file_records, request_id, start_server, store_records

# On a loaded test machine a flush itself takes time; records older than interval + this
# must have been written.
FLUSH_SLACK = 0.75


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_clean_shutdown_delivers_everything(tmp_path, sig):
    # A 60 s interval: nothing would reach the store before shutdown without the final flush.
    server = start_server(tmp_path, STSD_AUDIT_FLUSH_SECONDS="60")
    try:
        sts = server.client("sts")
        sent = {request_id(sts.get_caller_identity()) for _ in range(50)}
        assert not sent & {r["requestID"] for r in store_records(server)}  # still queued
        server.stop(sig)
        stored = [r for r in store_records(server) if r["requestID"] in sent]
        files = [r for r in file_records(server) if r["requestID"] in sent]
        print(f"\n{sig.name}: sent {len(sent)}, in store {len(stored)}, in files {len(files)}")
        assert len(stored) == len(files) == len(sent) == 50
    finally:
        server.cleanup()


def test_kill_9_loses_at_most_the_last_interval(tmp_path):
    interval = 1.0
    server = start_server(tmp_path, STSD_AUDIT_FLUSH_SECONDS=str(interval))
    try:
        sts = server.client("sts")
        done: list[tuple[str, float]] = []
        started = time.monotonic()
        while time.monotonic() - started < 4.3:
            done.append((request_id(sts.get_caller_identity()), time.monotonic()))
        killed_at = time.monotonic()
        server.stop(signal.SIGKILL)
        stored = {r["requestID"] for r in store_records(server)}
        in_files = {r["requestID"] for r in file_records(server)}
        missing = [(rid, t) for rid, t in done if rid not in stored]
        window = interval + FLUSH_SLACK
        recent = [rid for rid, t in done if t > killed_at - window]
        print(f"\nkill -9: sent {len(done)} in {killed_at - started:.1f}s, in store {len(done) - len(missing)}, "
              f"missing {len(missing)}, sent in the last {window:.2f}s {len(recent)}, "
              f"oldest missing {max((killed_at - t for _, t in missing), default=0):.2f}s before the kill")
        # Everything older than one interval (plus the flush's own time) was delivered…
        assert all(killed_at - t <= window for _, t in missing)
        assert len(missing) <= len(recent)
        # …to the files too (a batch goes to the store first, then the files).
        assert all(killed_at - t <= window for rid, t in done if rid not in in_files)
        assert len(done) > 20
    finally:
        server.cleanup()
