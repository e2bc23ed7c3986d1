"""Prometheus metrics. Label sets are bounded: actions, Regions and outcomes are finite,
accounts appear only on the throttling counter (as AWS meters quotas per account)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import CounterMetricFamily

THROTTLED = Counter(
    "stsd_throttled",
    "Requests refused by a quota, per service, account, Region and endpoint type",
    ["service", "account", "region", "endpoint_type"],
)


REQUEST_LABELS = ("service", "action", "endpoint_type", "serving_region", "code")


class RequestCounts:
    """``stsd_requests_total``: counted in a plain dict on the request path (a prometheus
    Counter child takes a lock on every increment) and handed to prometheus at scrape time.
    Only the event loop counts; a scrape copies the dict in one C call."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, ...], int] = {}

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "stsd_requests", "Query-API requests by service, action, endpoint type, serving Region and outcome",
            labels=REQUEST_LABELS)
        for labels, value in list(self.counts.items()):
            family.add_metric(labels, value)
        yield family


REQUESTS = RequestCounts()
REGISTRY.register(REQUESTS)


def count_request(*labels: str) -> None:
    counts = REQUESTS.counts
    counts[labels] = counts.get(labels, 0) + 1
