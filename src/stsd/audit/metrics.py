"""Audit-trail metrics. A record that cannot be delivered is dropped, never retried in the
request path: the counter (and a log line) is how operators notice."""

from __future__ import annotations

from prometheus_client import Counter

DROPPED = Counter(
    "stsd_audit_dropped",
    "Audit records not delivered, by reason (queue_full, build_error, store_error, file_error)",
    ["reason"],
)
DELIVERED = Counter("stsd_audit_delivered", "Audit records delivered, by sink (store, file)", ["sink"])

# Bound once: the queue_full increment happens on the request path.
QUEUE_FULL = DROPPED.labels("queue_full")
