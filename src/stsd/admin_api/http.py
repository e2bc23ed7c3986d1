"""stsd admin API — JSON over HTTP under ``/admin/``.

Authentication: SigV4, service name ``stsd``, any Region in the scope, over the credentials
STS and IAM accept (e.g. botocore's ``SigV4Auth(creds, "stsd", "us-east-1")``). Each route is
authorised by the policy engine as the action below on resource ``*`` (AdministratorAccess
allows); routes under ``/admin/accounts/{id}`` are cross-account unless ``{id}`` is the
caller's own account, and are then denied (no resource policies exist for them).
The rules behind every write are :mod:`stsd.account_api.rules` (shared with the CLI and the
Account API). All responses are ``application/json`` with an ``x-amzn-RequestId`` header.

Every call of a route below — success or failure, signed or not — is recorded once in the
audit trail as IAM calls are (eventSource ``iam.amazonaws.com``, us-east-1): eventName the
action without ``stsd:``, readOnly for GET, requestParameters the path's ``accountId`` and
``region`` and the body members the route takes (see :func:`AdminApi.handle`). Requests that
match no route (404, 405) reach no action and are not recorded.

Schemas::

    Region  = {"region": str, "name": str, "optIn": bool, "optStatus": ENABLED_BY_DEFAULT|ENABLED|
               ENABLING|DISABLING|DISABLED, "stsActive": bool, "stsDeactivatable": bool}
    Fault   = {"region": str, "mode": "down"|"slow"|"error5xx"|"throttle", "delayMs": int}
    Quota   = {"accountId": str, "region": str|"*", "endpointType": "global"|"regional"|"*",
               "rate": int (req/s, 0 = unlimited), "burst": int}
    Error   = {"code": str, "message": str}

Paths (action → request body → 200 response)::

    GET    /admin/accounts/{id}/regions                       stsd:ListRegions      → {"accountId", "regions": [Region]}
    POST   /admin/accounts/{id}/regions/{region}/activate     stsd:ActivateRegion   → Region
    POST   /admin/accounts/{id}/regions/{region}/deactivate   stsd:DeactivateRegion → Region
    POST   /admin/accounts/{id}/regions/{region}/enable       stsd:EnableRegion     → Region (ENABLING)
    POST   /admin/accounts/{id}/regions/{region}/disable      stsd:DisableRegion    → Region (DISABLING)
    GET    /admin/faults                                      stsd:ListFaults       → {"faults": [Fault]}
    GET    /admin/faults/{region}                             stsd:GetFault         → Fault (404 if none)
    PUT    /admin/faults/{region}   {"mode", "delayMs"?: 0}   stsd:PutFault         → Fault
    DELETE /admin/faults[/{region}]                           stsd:DeleteFault      → {"removed": int}
    GET    /admin/accounts/{id}/quotas                        stsd:ListQuotas       → {"accountId", "quotas": [Quota]}
    PUT    /admin/accounts/{id}/quotas                        stsd:PutQuota         → Quota
           {"rate", "burst"?: rate, "region"?: "*", "endpointType"?: "*"}

Errors (status code — Error.code)::

    400 ValidationError          malformed JSON or body, unknown Region/mode/endpoint type
    400 InvalidOperation         STS cannot be (de)activated there: us-east-1, opt-in Regions
    403 MissingAuthenticationToken | InvalidClientTokenId | SignatureDoesNotMatch |
        IncompleteSignature | ExpiredToken | AccessDenied
    404 NotFound                 unknown path, account or fault
    405 MethodNotAllowed         known path, other method
    409 Conflict                 opt-in Region in transition (ENABLING/DISABLING)
    500 InternalFailure
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stsd.account_api import rules, signed
from stsd.audit.admin import record_admin_call
from stsd.errors import AwsError
from stsd.server import faults
from stsd.server.context import RequestContext

log = logging.getLogger("stsd.admin")

SERVICE = "stsd"
MSG_NOT_FOUND = "No admin API route for {path}."
MSG_METHOD = "{method} is not allowed on {path}; allowed: {allowed}."
MSG_BAD_JSON = "The request body must be a JSON object."
MSG_BAD_FIELD = "{field} must be {kind}."
MSG_INTERNAL = "The request processing has failed because of an unknown error."
_RULE_CODES = {
    rules.INVALID: (400, "ValidationError"),
    rules.REFUSED: (400, "InvalidOperation"),
    rules.NOT_FOUND: (404, "NotFound"),
    rules.CONFLICT: (409, "Conflict"),
}


class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


Payload = dict[str, Any]
Handler = Callable[[Any, dict[str, str], Payload], Payload]


@dataclass(frozen=True, slots=True)
class AdminRoute:
    method: str
    pattern: re.Pattern[str]
    action: str
    handler: Handler
    members: tuple[str, ...] = ()  # the body members the handler reads

    @property
    def account_scoped(self) -> bool:
        return "account" in self.pattern.groupindex

    @property
    def event_name(self) -> str:
        return self.action.removeprefix(f"{SERVICE}:")

    def request_parameters(self, params: dict[str, str], body: Payload | None) -> Payload | None:
        """What the caller asked for, as the audit record shows it: the path's account and
        Region, then the body members this route takes (as sent, valid or not)."""
        asked: Payload = {_PATH_NAMES.get(name, name): value for name, value in params.items()}
        if body is not None:
            asked.update((name, body[name]) for name in self.members if name in body)
        return asked or None


def _field(body: Payload, name: str, kind: type, default: Any = ..., label: str = "") -> Any:
    if name not in body:
        if default is ...:
            raise AdminError(400, "ValidationError", MSG_BAD_FIELD.format(field=name, kind=label or kind.__name__))
        return default
    value = body[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise AdminError(400, "ValidationError", MSG_BAD_FIELD.format(field=name, kind=label or kind.__name__))
    return value


# --- handlers (thin: the rules live in stsd.account_api.rules) -------------------------


def _regions(runtime: Any, p: dict[str, str], _body: Payload) -> Payload:
    found = rules.list_regions(runtime, p["account"], rules.utcnow())
    return {"accountId": p["account"], "regions": [r.as_dict() for r in found]}


def _region_change(change: Callable[..., rules.RegionInfo]) -> Handler:
    def handler(runtime: Any, p: dict[str, str], _body: Payload) -> Payload:
        return change(runtime, p["account"], p["region"], rules.utcnow()).as_dict()

    return handler


def _faults(runtime: Any, _p: dict[str, str], _body: Payload) -> Payload:
    return {"faults": [f.as_dict() for f in rules.list_faults(runtime)]}


def _get_fault(runtime: Any, p: dict[str, str], _body: Payload) -> Payload:
    return rules.get_fault(runtime, p["region"]).as_dict()


def _put_fault(runtime: Any, p: dict[str, str], body: Payload) -> Payload:
    mode = _field(body, "mode", str, label="one of " + ", ".join(faults.MODES))
    delay = _field(body, "delayMs", int, 0, "an integer")
    return rules.set_fault(runtime, p["region"], mode, delay).as_dict()


def _delete_faults(runtime: Any, p: dict[str, str], _body: Payload) -> Payload:
    return {"removed": rules.clear_faults(runtime, p.get("region"))}


def _quotas(runtime: Any, p: dict[str, str], _body: Payload) -> Payload:
    return {"accountId": p["account"], "quotas": [q.as_dict() for q in rules.list_quotas(runtime, p["account"])]}


def _put_quota(runtime: Any, p: dict[str, str], body: Payload) -> Payload:
    rate = _field(body, "rate", int, label="a non-negative integer")
    burst = _field(body, "burst", int, None, "a non-negative integer")
    region = _field(body, "region", str, "*", "a Region name or *")
    endpoint_type = _field(body, "endpointType", str, "*", "global, regional or *")
    return rules.set_quota(runtime, p["account"], region, endpoint_type, rate, burst).as_dict()


_ACCOUNT = r"/admin/accounts/(?P<account>[^/]+)"
_REGION = r"(?P<region>[^/]+)"


_PATH_NAMES = {"account": "accountId"}
#: A request's route and path parameters, or the routing error to answer with.
Found = tuple[AdminRoute, dict[str, str]] | AdminError


def _route(method: str, path: str, action: str, handler: Handler, members: tuple[str, ...] = ()) -> AdminRoute:
    return AdminRoute(method, re.compile(path + r"/?"), action, handler, members)


ROUTES = (
    _route("GET", _ACCOUNT + "/regions", "stsd:ListRegions", _regions),
    _route("POST", _ACCOUNT + f"/regions/{_REGION}/activate", "stsd:ActivateRegion",
           _region_change(rules.activate_sts)),
    _route("POST", _ACCOUNT + f"/regions/{_REGION}/deactivate", "stsd:DeactivateRegion",
           _region_change(rules.deactivate_sts)),
    _route("POST", _ACCOUNT + f"/regions/{_REGION}/enable", "stsd:EnableRegion", _region_change(rules.enable_region)),
    _route("POST", _ACCOUNT + f"/regions/{_REGION}/disable", "stsd:DisableRegion",
           _region_change(rules.disable_region)),
    _route("GET", "/admin/faults", "stsd:ListFaults", _faults),
    _route("DELETE", "/admin/faults", "stsd:DeleteFault", _delete_faults),
    _route("GET", f"/admin/faults/{_REGION}", "stsd:GetFault", _get_fault),
    _route("PUT", f"/admin/faults/{_REGION}", "stsd:PutFault", _put_fault, ("mode", "delayMs")),
    _route("DELETE", f"/admin/faults/{_REGION}", "stsd:DeleteFault", _delete_faults),
    _route("GET", _ACCOUNT + "/quotas", "stsd:ListQuotas", _quotas),
    _route("PUT", _ACCOUNT + "/quotas", "stsd:PutQuota", _put_quota, ("rate", "burst", "region", "endpointType")),
)


def _json(status: int, payload: Payload, request_id: str, extra: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(body, status_code=status, headers={"x-amzn-RequestId": request_id, **(extra or {})},
                    media_type="application/json")


class AdminApi:
    def __init__(self, runtime: Any):
        self.runtime = runtime

    def routes(self) -> list[Route]:
        methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
        return [Route("/admin", self.endpoint, methods=methods),
                Route("/admin/{rest:path}", self.endpoint, methods=methods)]

    async def endpoint(self, request: Request) -> Response:
        return await signed.dispatch(self.runtime, request, self.handle)

    def handle(self, request: signed.HttpRequest) -> Response:
        """Answer one request and record it: the one place every admin route is audited."""
        request_id = str(uuid.uuid4())
        ctx = signed.context(self.runtime, request, request_id)
        found = _find(request.method, request.path)
        body = _body(request)
        code = message = None
        try:
            response = _json(200, self._call(ctx, request, found, body), request_id)
        except AdminError as error:
            code, message = error.code, error.message
            response = _json(error.status, {"code": code, "message": message}, request_id, error.headers)
        except rules.RuleError as error:
            status, code = _RULE_CODES[error.kind]
            message = error.message
            response = _json(status, {"code": code, "message": message}, request_id)
        except AwsError as error:
            code, message = error.trail_code, error.message
            response = _json(error.status, {"code": error.code, "message": error.message}, request_id)
        except Exception:
            log.exception("internal failure in admin request %s", request_id)
            code, message = "InternalFailure", MSG_INTERNAL
            response = _json(500, {"code": code, "message": message}, request_id)
        if not isinstance(found, AdminError):
            route, params = found
            record_admin_call(self.runtime, ctx, request_id, route.event_name, read_only=route.method == "GET",
                              parameters=route.request_parameters(params, body), error_code=code,
                              error_message=message, request=request)
        return response

    def _call(self, ctx: RequestContext, request: signed.HttpRequest, found: Found, body: Payload | None) -> Payload:
        signed.authenticate_request(self.runtime, request, ctx.request_id, SERVICE, ctx)
        if isinstance(found, AdminError):
            raise found
        route, params = found
        if body is None:
            raise AdminError(400, "ValidationError", MSG_BAD_JSON)
        account = params.get("account")
        explanation = signed.denial(ctx, route.action, "*", resource_account=account)
        if explanation is not None:
            shown = f"account {account}" if account is not None else "*"
            raise AdminError(403, "AccessDenied", signed.denied_message(ctx.caller(), route.action, shown, explanation))
        return route.handler(self.runtime, params, body)


def _body(request: signed.HttpRequest) -> Payload | None:
    """The JSON object a PUT or POST carries ({} when empty; None when it is not a JSON object)."""
    if request.method not in ("PUT", "POST") or not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _find(method: str, path: str) -> Found:
    """The route and path parameters of a request, or the routing error to answer with (after
    authentication, so unsigned callers learn nothing about the routes)."""
    allowed = []
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found is None:
            continue
        if route.method == method:
            return route, found.groupdict()
        allowed.append(route.method)
    if allowed:
        allow = ", ".join(sorted(set(allowed)))
        return AdminError(405, "MethodNotAllowed", MSG_METHOD.format(method=method, path=path, allowed=allow),
                          {"Allow": allow})
    return AdminError(404, "NotFound", MSG_NOT_FOUND.format(path=path))
