"""Audit-trail metrics. A record that cannot be delivered is dropped, never retried in the
request path: the counter (and a log line) is how operators notice.

They live in the server process (its ``/metrics``): the writer process counts what it
delivered and dropped and reports the counts back after each delivery (:func:`apply`)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import Counter

DROPPED = Counter(
    "stsd_audit_dropped",
    "Audit records not delivered, by reason (queue_full, build_error, store_error, file_error, writer_lost)",
    ["reason"],
)
DELIVERED = Counter("stsd_audit_delivered", "Audit records delivered, by sink (store, file)", ["sink"])
WRITER_EXITS = Counter("stsd_audit_writer_exits",
                       "Audit writer processes that exited unexpectedly (each one is restarted)")

# Bound once: the queue_full increment happens on the request path.
QUEUE_FULL = DROPPED.labels("queue_full")


def apply(delivered: Mapping[str, int], dropped: Mapping[str, int]) -> None:
    """Add a writer's report to this process's counters."""
    for sink, count in delivered.items():
        DELIVERED.labels(sink).inc(count)
    for reason, count in dropped.items():
        DROPPED.labels(reason).inc(count)
