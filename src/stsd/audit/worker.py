"""The audit writer process: ``python -m stsd.audit.worker``, one per server worker, started by
:class:`stsd.audit.writer.AuditTrail` with its stdin and stdout connected to pipes.

It reads captured calls from stdin (:mod:`stsd.audit.wire`), builds their records and
delivers them (:mod:`stsd.audit.delivery`):

- every flush interval: the oldest record it holds waits at most that long;
- at once when the server asks (a batch with a sequence number: ``AuditTrail.flush``);
- when stdin closes — the server's clean shutdown, or its death (even ``kill -9``) — after
  which it exits. So the writer loses nothing the server managed to send.

After each delivery it reports the counts on its stdout; the server adds them to its
``/metrics``. SIGINT and SIGTERM are ignored: a Ctrl-C sent to the whole process group must
not cut a delivery short; the server closing the pipe is what ends the writer.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import select
import signal
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import select as sql_select

from stsd.audit.delivery import Deliverer
from stsd.audit.sinks import FileSink, Sink, StoreSink
from stsd.audit.wire import Lines, report_line

log = logging.getLogger("stsd.audit")
READ_SIZE = 1 << 20


class StoreAccounts:
    """The account ids in the store (the writer has no Directory of its own: it needs nothing else)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def known_accounts(self) -> list[str]:
        from stsd.store.models import Account

        with self.engine.connect() as connection:
            return list(connection.scalars(sql_select(Account.id)))


def open_deliverer(config: dict[str, Any]) -> tuple[Deliverer, Engine]:
    from stsd.store.db import make_engine

    engine = make_engine(config["database_url"])
    sinks: list[Sink] = [StoreSink(engine)]
    if config.get("files"):
        sinks.append(FileSink(Path(config["files"])))
    return Deliverer(sinks, StoreAccounts(engine)), engine


class Writer:
    def __init__(self, source: int, reports: int):
        self.source = source
        self.reports = reports
        self.held: list[Any] = []
        self.due = 0.0  # when the oldest held call must be delivered
        self.consumed = 0  # calls received and delivered (or dropped) so far
        self.flush_seconds = 1.0
        self.deliverer: Deliverer | None = None
        self.engine: Engine | None = None

    def run(self) -> None:
        lines = Lines()
        while True:
            timeout = max(0.0, self.due - time.monotonic()) if self.held else None
            readable, _, _ = select.select([self.source], [], [], timeout)
            ack = 0
            chunk = os.read(self.source, READ_SIZE) if readable else None
            for message in lines.feed(chunk or b""):
                if message[0] == "config":
                    self.flush_seconds = float(message[1]["flush_seconds"])
                    self.deliverer, self.engine = open_deliverer(message[1])
                    gc.freeze()  # modules and engine: never worth scanning again
                elif message[0] == "batch":
                    _, seq, items = message
                    if items and not self.held:
                        self.due = time.monotonic() + self.flush_seconds
                    self.held.extend(items)
                    ack = max(ack, seq)
            end = chunk == b""  # the server closed the pipe (shutdown or death)
            if ack or end or (self.held and time.monotonic() >= self.due):
                self.deliver(ack)
            if end:
                if self.engine is not None:
                    self.engine.dispose()
                return

    def deliver(self, ack: int) -> None:
        items, self.held = self.held, []
        if self.deliverer is None:
            if items:
                log.error("audit: %d record(s) received before the configuration, dropped", len(items))
            self.consumed += len(items)
            self._report(ack, 0, {}, {"writer_error": len(items)} if items else {})
            return
        report = self.deliverer.deliver(items)
        self.consumed += len(items)
        self._report(ack, report.built, dict(report.delivered), dict(report.dropped))
        del items
        gc.collect()  # the batch is gone: what is left to scan is small (see main)

    def _report(self, ack: int, built: int, delivered: dict[str, int], dropped: dict[str, int]) -> None:
        with contextlib.suppress(BrokenPipeError):  # the server is gone; the records are delivered all the same
            os.write(self.reports, report_line(ack, self.consumed, built, delivered, dropped))


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Reports get a private descriptor, and fd 1 becomes stderr: a stray print cannot corrupt them.
    reports = os.dup(1)
    os.dup2(2, 1)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format=f"%(levelname)s:     stsd audit writer {os.getpid()}: %(message)s")
    # A batch is thousands of acyclic containers (parsed JSON, records), freed by reference
    # counting; automatic collections while they are alive cost several times the parsing
    # itself. One collection after each delivery, when they are gone, catches any cycles.
    gc.disable()
    Writer(0, reports).run()


if __name__ == "__main__":
    main()
