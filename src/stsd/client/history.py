"""What the failover client did: candidate endpoints, attempts and calls (for introspection)."""

from __future__ import annotations

from dataclasses import dataclass

GLOBAL = "global"  # endpoint key of https://sts.amazonaws.com (and stsd's /global/ prefix)

SUCCESS = "success"
FAILOVER = "failover"  # failed in a way another Region may fix: moved on
ERROR = "error"  # failed in a way no Region can fix: raised to the caller


@dataclass(frozen=True, slots=True)
class Candidate:
    key: str  # Region name, or "global"
    url: str
    signing_region: str

    @property
    def is_global(self) -> bool:
        return self.key == GLOBAL


@dataclass(frozen=True, slots=True)
class Attempt:
    call_id: int
    operation: str  # botocore's name, e.g. "AssumeRole"
    region: str  # endpoint key: a Region name or "global"
    endpoint: str
    signing_region: str
    outcome: str  # success | failover | error
    reason: str  # "ok", "read-timeout", "http-503", "throttling", "region-disabled", "AccessDenied", ...
    duration: float  # seconds
    started: float  # seconds after the call started
    timeout: float  # the per-attempt timeout it was given
    breaker: str  # breaker state it was sent in: closed | half-open | open (forced)
    error_code: str | None = None
    http_status: int | None = None
    serving_region: str | None = None  # stsd's x-stsd-serving-region header, when present


@dataclass(frozen=True, slots=True)
class CallRecord:
    call_id: int
    operation: str
    attempts: tuple[Attempt, ...]
    skipped: tuple[tuple[str, str], ...]  # (endpoint key, why) not tried because of their breaker
    outcome: str  # success | error | all-failed | deadline
    elapsed: float
    deadline: float

    @property
    def regions(self) -> list[str]:
        return [a.region for a in self.attempts]
