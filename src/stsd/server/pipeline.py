"""The Query-API request pipeline: endpoint → protocol → authenticate → action → render.

Written against raw ASGI rather than a framework router: this is the hot path (every STS
and IAM call), and each avoided allocation is throughput. Everything else (health,
metrics, admin) is an ordinary Starlette app mounted beside it.
"""

from __future__ import annotations

import binascii
import functools
import logging
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio

from stsd.actions.base import IAM, SERVICES, STS, Action, Service, registry
from stsd.auth import sigv4
from stsd.auth.authenticate import RawRequest, authenticate
from stsd.errors import (
    AWSFAULT_NAMESPACE,
    MSG_RATE_EXCEEDED,
    AwsError,
    InternalFailure,
    InvalidAction,
    MissingAuthenticationToken,
    Throttling,
)
from stsd.protocol import render
from stsd.protocol.params import parse_params
from stsd.protocol.query import first_wins, is_form_content_type, parse_pairs
from stsd.protocol.render import Node
from stsd.quotas.buckets import Limit, LocalBuckets, RedisBuckets
from stsd.regions import catalogue, rules
from stsd.regions.endpoints import IAM_HOSTS, Endpoint, parse_host, parse_path_prefix, regional_endpoint
from stsd.regions.topology import Topology
from stsd.server import faults, metrics
from stsd.server.context import RequestContext
from stsd.server.http_protocol import scope_tls
from stsd.server.runtime import Runtime

log = logging.getLogger("stsd.request")

MSG_MISSING_AUTH = "Request is missing Authentication Token"
MSG_INTERNAL = "The request processing has failed because of an unknown error, exception or failure."
UNKNOWN_OPERATION = b"<UnknownOperationException/>\n"
REDIRECT = "https://aws.amazon.com/iam"
CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"POST"),
    (b"access-control-expose-headers",
     b"x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date,smithy-protocol"),
    (b"access-control-max-age", b"172800"),
    (b"content-length", b"0"),
]


@dataclass(slots=True)
class Outcome:
    """What the pipeline produced, for the response and the audit trail."""

    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]]
    action: Action | None = None
    error: AwsError | None = None
    context: RequestContext | None = None
    # Captured for the audit trail, which builds its record off the request path.
    params: dict[str, str] | None = None  # the raw query parameters
    result: Sequence[Node] | None = None  # the action's result (holds secrets: never logged as is)
    access_key_id: str | None = None  # the signing key, for calls that fail to authenticate


@dataclass(slots=True)
class _Head:
    """What the request line and headers decided: the parsed headers and the endpoint."""

    header: dict[bytes, bytes]  # first occurrence of each (lower-cased) name
    endpoint: Endpoint | None  # None: a bare endpoint_url, decided by the signature
    host: str


@dataclass(slots=True)
class _Call:
    """A Query API call under way: what the later steps need, and the Outcome it fills."""

    outcome: Outcome
    request_id: str
    json_wanted: bool
    service: Service = STS  # until the signature or host says otherwise (errors render for it)
    action: Action = None  # type: ignore[assignment]  # set before any step that reads it
    ctx: RequestContext = None  # type: ignore[assignment]
    signed: sigv4.SigV4Request | None = None
    raw: RawRequest | None = None  # the signed request's bytes, for the signature check
    fault: tuple[str, int] | None = None  # a simulated failure of the serving Region


_clock: tuple[int, datetime] = (0, datetime.fromtimestamp(0, UTC))


