"""RegionalSTS: STS calls that survive a Regional outage by moving to the next Region.

AWS is explicit that "redundancy is not automatic; you must build it into your code"
(IAM User Guide, STS Regions). This is that code:

* every call starts at the caller's Regional endpoint and, on a failure another Region
  could fix (see :mod:`stsd.client.classify`), moves to the next candidate — caller-given
  fallbacks, else nearby Regions of the same partition (:mod:`stsd.client.nearby`) —
  with a botocore client per Region, so each request is signed for the Region it goes to
  (a scope/host mismatch is rejected by STS);
* an opt-in *fallback* Region that answers InvalidClientTokenId is one the account has not
  enabled (AWS and stsd reject every key there so): the call moves on and that Region's
  breaker opens. The preferred Region's InvalidClientTokenId still reaches the caller at
  once — there it means the credentials are wrong;
* it never crosses partitions, and reaches the global endpoint only with
  ``allow_global=True`` (its v1 tokens do not work in opt-in Regions: logged as a warning);
* a circuit breaker per endpoint (:mod:`stsd.client.health`) stops a dead Region from
  costing each call a timeout, with half-open probes to notice its recovery;
* an overall deadline bounds each call: per-attempt timeouts shrink to fit what is left,
  and an attempt still running when it expires is abandoned;
* every decision is logged on ``stsd.client.failover`` with structured fields (``event``,
  ``region``, ``endpoint``, ``signing_region``, ``reason``, ``elapsed``, ``operation``) and
  recorded in :attr:`RegionalSTS.history` / :attr:`RegionalSTS.attempts`.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import botocore.loaders
import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver
from botocore.exceptions import ClientError

from stsd.client.classify import AttemptTimeout, Verdict, classify
from stsd.client.errors import (
    AllRegionsFailedError,
    CrossPartitionError,
    DeadlineExceededError,
    FailoverConfigError,
)
from stsd.client.health import OPEN, RegionHealth
from stsd.client.history import ERROR, FAILOVER, GLOBAL, SUCCESS, Attempt, CallRecord, Candidate
from stsd.client.nearby import check_region_name, check_same_partition, dedupe, nearby_regions
from stsd.client.resolver import resolve_endpoint
from stsd.regions.catalogue import GLOBAL_PARTITION, GLOBAL_SIGNING_REGION, partition_of
from stsd.regions.catalogue import region as region_info

log = logging.getLogger("stsd.client.failover")
# boto3 method names whose operation name is not plain CamelCase.
_OPERATION_NAMES = {"assume_role_with_saml": "AssumeRoleWithSAML"}

# Kept back from the deadline for abandoning an attempt and raising (thread hand-off, logging,
# scheduling jitter on a busy host).
DEADLINE_MARGIN = 0.05
# An attempt needs at least this much of the deadline left to be worth starting (so its
# socket timeouts get at least 50 ms after the margin).
MIN_ATTEMPT_SECONDS = 0.1
GLOBAL_TOKEN_WARNING = (
    "the global STS endpoint issues session tokens of the account's GlobalEndpointTokenVersion "
    "(v1 by default), and v1 tokens are NOT valid in opt-in Regions (e.g. ap-east-1); prefer "
    "Regional endpoints"
)

# What an opt-in Region the account has not enabled answers to any signed request.
OPT_IN_REJECTION = "InvalidClientTokenId"


class _FixedProvider(CredentialProvider):
    """Hands a given botocore Credentials object (e.g. RefreshableCredentials) to a session."""

    METHOD = "stsd-fixed"
    CANONICAL_NAME = "stsd-fixed"

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Any:
        return self._credentials


def _explicit_keys(credentials: Any) -> dict[str, str] | None:
    """Static keys as create_client kwargs, from the shapes users have at hand."""
    if isinstance(credentials, Mapping):
        keys = {k: credentials[k] for k in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
                if credentials.get(k)}
        return keys
    if isinstance(credentials, tuple) and len(credentials) in (2, 3) and all(isinstance(v, str) for v in credentials):
        names = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
        return {k: v for k, v in zip(names, credentials, strict=False) if v}
    as_boto = getattr(credentials, "as_boto", None)  # stsd.testing.Credentials
    if callable(as_boto):
        return dict(as_boto())
    return None


class RegionalSTS:
    """An STS client that fails over between Regional endpoints of one partition.

    ``region`` is the preferred Region; ``fallback_regions`` the ordered alternatives
    (default: ``max_fallbacks`` nearby Regions enabled by default — opt-in ones with
    ``include_opt_in=True`` — then the partition's always-active Region, us-east-1 in
    ``aws``). Credentials: ``session`` (boto3 or botocore session), or ``credentials``
    (a mapping of ``aws_*`` keys, an ``(access_key, secret_key[, token])`` tuple, a
    botocore Credentials object — refreshable ones keep refreshing — or anything with
    ``as_boto()``), else the default credential chain; ``unsigned=True`` for web identity
    calls without any credentials. ``endpoint_url_template`` (``"http://127.0.0.1:8080/{region}/"``
    or a callable) replaces endpoint resolution, e.g. for stsd in path mode; the global
    endpoint then gets ``{region}`` = ``global``.
    """

    def __init__(
        self,
        region: str,
        fallback_regions: Sequence[str] | None = None,
        *,
        session: Any = None,
        credentials: Any = None,
        unsigned: bool = False,
        allow_global: bool = False,
        include_opt_in: bool = False,
        max_fallbacks: int = 3,
        deadline: float = 10.0,
        per_attempt_timeout: float = 3.0,
        connect_timeout: float | None = None,
        endpoint_url_template: str | Callable[[str], str] | None = None,
        global_endpoint_url: str | None = None,
        use_fips: bool = False,
        use_dualstack: bool = False,
        failure_threshold: int = 3,
        cooldown: float = 30.0,
        health: RegionHealth | None = None,
        client_config: Config | None = None,
        clock: Callable[[], float] = time.monotonic,
        history_size: int = 100,
    ) -> None:
        if deadline <= 0 or per_attempt_timeout <= 0:
            raise FailoverConfigError("deadline and per_attempt_timeout must be positive")
        if session is not None and credentials is not None:
            raise FailoverConfigError("give either session or credentials, not both")
        check_region_name(region)
        if fallback_regions is None:
            fallbacks = nearby_regions(region, count=max_fallbacks, include_opt_in=include_opt_in, fips=use_fips)
        else:
            fallbacks = list(fallback_regions)
            for name in fallbacks:
                check_region_name(name)
            check_same_partition(region, fallbacks)
        if allow_global:
            if partition_of(region).id != GLOBAL_PARTITION:
                raise CrossPartitionError(
                    f"{region!r} is in partition {partition_of(region).id!r}: the only global STS endpoint "
                    f"(sts.amazonaws.com) belongs to {GLOBAL_PARTITION!r}"
                )
            if (use_fips or use_dualstack) and global_endpoint_url is None and endpoint_url_template is None:
                raise FailoverConfigError("the global STS endpoint has no FIPS or dual-stack variant")

        self.region = region
        self.allow_global = allow_global
        self.deadline = deadline
        self.per_attempt_timeout = per_attempt_timeout
        self.connect_timeout = connect_timeout
        self.unsigned = unsigned
        self.use_fips = use_fips
        self.use_dualstack = use_dualstack
        self._template = endpoint_url_template
        self._global_url = global_endpoint_url
        self._clock = clock
        self.health = health or RegionHealth(failure_threshold=failure_threshold, cooldown=cooldown, clock=clock)
        self._client_config = client_config
        self.candidates: tuple[Candidate, ...] = tuple(
            [self._candidate(r) for r in dedupe([region, *fallbacks])]
            + ([self._global_candidate()] if allow_global else [])
        )
        self._explicit = None if credentials is None else _explicit_keys(credentials)
        self._session = self._make_session(session, credentials)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.history: deque[CallRecord] = deque(maxlen=history_size)
        log.debug(
            "RegionalSTS for %s: candidates %s", region, [c.key for c in self.candidates],
            extra={"event": "configured", "region": region, "candidates": [c.key for c in self.candidates]},
        )

    # --- public API -------------------------------------------------------------------
    @property
    def regions(self) -> list[str]:
        """Endpoint keys in the order they are tried when all are healthy."""
        return [c.key for c in self.candidates]

    @property
    def attempts(self) -> list[Attempt]:
        """Every attempt of the recorded calls, oldest first."""
        return [a for call in self.history for a in call.attempts]

    @property
    def last_call(self) -> CallRecord | None:
        return self.history[-1] if self.history else None

    def assume_role(self, **kwargs: Any) -> dict[str, Any]:
        return self.call("assume_role", **kwargs)

    def assume_role_with_web_identity(self, **kwargs: Any) -> dict[str, Any]:
        return self.call("assume_role_with_web_identity", **kwargs)

    def assume_role_with_saml(self, **kwargs: Any) -> dict[str, Any]:
        return self.call("assume_role_with_saml", **kwargs)

    def get_caller_identity(self, **kwargs: Any) -> dict[str, Any]:
        return self.call("get_caller_identity", **kwargs)

    def get_session_token(self, **kwargs: Any) -> dict[str, Any]:
        return self.call("get_session_token", **kwargs)

    def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """Any STS operation by its boto3 method name, with failover."""
        call_id = next(self._ids)
        start = self._clock()
        deadline_at = start + self.deadline
        operation = _OPERATION_NAMES.get(method) or "".join(part.capitalize() for part in method.split("_"))
        attempts: list[Attempt] = []
        skipped: list[tuple[str, str]] = []
        plan, force = self._plan(skipped, operation, start)
        last_error: BaseException | None = None
        out_of_time = False

        def finish(outcome: str) -> CallRecord:
            record = CallRecord(call_id, operation, tuple(attempts), tuple(skipped), outcome,
                                self._clock() - start, self.deadline)
            self.history.append(record)
            return record

        for candidate in plan:
            remaining = deadline_at - self._clock()
            if remaining < MIN_ATTEMPT_SECONDS:
                out_of_time = True
                self._log(logging.WARNING, "deadline", candidate, operation, start, "deadline",
                          "STS %s: deadline of %.3fs reached before trying %s", operation, self.deadline,
                          candidate.key)
                break
            breaker = self.health.breaker(candidate.key)
            state = breaker.acquire(force=force)
            if state is None:
                skipped.append((candidate.key, "probe-in-flight"))
                self._log(logging.INFO, "skip", candidate, operation, start, "probe-in-flight",
                          "STS %s: skipping %s (another probe is in flight)", operation, candidate.key)
                continue
            if candidate.is_global:
                self._log(logging.WARNING, "global", candidate, operation, start, "allow_global",
                          "STS %s: using the global endpoint %s: %s", operation, candidate.url, GLOBAL_TOKEN_WARNING)
            timeout = min(self.per_attempt_timeout, remaining - DEADLINE_MARGIN)
            began = self._clock()
            try:
                response = self._attempt(candidate, method, kwargs, timeout, deadline_at)
            except Exception as exc:  # classified below; anything unexpected is re-raised
                duration = self._clock() - began
                verdict = self._classify(candidate, exc)
                attempt = self._record(call_id, operation, candidate, verdict, duration, began - start, timeout,
                                       state, exc)
                attempts.append(attempt)
                if not verdict.failover:
                    if isinstance(exc, ClientError):
                        breaker.record_success()  # the endpoint answered: it is healthy
                    else:
                        breaker.release()  # e.g. parameter validation: the endpoint was never asked
                    self._log(logging.INFO, "error", candidate, operation, start, verdict.reason,
                              "STS %s via %s: %s after %.3fs (not a Regional failure: no failover)",
                              operation, candidate.key, verdict.reason, duration)
                    finish(ERROR)
                    raise
                breaker.record_failure(verdict.reason, trip=verdict.trip)
                last_error = exc
                out_of_time = verdict.reason == "deadline"
                self._log(logging.WARNING, "failover", candidate, operation, start, verdict.reason,
                          "STS %s via %s (%s, signed %s): %s after %.3fs; trying the next endpoint",
                          operation, candidate.key, candidate.url, candidate.signing_region, verdict.reason, duration)
                if out_of_time:
                    break
                continue
            except BaseException:  # KeyboardInterrupt & co.: free a half-open probe slot, then leave
                breaker.release()
                raise
            duration = self._clock() - began
            breaker.record_success()
            attempts.append(self._record(call_id, operation, candidate, Verdict(False, "ok"), duration,
                                         began - start, timeout, state, None, response))
            self._log(logging.INFO, "success", candidate, operation, start, "ok",
                      "STS %s via %s answered in %.3fs", operation, candidate.key, duration)
            finish(SUCCESS)
            return response

        if out_of_time:
            record = finish("deadline")
            raise DeadlineExceededError(
                f"STS {operation}: no answer within the {self.deadline:.3f}s deadline "
                f"(tried {', '.join(record.regions) or 'nothing'})",
                record.attempts,
                last_error,
            ) from last_error
        record = finish("all-failed")
        tried = ", ".join(f"{a.region} ({a.reason})" for a in record.attempts) or "nothing"
        raise AllRegionsFailedError(
            f"STS {operation} failed in every candidate Region: {tried}", record.attempts, last_error
        ) from last_error

    def _classify(self, candidate: Candidate, exc: BaseException) -> Verdict:
        verdict = classify(exc)
        if verdict.code == OPT_IN_REJECTION and candidate.key != self.region and not candidate.is_global:
            info = region_info(candidate.key)
            if info is not None and info.opt_in:
                # Not enabled for the account (or not for these credentials): another Region may serve.
                return Verdict(True, "opt-in-region-rejected", trip=True, code=verdict.code, status=verdict.status)
        return verdict

    # --- planning ---------------------------------------------------------------------
    def _plan(self, skipped: list[tuple[str, str]], operation: str, start: float) -> tuple[list[Candidate], bool]:
        """Healthy endpoints in order; open ones only when nothing else is left (forced)."""
        available = [c for c in self.candidates if self.health.breaker(c.key).available()]
        if available:
            for c in self.candidates:
                if c not in available:
                    breaker = self.health.breaker(c.key)
                    why = f"circuit-open (probe in {breaker.retry_in():.1f}s)"
                    skipped.append((c.key, why))
                    self._log(logging.INFO, "skip", c, operation, start, "circuit-open",
                              "STS %s: skipping %s: %s", operation, c.key, why)
            return available, False
        self._log(logging.WARNING, "all-open", self.candidates[0], operation, start, "all-circuits-open",
                  "STS %s: every endpoint's circuit is open; trying them anyway", operation)
        return list(self.candidates), True

    def _candidate(self, region: str) -> Candidate:
        if self._template is not None:
            return Candidate(region, self._url_from_template(region), region)
        resolved = resolve_endpoint(
            region=region,
            use_fips=self.use_fips,
            use_dualstack=self.use_dualstack,
            sts_regional_endpoints="regional",
            env={},  # the caller's AWS_ENDPOINT_URL_STS & co. would send every Region to one URL
            config_file=os.devnull,
            credentials_file=os.devnull,
        )
        return Candidate(region, resolved.url, resolved.signing_region)

    def _global_candidate(self) -> Candidate:
        if self._global_url is not None:
            url = self._global_url
        elif self._template is not None:
            url = self._url_from_template(GLOBAL)
        else:
            url = resolve_endpoint(region="aws-global", sts_regional_endpoints="regional", env={},
                                   config_file=os.devnull, credentials_file=os.devnull).url
        return Candidate(GLOBAL, url, GLOBAL_SIGNING_REGION)

    def _url_from_template(self, key: str) -> str:
        template = self._template
        return template(key) if callable(template) else str(template).format(region=key)

    # --- sending ----------------------------------------------------------------------
    @staticmethod
    def _make_session(session: Any, credentials: Any) -> Any:
        if session is not None:
            return session
        new = botocore.session.Session()
        new.register_component("data_loader", _shared_loader())  # parse the STS model once per process
        if credentials is not None and _explicit_keys(credentials) is None:
            # A botocore Credentials object (refreshable or not): every client shares it.
            new.register_component("credential_provider", CredentialResolver([_FixedProvider(credentials)]))
        return new

    def prepare(self) -> None:
        """Create every candidate's client now (credential lookup, model loading), so the
        first failover does not pay for it inside the deadline."""
        for candidate in self.candidates:
            self._client(candidate, self.per_attempt_timeout)

    def _client(self, candidate: Candidate, timeout: float) -> Any:
        cacheable = timeout >= self.per_attempt_timeout
        with self._lock:
            if cacheable and candidate.key in self._clients:
                return self._clients[candidate.key]
            connect = min(self.connect_timeout or timeout, timeout)
            config = Config(connect_timeout=connect, read_timeout=timeout, retries={"total_max_attempts": 1})
            if self.unsigned:
                config = config.merge(Config(signature_version=UNSIGNED))
            if self._client_config is not None:
                config = self._client_config.merge(config)
            factory = getattr(self._session, "client", None) or self._session.create_client
            client = factory("sts", region_name=candidate.signing_region, endpoint_url=candidate.url, config=config,
                             **(self._explicit or {}))
            if cacheable:
                self._clients[candidate.key] = client
            return client

    def _attempt(self, candidate: Candidate, method: str, kwargs: dict[str, Any], timeout: float,
                 deadline_at: float) -> dict[str, Any]:
        client = self._client(candidate, timeout)
        operation = getattr(client, method)
        # What is left once the client exists, less the time it takes to give up and report.
        limit = deadline_at - self._clock() - DEADLINE_MARGIN
        if limit <= 0:
            raise AttemptTimeout("no time left for the request")
        return _run_bounded(lambda: operation(**kwargs), limit)

    # --- records and logs -------------------------------------------------------------
    def _record(self, call_id: int, operation: str, candidate: Candidate, verdict: Verdict, duration: float,
                started: float, timeout: float, state: str, exc: BaseException | None,
                response: Mapping[str, Any] | None = None) -> Attempt:
        meta = (response or getattr(exc, "response", None) or {}).get("ResponseMetadata", {}) or {}
        headers = meta.get("HTTPHeaders", {}) or {}
        outcome = SUCCESS if exc is None else (FAILOVER if verdict.failover else ERROR)
        return Attempt(
            call_id=call_id,
            operation=operation,
            region=candidate.key,
            endpoint=candidate.url,
            signing_region=candidate.signing_region,
            outcome=outcome,
            reason=verdict.reason,
            duration=duration,
            started=started,
            timeout=timeout,
            breaker=state if state != OPEN else "open (forced)",
            error_code=verdict.code,
            http_status=verdict.status if exc is not None else meta.get("HTTPStatusCode"),
            serving_region=headers.get("x-stsd-serving-region"),
        )

    def _log(self, level: int, event: str, candidate: Candidate, operation: str, start: float, reason: str,
             msg: str, *args: Any) -> None:
        log.log(level, msg, *args, extra={
            "event": event,
            "region": candidate.key,
            "endpoint": candidate.url,
            "signing_region": candidate.signing_region,
            "operation": operation,
            "reason": reason,
            "elapsed": round(self._clock() - start, 4),
        })


@functools.cache
def _shared_loader() -> Any:
    return botocore.loaders.create_loader()


def _run_bounded(fn: Callable[[], Any], limit: float) -> Any:
    """Run ``fn`` in a worker thread; give up waiting after ``limit`` seconds.

    The socket timeouts already bound a normal attempt; this is the backstop that keeps
    the overall deadline even if a server trickles bytes. An abandoned attempt finishes
    on its own (its socket timeouts still apply); its result is discarded.
    """
    done = threading.Event()
    box: dict[str, Any] = {}
    context = contextvars.copy_context()

    def target() -> None:
        try:
            box["result"] = context.run(fn)
        except BaseException as exc:  # handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="stsd-sts-attempt", daemon=True).start()
    if not done.wait(limit):
        raise AttemptTimeout(f"no answer within the remaining {limit:.3f}s of the deadline")
    if "error" in box:
        raise box["error"]
    return box["result"]
