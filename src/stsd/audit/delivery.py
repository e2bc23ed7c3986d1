"""One delivery: captured calls → CloudTrail records → every sink (writer process).

A call whose record cannot be built is dropped (``build_error``); a sink that fails (full
disk, database down) loses that batch for that sink only. Nothing here touches metrics: the
writer process reports the counts to its server, which owns ``/metrics``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from stsd.audit.record import AccountSource, KnownAccounts, records
from stsd.audit.sinks import Sink, encode
from stsd.audit.wire import restore

log = logging.getLogger("stsd.audit")


@dataclass
class Report:
    built: int = 0  # records built (a cross-account call makes two)
    delivered: Counter[str] = field(default_factory=Counter)  # by sink name
    dropped: Counter[str] = field(default_factory=Counter)  # by reason


class Deliverer:
    def __init__(self, sinks: Sequence[Sink], accounts: AccountSource):
        self.sinks = sinks
        self.accounts = accounts

    def deliver(self, items: Sequence[Sequence[Any]]) -> Report:
        """Build the records of captured calls (:func:`stsd.audit.wire.capture`) and hand them to each sink."""
        report = Report()
        if not items:
            return report
        built: list[dict[str, Any]] = []
        accounts = KnownAccounts(self.accounts)
        for item in items:
            try:
                built.extend(records(restore(item), accounts))
            except Exception:
                report.dropped["build_error"] += 1
                log.exception("audit: cannot build a record")
        report.built = len(built)
        if not built:
            return report
        encoded = [encode(record) for record in built]
        for sink in self.sinks:
            try:
                failed = sink.write(built, encoded)
            except Exception as error:
                failed = len(built)
                log.error("audit: %d record(s) not delivered to the %s: %s", failed, sink.name, error)
            if failed:
                report.dropped[f"{sink.name}_error"] += failed
            if len(built) > failed:
                report.delivered[sink.name] += len(built) - failed
        return report
