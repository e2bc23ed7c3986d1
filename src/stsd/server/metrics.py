"""Prometheus metrics. Label sets are bounded: actions, Regions and outcomes are finite,
accounts appear only on the throttling counter (as AWS meters quotas per account)."""

from __future__ import annotations

from prometheus_client import Counter

REQUESTS = Counter(
    "stsd_requests",
    "Query-API requests by service, action, endpoint type, serving Region and outcome",
    ["service", "action", "endpoint_type", "serving_region", "code"],
)
THROTTLED = Counter(
    "stsd_throttled",
    "Requests refused by a quota, per service, account, Region and endpoint type",
    ["service", "account", "region", "endpoint_type"],
)


_request_children: dict[tuple[str, ...], Counter] = {}


def count_request(*labels: str) -> None:
    """REQUESTS.labels(...).inc() with the child looked up in a plain dict (labels() validates
    and locks on every call; the label space is bounded, see above)."""
    child = _request_children.get(labels)
    if child is None:
        child = _request_children[labels] = REQUESTS.labels(*labels)
    child.inc()