def _now() -> datetime:
    """The current UTC time in whole seconds (AWS timestamps have none); one datetime per
    second is built and shared, as datetimes are immutable."""
    global _clock
    second = int(time.time())
    if _clock[0] != second:
        _clock = (second, datetime.fromtimestamp(second, UTC))
    return _clock[1]


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def _request_id() -> str:
    """A random (version 4) UUID string: uuid.uuid4() is several times slower, and request
    ids need to be unique, not secret."""
    h = "%032x" % ((_random_bits(128) & _UUID4_CLEAR) | _UUID4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_ids = random.Random()  # seeded from os.urandom; re-seeded in forked children
os.register_at_fork(after_in_child=_ids.seed)
_random_bits = _ids.getrandbits
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def _plain(status: int, body: bytes = b"", extra: list[tuple[bytes, bytes]] | None = None) -> Outcome:
    headers = [(b"content-length", str(len(body)).encode())] + (extra or [])
    return Outcome(status, body, headers)


class QueryPipeline:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.actions = registry()
        settings = runtime.settings
        self.topology = Topology.load(settings.topology_file, settings.global_endpoint_mode)
        self.quotas = (
            RedisBuckets(settings.redis_url, share=1.0 / max(1, settings.workers))
            if settings.redis_url
            else LocalBuckets(1.0 / max(1, settings.workers))
        )
        self.default_limit = Limit(settings.quota_rate, settings.quota_burst)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            outcome = await self.handle(scope, receive)
        except faults.DropConnection:
            # A Region that is "down" never answers: wait for the client to give up, then
            # return without a response (uvicorn sends nothing to a client that has gone).
            await faults.wait_for_disconnect(receive)
            return
        await send({"type": "http.response.start", "status": outcome.status, "headers": outcome.headers})
        body = b"" if scope["method"] == "HEAD" else outcome.body
        await send({"type": "http.response.body", "body": body})

    def respond_now(self, scope: dict[str, Any], body: bytes) -> Outcome | None:
        """Answer a request whose body is already in hand, without awaiting anything.

        The HTTP layer's fast path (``server.http_protocol``): most STS calls need no I/O,
        so they are answered inside the protocol callback, with no ASGI task per request.
        Returns None, before anything with an effect has happened (no quota charged, no
        audit record), when the request must wait on something: a simulated Region fault
        or an action that touches the database. The caller then runs it through
        :meth:`__call__`, which takes the same steps.
        """
        head = self._head(scope)
        if isinstance(head, Outcome):
            return head
        if len(body) > self.runtime.settings.max_body_bytes:
            return _plain(413)
        call = self._begin(scope, head, body)
        if isinstance(call, Outcome):
            return call
        if call.fault is not None or call.action.blocking:
            return None
        try:
            values = self._admit(call)
            self._render(call, call.action.handler(call.ctx, values))
        except AwsError as error:
            self._render_error(call, error)
        except Exception:
            self._render_crash(call)
        return self._finish(call)

    async def handle(self, scope: dict[str, Any], receive: Any) -> Outcome:
        head = self._head(scope)
        if isinstance(head, Outcome):
            return head
        body = await self._read_body(head.header.get(b"content-length"), receive)
        if body is None:
            return _plain(413)
        call = self._begin(scope, head, body)
        if isinstance(call, Outcome):
            return call
        try:
            if call.fault is not None:
                await faults.apply(call.fault)
            values = self._admit(call)
            action, ctx = call.action, call.ctx
            if action.blocking:
                result = await anyio.to_thread.run_sync(action.handler, ctx, values)
            else:
                result = action.handler(ctx, values)
            self._render(call, result)
        except AwsError as error:
            self._render_error(call, error)
        except faults.DropConnection:
            raise
        except Exception:
            self._render_crash(call)
        return self._finish(call)

    async def _read_body(self, declared: bytes | None, receive: Any) -> bytes | None:
        limit = self.runtime.settings.max_body_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    # --- the steps of one request, shared by both entry points ----------------------------
    def _head(self, scope: dict[str, Any]) -> _Head | Outcome:
        """What the request line and headers decide on their own (before the body)."""
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        # Header names arrive lower-cased (ASGI); the first occurrence of a repeated one wins.
        header = {name: value for name, value in reversed(headers)}
        method: str = scope["method"]
        endpoint, path = parse_path_prefix(scope["path"])
        host = header[b"host"].decode("latin-1") if b"host" in header else ""
        if endpoint is None:
            endpoint = parse_host(host)
            if endpoint is None and _looks_like_aws(host):
                return _plain(400, f"stsd does not serve {host.split(':', 1)[0]}: not an STS or IAM endpoint "
                                   "name of any AWS partition\n".encode())
        if path != "/":
            return _plain(404, UNKNOWN_OPERATION)
        if method == "OPTIONS":
            return Outcome(200, b"", list(CORS_HEADERS))
        if method not in ("GET", "POST", "HEAD"):
            return _plain(400)
        return _Head(header, endpoint, host)

    def _begin(self, scope: dict[str, Any], head: _Head, body: bytes) -> _Call | Outcome:
        """Parse the call and find its action, caller's endpoint and fault, without effects."""
        header, method = head.header, scope["method"]
        raw_query: bytes = scope.get("query_string", b"")
        query_pairs = parse_pairs(raw_query)
        if method == "POST":
            if not is_form_content_type(_text(header.get(b"content-type"))):
                return _plain(302, extra=[(b"location", REDIRECT.encode())])
            params = first_wins(parse_pairs(body), query_pairs)
        else:
            params = first_wins(query_pairs)
        if "Action" not in params:
            location = REDIRECT
            if method == "GET" and "Version" in params:
                location += f"?Version={params['Version']}"
            return _plain(302, extra=[(b"location", location.encode())])
        request_id = _request_id()
        call = _Call(Outcome(0, b"", [], params=params), request_id, render.wants_json(_text(header.get(b"accept"))))
        outcome = call.outcome
        try:
            signed = sigv4.parse_request(method, header, query_pairs)
            outcome.access_key_id = signed.access_key_id if signed is not None else None
            call.service = service = self._service(signed, head.host, params)
            call.action = outcome.action = self._action(service, params)
            call.ctx = outcome.context = ctx = self._context(
                scope, header, head.host, head.endpoint, signed, service, request_id
            )
            call.fault = self.runtime.directory.faults().get(ctx.serving_region)
            if signed is not None:
                call.signed = signed
                call.raw = RawRequest(method, scope.get("raw_path") or scope["path"].encode(), raw_query,
                                      scope["headers"], body)
        except AwsError as error:
            self._render_error(call, error)
            return self._finish(call)
        except Exception:
            self._render_crash(call)
            return self._finish(call)
        return call

    def _admit(self, call: _Call) -> dict[str, Any]:
        """Authenticate, apply the caller and quota rules, and read the action's parameters."""
        ctx, action, service = call.ctx, call.action, call.service
        if call.signed is not None:
            assert call.raw is not None
            ctx.principal = authenticate(
                self.runtime,
                call.signed,
                call.raw,
                signing_region=_signing_region(service, ctx.host, ctx.endpoint),
                service=service.name,
                now=ctx.now,
                holds_v1=_holds_v1(ctx.serving_region),
            )
        elif not action.unsigned:
            raise MissingAuthenticationToken(MSG_MISSING_AUTH)
        params = call.outcome.params
        assert params is not None
        if ctx.principal is not None:
            if service is STS:
                rules.check_caller(ctx, ctx.principal)
            self._charge_quota(ctx, service, ctx.principal.account)
        elif action.quota_account is not None:
            # Unsigned: the account the call acts for pays, if it exists here (unknown
            # accounts get no bucket: hostile input must not grow the quota table).
            account_id = action.quota_account(params)
            if account_id is not None and self.runtime.directory.account(account_id) is not None:
                self._charge_quota(ctx, service, account_id)
        # IAM leaves the offending value out of its validation messages; STS prints it.
        return parse_params(action.params, params, show_values=service is not IAM)

    @staticmethod
    def _render(call: _Call, result: Sequence[Node]) -> None:
        outcome = call.outcome
        outcome.result = result
        outcome.body = (
            render.render_json(call.action.name, result, call.request_id)
            if call.json_wanted
            else render.render_xml(call.action.name, call.service.namespace, result, call.request_id)
        )
        outcome.status = 200

    @staticmethod
    def _render_error(call: _Call, error: AwsError) -> None:
        outcome = call.outcome
        outcome.error = error
        outcome.status = error.status
        outcome.body = (
            render.render_error_json(error, call.request_id)
            if call.json_wanted
            else render.render_error_xml(error, call.service.namespace, call.request_id)
        )

    @staticmethod
    def _render_crash(call: _Call) -> None:
        log.exception("internal failure in request %s", call.request_id)
        error = InternalFailure(MSG_INTERNAL)
        outcome = call.outcome
        outcome.error = error
        outcome.status = 500
        outcome.body = render.render_error_xml(error, call.service.namespace, call.request_id)

    def _finish(self, call: _Call) -> Outcome:
        """Response headers, metrics and the audit hand-off, for every answered call."""
        outcome, service, request_id = call.outcome, call.service, call.request_id
        outcome.headers = [
            (b"content-type", b"application/json" if call.json_wanted else b"text/xml"),
            (b"content-length", str(len(outcome.body)).encode()),
            (b"x-amzn-requestid", request_id.encode()),
        ]
        ctx = outcome.context
        if ctx is not None:
            outcome.headers.append((b"x-stsd-serving-region", ctx.serving_region.encode()))
            if service is STS:
                outcome.headers.append((b"x-amz-sts-extended-request-id", _extended_request_id(ctx)))
        metrics.count_request(
            service.name,
            outcome.action.name if outcome.action else "unknown",
            ctx.endpoint.endpoint_type if ctx else "unknown",
            ctx.serving_region if ctx else "unknown",
            outcome.error.code if outcome.error else "OK",
        )
        if ctx is not None and outcome.action is not None and self.runtime.audit is not None:
            self.runtime.audit.submit(outcome)  # enqueue only: the record is built by the writer
        return outcome

    def _charge_quota(self, ctx: RequestContext, service: Service, account_id: str) -> None:
        # IAM and STS keep independent buckets (AWS: "IAM and AWS STS independently implement
        # a token bucket algorithm"); per-account overrides apply to both.
        endpoint_type = ctx.endpoint.endpoint_type
        limit = self._limit(account_id, ctx.serving_region, endpoint_type)
        if not self.quotas.allow((service.name, account_id, ctx.serving_region, endpoint_type), limit):
            metrics.THROTTLED.labels(service.name, account_id, ctx.serving_region, endpoint_type).inc()
            raise Throttling(MSG_RATE_EXCEEDED)

    def _limit(self, account_id: str, region: str, endpoint_type: str) -> Limit:
        account = self.runtime.directory.account(account_id)
        if account is not None and account.quotas:
            for key in ((region, endpoint_type), (region, "*"), ("*", endpoint_type), ("*", "*")):
                if key in account.quotas:
                    rate, burst = account.quotas[key]
                    return Limit(rate, burst)
        return self.default_limit

    # --- steps --------------------------------------------------------------------------
    @staticmethod
    def _service(signed: sigv4.SigV4Request | None, host: str, params: dict[str, str]) -> Service:
        if signed is not None and signed.service in SERVICES:
            return SERVICES[signed.service]
        if host.split(":", 1)[0].lower() in IAM_HOSTS or params.get("Version") == IAM.version:
            return IAM
        return STS

    def _action(self, service: Service, params: dict[str, str]) -> Action:
        name = params["Action"]
        version = params.get("Version")
        action = self.actions[service.name].get(name)
        if action is None or version != service.version:
            shown = "NO_VERSION_SPECIFIED" if version is None else version
            raise InvalidAction(
                f"Could not find operation {name} for version {shown}", namespace=AWSFAULT_NAMESPACE
            )
        return action

    def _context(
        self,
        scope: dict[str, Any],
        header: dict[bytes, bytes],
        host: str,
        endpoint: Endpoint | None,
        signed: sigv4.SigV4Request | None,
        service: Service,
        request_id: str,
    ) -> RequestContext:
        if endpoint is None:
            # A bare endpoint_url: the endpoint is the one the client signed for.
            region = signed.region if signed is not None else "us-east-1"
            if service is IAM or catalogue.region(region) is None:
                region = "us-east-1"
            endpoint = regional_endpoint(region)
        client = scope.get("client") or ("127.0.0.1", 0)
        source_ip = client[0]
        if self.runtime.settings.trust_forwarded_for:
            forwarded = _text(header.get(b"x-forwarded-for"))
            if forwarded:
                source_ip = forwarded.split(",", 1)[0].strip()
        serving_region = endpoint.region
        if endpoint.endpoint_type == "global":
            serving_region = self.topology.global_serving_region(source_ip)
        return RequestContext(
            runtime=self.runtime,
            request_id=request_id,
            now=_now(),
            endpoint=endpoint,
            serving_region=serving_region,
            source_ip=source_ip,
            user_agent=_text(header.get(b"user-agent")) or "",
            host=host,
            secure=scope.get("scheme") == "https",
            tls=scope_tls(scope),
        )


_AWS_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws", ".amazonwebservices.com.cn", ".c2s.ic.gov",
                 ".sc2s.sgov.gov", ".cloud.adc-e.uk", ".csp.hci.ic.gov", ".amazonaws.eu", ".api.amazonwebservices.eu")


