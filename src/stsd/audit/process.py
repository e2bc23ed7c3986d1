"""A running audit writer process, seen from the server worker that started it.

Two pipes: batches go to the writer's stdin, reports come back on its stdout (its stderr is the
server's, so its log lines land in the server log). Both are non-blocking and driven by the
event loop: a batch the pipe cannot take now waits in ``frames`` and is written when the pipe
drains (``loop.add_writer``) — the event loop never blocks on the writer. The owner
(:class:`stsd.audit.writer.AuditTrail`) bounds how much may wait.

The child is started with ``subprocess.Popen`` (fork+exec of a fresh interpreter: nothing of
this threaded process is inherited but the two pipe ends, ``close_fds``).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import select
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stsd.audit.wire import Lines, config_line

log = logging.getLogger("stsd.audit")
# A bigger pipe absorbs the writer's pauses (a delivery takes tens of ms) without a backlog here.
PIPE_SIZE = 1 << 20
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux


@dataclass
class Frame:
    data: memoryview
    records: int
    started: bool = False  # partly written: lost with the process if it dies


class WriterProcess:
    def __init__(self, loop: asyncio.AbstractEventLoop, config: dict[str, Any],
                 on_report: Callable[[list[Any]], None], on_exit: Callable[[WriterProcess], None]):
        self.loop = loop
        self.on_report = on_report
        self.on_exit = on_exit
        self.frames: deque[Frame] = deque()
        self.backlog = 0  # records in frames not completely written yet
        self.sent = 0  # records completely written to the pipe
        self.consumed = 0  # records the writer reported as handled (delivered or dropped)
        self.alive = True
        self._lines = Lines()
        self._writing = False  # add_writer registered
        child_in, self._to_child = os.pipe2(os.O_CLOEXEC)
        self._from_child, child_out = os.pipe2(os.O_CLOEXEC)
        with contextlib.suppress(OSError):  # best effort: the default 64 KiB works too
            fcntl.fcntl(self._to_child, _F_SETPIPE_SZ, PIPE_SIZE)
        try:
            # Its own process group: a Ctrl-C meant for the server (the terminal's foreground
            # group) must not interrupt the writer, least of all while it starts up.
            self.process = subprocess.Popen([sys.executable, "-m", "stsd.audit.worker"],
                                            stdin=child_in, stdout=child_out, close_fds=True, process_group=0)
        except BaseException:
            for fd in (self._to_child, self._from_child):
                os.close(fd)
            raise
        finally:
            os.close(child_in)
            os.close(child_out)
        os.set_blocking(self._to_child, False)
        os.set_blocking(self._from_child, False)
        loop.add_reader(self._from_child, self._readable)
        self.send(config_line(config), 0)

    @property
    def pid(self) -> int:
        return self.process.pid

    # --- on the event loop ----------------------------------------------------------------------
    def send(self, data: bytes, records: int) -> None:
        self.frames.append(Frame(memoryview(data), records))
        self.backlog += records
        if not self._writing:
            self._write_some()

    def _write_some(self) -> None:
        while self.frames and self.alive:
            frame = self.frames[0]
            try:
                written = os.write(self._to_child, frame.data)
            except BlockingIOError:
                written = 0
            except OSError:  # EPIPE: the writer is gone
                self._gone()
                return
            if written < len(frame.data):
                frame.data = frame.data[written:]
                frame.started = frame.started or written > 0
                if not self._writing:
                    self.loop.add_writer(self._to_child, self._write_some)
                    self._writing = True
                return
            self.frames.popleft()
            self.backlog -= frame.records
            self.sent += frame.records
        if self._writing:
            self.loop.remove_writer(self._to_child)
            self._writing = False

    def _readable(self) -> None:
        try:
            data = os.read(self._from_child, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._gone()
            return
        self._take(data)

    def _take(self, data: bytes) -> None:
        for message in self._lines.feed(data):
            if message[0] == "report":
                self.consumed = message[2]
                self.on_report(message)

    def _gone(self) -> None:
        """The writer closed its end (it exited or was killed) while the server still runs."""
        if not self.alive:
            return
        self.alive = False
        self.detach()
        for fd in (self._to_child, self._from_child):
            os.close(fd)
        # Later, not now: the caller may be in the middle of sending (its batch is carried over).
        self.loop.call_soon(self.on_exit, self)

    def detach(self) -> None:
        """Stop driving the pipes from the event loop (before :meth:`finish` or after the writer died)."""
        with contextlib.suppress(Exception):
            self.loop.remove_reader(self._from_child)
        if self._writing:
            with contextlib.suppress(Exception):
                self.loop.remove_writer(self._to_child)
            self._writing = False

    def lost(self) -> int:
        """Records this writer took and did not report handled, plus a frame cut in half."""
        return self.sent - self.consumed + sum(f.records for f in self.frames if f.started)

    def unsent(self) -> list[Frame]:
        """Whole frames never written: the next writer can take them."""
        return [f for f in self.frames if not f.started]

    # --- clean shutdown: blocking, off the event loop --------------------------------------------
    def finish(self, timeout: float) -> bool:
        """Write what is left, close the pipe and wait — at most ``timeout`` seconds — for the
        writer to deliver everything and exit. Reports read meanwhile still go to ``on_report``
        (called from this thread). False when the writer is still busy at the deadline (it is
        left running: it exits once it has delivered what it holds)."""
        if not self.alive:  # died just before: its pipes are closed and its loss counted
            return False
        deadline = time.monotonic() + timeout
        try:
            while self.frames:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([], [self._to_child], [], left)[1]:
                    log.error("audit: %d record(s) could not be handed to the writer before the shutdown deadline",
                              self.backlog)
                    break
                try:
                    written = os.write(self._to_child, self.frames[0].data)
                except BlockingIOError:
                    continue
                except OSError as error:
                    log.error("audit: the writer process is gone at shutdown (%s); %d record(s) lost", error,
                              self.backlog)
                    break
                frame = self.frames[0]
                frame.data = frame.data[written:]
                if not frame.data:
                    self.frames.popleft()
                    self.backlog -= frame.records
                    self.sent += frame.records
        finally:
            os.close(self._to_child)  # end of input: the writer delivers what it holds and exits
        try:
            while (left := deadline - time.monotonic()) > 0:
                if not select.select([self._from_child], [], [], left)[0]:
                    continue
                data = os.read(self._from_child, 1 << 16)
                if not data:
                    break
                self._take(data)
        finally:
            os.close(self._from_child)
        self.alive = False
        try:
            self.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.error("audit: the writer process %d is still delivering at the shutdown deadline (%.0fs); "
                      "left running to finish", self.pid, timeout)
            return False
        return True
