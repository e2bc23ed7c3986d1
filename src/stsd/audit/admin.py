"""The audit trail over the admin HTTP API (JSON), for the web console::

    GET /admin/audit/events?eventName=&region=&principal=&endpointType=&since=&until=&errorsOnly=&limit=
        stsd:ListAuditEvents          → {"Records": [CloudTrail record, …]}   (newest first)
    GET /admin/audit/global-usage?since=&until=&principal=&limit=
        stsd:GetGlobalEndpointUsage   → {"GlobalEndpointUsage": [{accountId, principal, sourceIPAddress,
                                          userAgent, awsServingRegion, count, firstSeen, lastSeen, remedy}]}

Authenticated like the rest of ``/admin/`` (SigV4 service ``stsd``, via
:mod:`stsd.account_api.signed`) and authorised by the policy engine on resource ``*``. A caller
sees its own account; ``accountId=<other>`` is a cross-account request (denied: no resource
policy grants it). Errors are ``{"code", "message"}`` like the other admin routes. Each call
is itself recorded in the trail (eventSource iam.amazonaws.com, us-east-1) by
:func:`record_admin_call`, which records every other ``/admin/`` route and the Account API too.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stsd.account_api import signed
from stsd.audit.query import EventFilter, StoreSource, parse_time
from stsd.audit.record import IAM_REGION, IAM_SOURCE, Call
from stsd.errors import AwsError
from stsd.protocol.query import parse_pairs
from stsd.server.context import RequestContext

log = logging.getLogger("stsd.audit")
SERVICE = "stsd"
MAX_LIMIT = 1000
#: The AWS Account Management API's event source; like IAM it is global, recorded in us-east-1
#: (docs.aws.amazon.com/accounts/latest/reference/monitoring-cloudtrail.html, its example events).
ACCOUNT_SOURCE = "account.amazonaws.com"
_QUERY_KEYS = ("accountId", "region", "eventName", "principal", "endpointType", "since", "until", "errorsOnly",
               "limit")


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _bad(message: str) -> _Refused:
    return _Refused(400, "ValidationError", message)


def _filter(query: dict[str, str], account: str) -> EventFilter:
    unknown = sorted(set(query) - set(_QUERY_KEYS))
    if unknown:
        raise _bad(f"Unknown query parameter(s): {', '.join(unknown)}.")
    endpoint_type = query.get("endpointType")
    if endpoint_type not in (None, "global", "regional"):
        raise _bad("endpointType must be global or regional.")
    try:
        since = parse_time(query["since"]) if "since" in query else None
        until = parse_time(query["until"]) if "until" in query else None
    except ValueError as error:
        raise _bad(str(error)) from None
    limit_text = query.get("limit", "100")
    if not limit_text.isdigit():
        raise _bad("limit must be an integer.")
    limit = int(limit_text)
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad(f"limit must be between 1 and {MAX_LIMIT}.")
    errors_only = query.get("errorsOnly", "false").lower()
    if errors_only not in ("true", "false"):
        raise _bad("errorsOnly must be true or false.")
    return EventFilter(account=account, region=query.get("region"), event_name=query.get("eventName"),
                       principal=query.get("principal"), endpoint_type=endpoint_type, since=since, until=until,
                       errors_only=errors_only == "true", limit=limit)


def _json(status: int, payload: dict[str, Any], request_id: str) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json",
                    headers={"x-amzn-RequestId": request_id})


class AuditApi:
    def __init__(self, runtime: Any):
        self.runtime = runtime
        self.store = StoreSource(runtime.engine)

    def routes(self) -> list[Route]:
        return [Route("/admin/audit/events", self.events, methods=["GET"]),
                Route("/admin/audit/global-usage", self.global_usage, methods=["GET"])]

    async def events(self, request: Request) -> Response:
        return await self._serve(request, "ListAuditEvents", lambda f: {"Records": self.store.events(f)})

    async def global_usage(self, request: Request) -> Response:
        return await self._serve(request, "GetGlobalEndpointUsage",
                                 lambda f: {"GlobalEndpointUsage": [u.as_dict() for u in self.store.global_usage(f)]})

    async def _serve(self, request: Request, name: str, answer: Any) -> Response:
        return await signed.dispatch(self.runtime, request, lambda http: self._handle(http, name, answer))

    def _handle(self, http: signed.HttpRequest, name: str, answer: Any) -> Response:
        request_id = str(uuid.uuid4())
        query = dict(parse_pairs(http.raw_query))
        action = f"{SERVICE}:{name}"
        ctx = signed.context(self.runtime, http, request_id)
        try:
            signed.authenticate_request(self.runtime, http, request_id, SERVICE, ctx)
            caller = ctx.caller()
            account = query.get("accountId", caller.account)
            explanation = signed.denial(ctx, action, "*", resource_account=account)
            if explanation is not None:
                shown = f"account {account}" if "accountId" in query else "*"
                raise _Refused(403, "AccessDenied", signed.denied_message(caller, action, shown, explanation))
            response = _json(200, answer(_filter(query, account)), request_id)
            code = message = None
        except _Refused as error:
            code, message = error.code, error.message
            response = _json(error.status, {"code": code, "message": message}, request_id)
        except AwsError as error:
            code, message = error.trail_code, error.message
            response = _json(error.status, {"code": error.code, "message": message}, request_id)
        except Exception:
            log.exception("internal failure in admin request %s", request_id)
            code, message = "InternalFailure", "The request processing has failed because of an unknown error."
            response = _json(500, {"code": code, "message": message}, request_id)
        record_admin_call(self.runtime, ctx, request_id, name, read_only=True, parameters=query or None,
                          error_code=code, error_message=message, request=http)
        return response


def record_admin_call(runtime: Any, ctx: RequestContext, request_id: str, name: str, *, read_only: bool,
                      parameters: dict[str, Any] | None = None, error_code: str | None = None,
                      error_message: str | None = None, event_source: str = IAM_SOURCE,
                      request: signed.HttpRequest | None = None) -> None:
    """Record one call of a JSON API beside the Query pipeline as AWS records a global service:
    in us-east-1, owned by the caller's account, ``responseElements`` null.

    ``/admin/`` routes (every one: :mod:`stsd.admin_api.http` and these) are recorded as IAM
    (``iam.amazonaws.com``), ``name`` the action without ``stsd:`` (e.g. ActivateRegion); the
    Account API as AWS records it, ``event_source`` :data:`ACCOUNT_SOURCE` and ``name`` the
    operation. ``parameters`` is what the caller asked for (no secrets: these APIs take none).
    A call that failed to authenticate (``ctx.principal`` None) is recorded as the Query API
    records one: identity Unknown, naming the access key ``request`` is signed with, owned by
    that key's account if it exists (otherwise kept in the store, delivered to no trail)."""
    audit = runtime.audit
    if audit is None:
        return
    key = signed.signing_key_id(request) if ctx.principal is None and request is not None else None
    audit.submit(Call(
        event_source=event_source, event_name=name, read_only=read_only, time=ctx.now, aws_region=IAM_REGION,
        source_ip=ctx.source_ip, user_agent=ctx.user_agent, host=ctx.host, request_id=request_id,
        principal=ctx.principal, access_key_id=key, request_parameters=parameters, error_code=error_code,
        error_message=error_message, tls=ctx.tls,
    ))