@functools.lru_cache(maxsize=1024)  # bounded: Host is attacker-controlled
def _looks_like_aws(host: str) -> bool:
    name = host.split(":", 1)[0].lower().rstrip(".")
    return name.endswith(_AWS_SUFFIXES) and name not in IAM_HOSTS


def _extended_request_id(ctx: RequestContext) -> bytes:
    """``x-amz-sts-extended-request-id``: base64 of ``1:<serving Region>:S:<epoch ms>:R:<8 chars>``."""
    millis = int(time.time() * 1000)
    raw = f"1:{ctx.serving_region}:S:{millis}:R:{ctx.request_id[:8]}"
    return binascii.b2a_base64(raw.encode(), newline=False)


def _signing_region(service: Service, host: str, endpoint: Endpoint) -> str | None:
    """The scope Region a request must carry; None accepts the client's own Region.

    IAM is global: at its real host name it takes us-east-1 only, but SDKs pointed at an
    ``endpoint_url`` sign IAM with whatever Region the client has, so that is accepted.
    """
    if service is IAM:
        return "us-east-1" if host.split(":", 1)[0].lower() in IAM_HOSTS else None
    return endpoint.signing_region


def _holds_v1(region_name: str) -> bool:
    """v1 (global-endpoint) token keys are held only by Regions enabled by default."""
    region = catalogue.region(region_name)
    return region is None or not region.opt_in
