"""The audit trail in a server worker: a bounded queue, and a writer *process* that builds and
delivers the records (:mod:`stsd.audit.worker`), so neither the work nor the GIL contention of
a writer thread lands on the request path's core.

- ``submit`` (request path) reduces the finished Outcome to primitives and encodes them
  (:func:`stsd.audit.wire.capture`: no secrets; ~6 µs for AssumeRole) and appends the bytes to
  a bounded deque — or, when the queue is full, counts a drop (drop-newest). It never blocks
  and does no I/O. Encoding at once, rather than holding Outcomes until the next send, keeps
  the queue out of the garbage collector's way (holding them cost more than encoding them).
- Every ``send_seconds`` (50 ms) a timer on the event loop joins the queued calls into one
  JSON line and writes it to the writer's pipe without blocking
  (:class:`stsd.audit.process.WriterProcess`). Batches waiting for a full pipe count against
  the same bound.
- The writer reports its counts back; they become this process's ``/metrics``. If the writer
  dies, the records it had not delivered are counted (``writer_lost``) and logged, and a new
  writer is started (backing off if it keeps dying); requests never notice.

Durability: ``aclose`` (lifespan shutdown on SIGTERM/SIGINT) sends everything queued, closes
the pipe and waits (bounded) for the writer to deliver and exit. After ``kill -9`` of the
server, the writer still delivers everything it received (end of input); at most the last
``send_seconds`` of calls are lost. The writer delivers every ``flush_seconds``
(``STSD_AUDIT_FLUSH_SECONDS``), so ``kill -9`` of both loses at most that interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from stsd.audit import metrics
from stsd.audit.process import WriterProcess
from stsd.audit.record import Call
from stsd.audit.wire import batch_line, capture

if TYPE_CHECKING:
    from stsd.config import Settings
    from stsd.server.pipeline import Outcome
    from stsd.store.directory import Directory

log = logging.getLogger("stsd.audit")
SEND_SECONDS = 0.05  # how often queued calls go to the writer (all that kill -9 of the server can lose)
RESPAWN_SECONDS = (0.5, 30.0)  # first and longest wait before starting a writer again
CLOSE_SECONDS = 10.0


class AuditTrail:
    def __init__(self, config: dict[str, Any], *, flush_seconds: float = 1.0, max_queue: int = 20_000,
                 send_seconds: float = SEND_SECONDS):
        self.config = {**config, "flush_seconds": flush_seconds}  # what the writer process opens
        self.flush_seconds = flush_seconds
        self.max_queue = max_queue
        self.send_seconds = min(send_seconds, flush_seconds)
        self._queue: deque[Any] = deque()
        self._backlog = 0  # calls captured but not yet in the pipe (mirrored after each send)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._writer: WriterProcess | None = None
        self._exited: list[WriterProcess] = []  # dead writers not yet reaped
        self._respawn_at = 0.0
        self._respawn_wait = RESPAWN_SECONDS[0]
        self._carry: list[tuple[bytes, int]] = []  # whole batches a dead writer never received
        self._seq = 0
        self._acks: dict[int, asyncio.Future[int]] = {}
        self._closed = False

    @classmethod
    def create(cls, settings: Settings, engine: Engine, directory: Directory | None = None) -> AuditTrail:
        files = (settings.audit_dir or settings.data_dir / "cloudtrail") if settings.audit_files else None
        config = {"database_url": engine.url.render_as_string(hide_password=False),
                  "files": str(Path(files).resolve()) if files is not None else None}
        return cls(config, flush_seconds=settings.audit_flush_seconds, max_queue=settings.audit_queue_size)

    # --- request path ------------------------------------------------------------------------------
    def submit(self, item: Outcome | Call) -> None:
        """Queue a finished call (an Outcome that reached an action, or an admin Call)."""
        queue = self._queue
        if len(queue) + self._backlog >= self.max_queue:
            metrics.QUEUE_FULL.inc()  # drop-newest: what is queued already keeps its order
            return
        try:
            queue.append(capture(item))
        except Exception:  # a bug in the reduction costs this record, never the request
            metrics.DROPPED.labels("build_error").inc()
            log.exception("audit: cannot capture a call")

    def pending(self) -> int:
        """Calls not yet reported delivered: queued here, waiting for the pipe, or at the writer."""
        writer = self._writer
        return len(self._queue) + self._backlog + (writer.sent - writer.consumed if writer is not None else 0)

    # --- event loop --------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer process and the send timer (call on the server's event loop)."""
        if self._loop is not None or self._closed:
            return
        self._loop = asyncio.get_running_loop()
        self._spawn()
        self._timer = self._loop.call_later(self.send_seconds, self._tick)

    def _tick(self) -> None:
        assert self._loop is not None
        self._timer = self._loop.call_later(self.send_seconds, self._tick)
        try:
            self._reap()
            if self._writer is None and time.monotonic() >= self._respawn_at:
                self._spawn()
            self._send()
        except Exception:  # the timer must outlive any bug in one batch
            log.exception("audit: sending to the writer failed")

    def _send(self, seq: int = 0) -> None:
        """Write everything queued to the pipe, as one batch (``seq`` > 0: and ask for an acknowledgement)."""
        writer = self._writer
        if writer is None:
            return
        queue = self._queue
        if queue or seq:
            items = [queue.popleft() for _ in range(len(queue))]
            writer.send(batch_line(seq, items), len(items))
        self._backlog = writer.backlog

    # --- the writer process -------------------------------------------------------------------------
    def _spawn(self) -> None:
        assert self._loop is not None
        try:
            writer = WriterProcess(self._loop, self.config, self._on_report, self._on_exit)
        except Exception as error:  # no memory, no processes left, a closed loop…
            self._respawn_later(f"cannot start the writer process: {error}")
            return
        self._writer = writer
        for data, records in self._carry:
            writer.send(data, records)
        self._carry = []
        self._backlog = writer.backlog

    def _on_report(self, report: list[Any]) -> None:
        _, acked, _consumed, built, delivered, dropped = report
        metrics.apply(delivered, dropped)
        self._respawn_wait = RESPAWN_SECONDS[0]  # this writer works
        for seq in [s for s in self._acks if s <= acked]:
            future = self._acks.pop(seq)
            if not future.done():
                future.set_result(built)

    def _on_exit(self, writer: WriterProcess) -> None:
        """A writer died (called soon after, not inside, the write or read that noticed)."""
        carry = [(bytes(frame.data), frame.records) for frame in writer.unsent()]
        lost = writer.lost()
        if self._writer is writer:
            self._writer = None
        self._exited.append(writer)
        metrics.WRITER_EXITS.inc()
        for future in self._acks.values():
            if not future.done():
                future.set_exception(RuntimeError("the audit writer process exited"))
        self._acks.clear()
        if self._closed:  # during shutdown: nobody left to hand the rest to
            lost += sum(records for _, records in carry)
            carry = []
        self._carry += carry
        self._backlog = sum(records for _, records in self._carry)
        if lost:
            metrics.DROPPED.labels("writer_lost").inc(lost)
        status = writer.process.poll()
        self._respawn_later(f"the writer process {writer.pid} exited unexpectedly "
                            f"(status {'?' if status is None else status}); {lost} record(s) lost")

    def _respawn_later(self, why: str) -> None:
        if self._closed:
            log.error("audit: %s", why)
            return
        log.error("audit: %s; starting a new one in %.1fs", why, self._respawn_wait)
        self._respawn_at = time.monotonic() + self._respawn_wait
        self._respawn_wait = min(self._respawn_wait * 2, RESPAWN_SECONDS[1])

    def _reap(self) -> None:
        self._exited = [w for w in self._exited if w.process.poll() is None]

    # --- flush and shutdown ----------------------------------------------------------------------
    async def aflush(self, timeout: float = 30.0) -> int:
        """Send everything queued and wait until the writer has delivered it; returns the
        number of records that delivery built. 0 when no writer runs."""
        if self._loop is None or self._closed or self._writer is None:
            return 0
        self._seq += 1
        seq = self._seq
        future: asyncio.Future[int] = self._loop.create_future()
        self._acks[seq] = future
        self._send(seq)
        return await asyncio.wait_for(future, timeout)

    def flush(self, timeout: float = 30.0) -> int:
        """:meth:`aflush` from another thread (tests, tools); blocks until delivered."""
        loop = self._loop
        if loop is None or self._closed:
            return 0
        if self._on_loop_thread():
            raise RuntimeError("AuditTrail.flush() would block the event loop: await aflush() there")
        return asyncio.run_coroutine_threadsafe(self.aflush(timeout), loop).result(timeout + 5)

    async def aclose(self, timeout: float = CLOSE_SECONDS) -> None:
        """Clean shutdown: hand everything to the writer, close its input, wait (bounded) for it
        to deliver and exit. Idempotent."""
        writer = self._stop()
        if writer is not None:
            await asyncio.to_thread(self._finish, writer, timeout)

    def close(self, timeout: float = CLOSE_SECONDS) -> None:
        """:meth:`aclose` for synchronous callers (``Runtime.close``). Idempotent."""
        loop = self._loop
        if self._closed or loop is None:
            self._closed = True
            return
        if loop.is_running() and not self._on_loop_thread():
            asyncio.run_coroutine_threadsafe(self.aclose(timeout), loop).result(timeout + 5)
            return
        writer = self._stop()
        if writer is not None:
            self._finish(writer, timeout)

    def _stop(self) -> WriterProcess | None:
        """Everything of shutdown that runs on the event loop: no more timer, last batch out."""
        if self._closed:
            return None
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._writer is None and (self._queue or self._carry) and self._loop is not None:
            self._spawn()  # the last writer died: one more, for what is still here
        writer = self._writer
        if writer is None:
            lost = len(self._queue) + sum(records for _, records in self._carry)
            if lost:
                metrics.DROPPED.labels("writer_lost").inc(lost)
                log.error("audit: no writer process at shutdown; %d record(s) lost", lost)
            return None
        self._send()
        writer.detach()
        self._writer = None
        return writer

    @staticmethod
    def _finish(writer: WriterProcess, timeout: float) -> None:
        writer.on_report = lambda report: metrics.apply(report[4], report[5])  # off the loop: counters only
        writer.finish(timeout)

    def _on_loop_thread(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

