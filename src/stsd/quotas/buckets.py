"""Request-rate quotas per (account, Region, endpoint type), answered with AWS's
``Throttling`` / "Rate exceeded" error.

AWS enforces STS quotas with token buckets per account and Region; since 2025 the global
endpoint has its own bucket, not shared with the Regional endpoints. In-process buckets cost
about a microsecond; with several workers each takes its share of the rate. With ``redis_url``
all workers and nodes share one fixed-window counter per key through the ``limits`` library.
When Redis does not answer (down, unreachable, slower than ``REDIS_TIMEOUT``) each worker falls
back to its own buckets and tries Redis again ``REDIS_RETRY_SECONDS`` later: a quota store
outage neither fails every request nor stalls the event loop the limiter runs on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

DEFAULT_RATE = 600  # requests/s; AWS publishes no number, 600/s is what users report hitting
DEFAULT_BURST = 600
REDIS_TIMEOUT = 0.25  # seconds per Redis connect/command: the limiter is called on the event loop
REDIS_RETRY_SECONDS = 1.0  # after a Redis failure, local buckets answer for this long

log = logging.getLogger("stsd")


@dataclass(slots=True)
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    stamp: float


@dataclass(frozen=True, slots=True)
class Limit:
    rate: int  # requests per second; 0 means unlimited
    burst: int


class LocalBuckets:
    """Token buckets in this process. Not thread-safe by design: called from the event loop."""

    def __init__(self, share: float = 1.0):
        self._buckets: dict[tuple[str, str, str], _Bucket] = {}
        self._share = share  # this worker's fraction of every rate (1 / workers)

    def allow(self, key: tuple[str, str, str], limit: Limit) -> bool:
        if limit.rate <= 0:
            return True
        now = time.monotonic()
        rate = limit.rate * self._share
        capacity = max(1.0, limit.burst * self._share)
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != rate or bucket.capacity != capacity:
            bucket = self._buckets[key] = _Bucket(rate, capacity, capacity, now)
        bucket.tokens = min(bucket.capacity, bucket.tokens + (now - bucket.stamp) * bucket.rate)
        bucket.stamp = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True


class RedisBuckets:
    """Shared quotas through Redis (``limits`` fixed windows of one second), with this
    worker's own :class:`LocalBuckets` (``share`` of every rate) while Redis is unavailable."""

    def __init__(self, url: str, share: float = 1.0):
        from limits import RateLimitItemPerSecond
        from limits.errors import StorageError
        from limits.storage import RedisStorage
        from limits.strategies import FixedWindowRateLimiter

        self._item = RateLimitItemPerSecond
        storage = RedisStorage(url, wrap_exceptions=True, socket_timeout=REDIS_TIMEOUT,
                               socket_connect_timeout=REDIS_TIMEOUT)
        self._limiter = FixedWindowRateLimiter(storage)
        self._storage_error = StorageError
        self._items: dict[int, object] = {}
        self._fallback = LocalBuckets(share)
        self._retry_at = 0.0  # monotonic time before which Redis is not asked (0: Redis is up)

    def allow(self, key: tuple[str, str, str], limit: Limit) -> bool:
        if limit.rate <= 0:
            return True
        now = time.monotonic()
        if now >= self._retry_at:
            item = self._items.get(limit.rate)
            if item is None:
                item = self._items[limit.rate] = self._item(limit.rate)
            try:
                allowed = self._limiter.hit(item, "stsd", *key)
            except self._storage_error as error:
                if self._retry_at == 0.0:
                    log.warning("Redis quota store unavailable (%s): this worker enforces its own quotas "
                                "until it answers again", error.storage_error)
                self._retry_at = now + REDIS_RETRY_SECONDS
            else:
                if self._retry_at:
                    log.warning("Redis quota store available again: quotas are shared again")
                    self._retry_at = 0.0
                return allowed
        return self._fallback.allow(key, limit)
