"""The audit trail's queue and background writer.

``submit`` is on the request path: it appends the finished Outcome to a bounded deque (an
atomic operation under the GIL, no lock) or, when the queue is full, counts a drop — it
never blocks and never does I/O. A writer thread wakes every flush interval, builds the
records and hands them to each sink. A sink that fails (full disk, database down) loses
that batch for that sink only, with a counter and a log line; requests never notice.

Durability: ``close`` (lifespan shutdown on SIGTERM/SIGINT) flushes everything queued; after
``kill -9`` at most what arrived since the last flush — one interval — is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from stsd.audit import metrics
from stsd.audit.record import Call, KnownAccounts, from_outcome, records
from stsd.audit.sinks import FileSink, Sink, StoreSink, encode

if TYPE_CHECKING:
    from stsd.config import Settings
    from stsd.server.pipeline import Outcome
    from stsd.store.directory import Directory

log = logging.getLogger("stsd.audit")


class AuditTrail:
    def __init__(self, directory: Directory, sinks: list[Sink], *, flush_seconds: float = 1.0,
                 max_queue: int = 20_000):
        self.directory = directory
        self.sinks = sinks
        self.flush_seconds = flush_seconds
        self.max_queue = max_queue
        self._queue: deque[Any] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self._flush_lock = threading.Lock()  # one flush at a time (writer thread vs. close)
        self._thread: threading.Thread | None = None

    @classmethod
    def create(cls, settings: Settings, engine: Engine, directory: Directory) -> AuditTrail:
        sinks: list[Sink] = [StoreSink(engine)]
        if settings.audit_files:
            sinks.append(FileSink(Path(settings.audit_dir or settings.data_dir / "cloudtrail")))
        return cls(directory, sinks, flush_seconds=settings.audit_flush_seconds, max_queue=settings.audit_queue_size)

    # --- request path -----------------------------------------------------------------
    def submit(self, item: Outcome | Call) -> None:
        """Queue a finished call (an Outcome that reached an action, or an admin Call)."""
        queue = self._queue
        if len(queue) >= self.max_queue:
            metrics.QUEUE_FULL.inc()  # drop-newest: what is queued already keeps its order
            return
        queue.append(item)

    # --- writer -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="stsd-audit-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopping:
            started = time.monotonic()
            try:
                self.flush()
            except Exception:  # the writer must outlive any bug in one batch
                log.exception("audit: flush failed")
            self._wake.wait(max(0.0, self.flush_seconds - (time.monotonic() - started)))

    def pending(self) -> int:
        return len(self._queue)

    def flush(self) -> int:
        """Deliver everything queued now; returns the number of records built."""
        with self._flush_lock:
            queue = self._queue
            items = [queue.popleft() for _ in range(len(queue))]
            if not items:
                return 0
            built: list[dict[str, Any]] = []
            accounts = KnownAccounts(self.directory)
            for item in items:
                try:
                    call = item if isinstance(item, Call) else from_outcome(item)
                    built.extend(records(call, accounts))
                except Exception:
                    metrics.DROPPED.labels("build_error").inc()
                    log.exception("audit: cannot build a record")
            encoded = [encode(record) for record in built]
            for sink in self.sinks:
                try:
                    failed = sink.write(built, encoded)
                except Exception as error:
                    failed = len(built)
                    log.error("audit: %d record(s) not delivered to the %s: %s", failed, sink.name, error)
                if failed:
                    metrics.DROPPED.labels(f"{sink.name}_error").inc(failed)
                if len(built) > failed:
                    metrics.DELIVERED.labels(sink.name).inc(len(built) - failed)
            return len(built)

    def close(self, timeout: float = 30.0) -> None:
        """Stop the writer and deliver what is still queued (clean shutdown). Idempotent."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.flush()
