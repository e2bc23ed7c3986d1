"""Per-Region health for the failover client: one circuit breaker per STS endpoint.

States (the classic pattern, made explicit so tests and logs can name them):

* ``closed`` — requests flow; consecutive failures are counted;
* ``open`` — after ``failure_threshold`` consecutive failures (or at once for a hard
  failure such as RegionDisabledException) the endpoint is skipped for ``cooldown``
  seconds, so a dead Region does not cost every call a timeout;
* ``half-open`` — after the cool-down exactly one request (the probe) may go through; its
  success closes the breaker, its failure opens it again for another cool-down.

A :class:`RegionHealth` registry can be shared by several clients (e.g. one per role) so
that they learn about an outage together. All methods are thread-safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"

log = logging.getLogger("stsd.client.health")


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    key: str
    state: str
    consecutive_failures: int
    opened_for: float | None  # seconds since the breaker opened (None when closed)
    last_reason: str | None


class CircuitBreaker:
    def __init__(
        self,
        key: str,
        *,
        failure_threshold: int = 3,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if cooldown < 0:
            raise ValueError("cooldown must not be negative")
        self.key = key
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False  # a half-open probe is in flight
        self._last_reason: str | None = None

    # --- queries --------------------------------------------------------------------
    @property
    def state(self) -> str:
        """The state as seen now (an open breaker past its cool-down reads half-open)."""
        with self._lock:
            return self._current()

    def available(self) -> bool:
        """May a request be sent now without forcing (closed, or a probe is due)?"""
        with self._lock:
            state = self._current()
            return state == CLOSED or (state == HALF_OPEN and not self._probing)

    def retry_in(self) -> float:
        """Seconds until an open breaker admits a probe (0 when it admits requests now)."""
        with self._lock:
            if self._state != OPEN or self._opened_at is None:
                return 0.0
            return max(0.0, self._opened_at + self.cooldown - self._clock())

    def snapshot(self) -> BreakerSnapshot:
        with self._lock:
            opened = None if self._opened_at is None else self._clock() - self._opened_at
            return BreakerSnapshot(self.key, self._current(), self._failures, opened, self._last_reason)

    # --- transitions ----------------------------------------------------------------
    def acquire(self, *, force: bool = False) -> str | None:
        """Claim the right to send one request; returns the state it is sent in.

        None means "skip this endpoint": it is open and cooling down, or another probe is
        already in flight. ``force`` sends anyway (used when every endpoint is open).
        """
        with self._lock:
            state = self._current()
            if state == CLOSED:
                return CLOSED
            if state == HALF_OPEN and not self._probing:
                self._state = HALF_OPEN
                self._probing = True
                log.info("circuit %s half-open: sending a probe", self.key,
                         extra={"region": self.key, "event": "breaker-half-open"})
                return HALF_OPEN
            if force:
                return state
            return None

    def record_success(self) -> None:
        with self._lock:
            was = self._current()
            self._state, self._failures, self._opened_at, self._probing = CLOSED, 0, None, False
            self._last_reason = None
        if was != CLOSED:
            log.info("circuit %s closed: the Region answered", self.key,
                     extra={"region": self.key, "event": "breaker-closed", "reason": "success"})

    def release(self) -> None:
        """End an attempt that says nothing about the endpoint (e.g. a client-side error)."""
        with self._lock:
            self._probing = False

    def record_failure(self, reason: str, *, trip: bool = False) -> None:
        """Count a failure; ``trip`` opens the breaker at once (a failure that will repeat)."""
        with self._lock:
            self._failures += 1
            self._last_reason = reason
            was_probe = self._probing or self._current() == HALF_OPEN
            self._probing = False
            should_open = trip or was_probe or self._failures >= self.failure_threshold
            if not should_open:
                return
            self._state, self._opened_at = OPEN, self._clock()
            failures = self._failures
        why = "probe failed" if was_probe else ("hard failure" if trip else f"{failures} consecutive failures")
        log.warning("circuit %s open for %.1fs: %s (%s)", self.key, self.cooldown, why, reason,
                    extra={"region": self.key, "event": "breaker-open", "reason": reason})

    def _current(self) -> str:
        if self._state == OPEN and self._opened_at is not None and self._clock() - self._opened_at >= self.cooldown:
            return HALF_OPEN
        return self._state


class RegionHealth:
    """Breakers by endpoint key (a Region name, or ``global``), created on first use."""

    def __init__(
        self,
        *,
        failure_threshold: int = 3,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}

    def breaker(self, key: str) -> CircuitBreaker:
        with self._lock:
            found = self._breakers.get(key)
            if found is None:
                found = self._breakers[key] = CircuitBreaker(
                    key, failure_threshold=self.failure_threshold, cooldown=self.cooldown, clock=self._clock
                )
            return found

    def state(self, key: str) -> str:
        return self.breaker(key).state

    def snapshot(self) -> dict[str, BreakerSnapshot]:
        with self._lock:
            breakers = list(self._breakers.values())
        return {b.key: b.snapshot() for b in breakers}
