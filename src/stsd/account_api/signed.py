"""SigV4 authentication and policy authorisation for the JSON APIs beside the Query pipeline.

The Account API (service ``account``) and the admin API (service ``stsd``) take the same
credentials as STS and IAM: the request is parsed with :mod:`stsd.auth.sigv4`, the caller is
found by :func:`stsd.auth.authenticate.authenticate` (long-term keys, session tokens,
emulator mode) and its permissions come from the policy engine through
:func:`stsd.auth.authorize.authorize_identity`. Like IAM behind an ``endpoint_url``, any
Region in the credential scope is accepted; the service name must match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio

from stsd.auth import sigv4
from stsd.auth.authenticate import RawRequest, authenticate
from stsd.auth.authorize import authorize_identity
from stsd.auth.principal import Principal
from stsd.errors import AwsError, MissingAuthenticationToken
from stsd.protocol.query import parse_pairs
from stsd.regions.endpoints import regional_endpoint
from stsd.server.context import RequestContext
from stsd.server.http_protocol import scope_tls

# API Gateway's text: the Account API's x-amzn-ErrorType is "populated by API Gateway" (botocore model).
MSG_MISSING_AUTH = "Missing Authentication Token"
#: Both APIs are served as if from us-east-1 (aws:RequestedRegion), like IAM.
HOME_REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What authentication needs from an ASGI request, read once."""

    method: str
    path: str
    raw_path: bytes
    raw_query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    client_ip: str
    secure: bool
    tls: tuple[str, str] | None = None  # (version, cipher suite) of an HTTPS connection

    @classmethod
    def from_scope(cls, scope: dict[str, Any], body: bytes) -> HttpRequest:
        client = scope.get("client") or ("127.0.0.1", 0)
        return cls(
            method=scope["method"],
            path=scope["path"],
            raw_path=scope.get("raw_path") or scope["path"].encode(),
            raw_query=scope.get("query_string", b""),
            headers=list(scope["headers"]),
            body=body,
            client_ip=client[0],
            secure=scope.get("scheme") == "https",
            tls=scope_tls(scope),
        )

    def header(self, name: bytes) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value.decode("latin-1")
        return None


def context(runtime: Any, request: HttpRequest, request_id: str) -> RequestContext:
    source_ip = request.client_ip
    if runtime.settings.trust_forwarded_for:
        forwarded = request.header(b"x-forwarded-for")
        if forwarded:
            source_ip = forwarded.split(",", 1)[0].strip()
    return RequestContext(
        runtime=runtime,
        request_id=request_id,
        now=datetime.now(UTC).replace(microsecond=0),
        endpoint=regional_endpoint(HOME_REGION),
        serving_region=HOME_REGION,
        source_ip=source_ip,
        user_agent=request.header(b"user-agent") or "",
        host=request.header(b"host") or "",
        secure=request.secure,
        tls=request.tls,
    )


def authenticate_request(runtime: Any, request: HttpRequest, request_id: str, service: str,
                         ctx: RequestContext | None = None) -> RequestContext:
    """The request's context (``ctx`` if given, e.g. one :func:`context` made for the audit
    record) with its authenticated principal; raises the SigV4/credential AwsErrors of
    :mod:`stsd.auth` (MissingAuthenticationToken when unsigned)."""
    ctx = ctx or context(runtime, request, request_id)
    signed = sigv4.parse_request(request.method, request.headers, parse_pairs(request.raw_query))
    if signed is None:
        raise MissingAuthenticationToken(MSG_MISSING_AUTH)
    raw = RawRequest(request.method, request.raw_path, request.raw_query, request.headers, request.body)
    ctx.principal = authenticate(runtime, signed, raw, signing_region=None, service=service, now=ctx.now)
    return ctx


def signing_key_id(request: HttpRequest) -> str | None:
    """The access key id a request is signed with (even a forged or unknown one), None when it
    is unsigned or its signature cannot be parsed: what the audit record of a call that failed
    to authenticate names, as on the Query API."""
    try:
        signed = sigv4.parse_request(request.method, request.headers, parse_pairs(request.raw_query))
    except AwsError:
        return None
    return signed.access_key_id if signed is not None else None


def denial(ctx: RequestContext, action: str, resource: str, *, resource_account: str | None = None,
           extra: dict[str, Any] | None = None) -> str | None:
    """None when the caller may perform ``action`` on ``resource``; otherwise the tail of
    AWS's AccessDenied text ("because no identity-based policy allows the ... action")."""
    verdict = authorize_identity(ctx, ctx.caller(), action, resource, extra, resource_account=resource_account)
    if verdict is None or verdict.allowed:
        return None
    return verdict.explanation(action) or ""


def denied_message(caller: Principal, action: str, resource: str, explanation: str) -> str:
    return f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource} {explanation}"


async def dispatch(runtime: Any, request: Any, handle: Callable[[HttpRequest], Any]) -> Any:
    """Read a JSON API request (bounded like the Query API: 413 above the limit) and run its
    synchronous handler — which authenticates and may write the store — in a worker thread."""
    from starlette.responses import Response

    body = await request.body()
    if len(body) > runtime.settings.max_body_bytes:
        return Response(status_code=413)
    return await anyio.to_thread.run_sync(handle, HttpRequest.from_scope(request.scope, body))
