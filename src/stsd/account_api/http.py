"""The AWS Account API's Region operations, as AWS serves them (``account`` 2021-02-01, REST-JSON).

``POST /enableRegion``, ``/disableRegion``, ``/getRegionOptStatus``, ``/listRegions`` with
JSON bodies, signed with SigV4 for service ``account`` (any Region in the scope), so boto3's
``account`` client with ``endpoint_url=<stsd>`` works. Callers are the principals STS and IAM
know; ``account:<Operation>`` is authorised on ``arn:<partition>:account::<id>:account`` with
``account:TargetRegion`` in the request context (AdministratorAccess allows).

Wire shapes follow ``botocore/data/account/2021-02-01/service-2.json``: success is 200 with an
empty body (EnableRegion/DisableRegion, as the API reference says) or the output structure;
errors carry ``x-amzn-ErrorType`` and a JSON body ``{"message": ...}`` (ValidationException
adds ``reason`` and, for field errors, ``fieldList``). Order of checks: signature and
credentials, input validation, IAM authorisation, ``AccountId`` (stsd models no
Organizations, so only the caller's own id is accepted), then the rules of
:mod:`stsd.account_api.rules`.

Every call of an operation (a POST to its path, success or failure, signed or not) is recorded
once in the audit trail as AWS CloudTrail records the Account Management API: eventSource
``account.amazonaws.com``, eventName the operation, awsRegion us-east-1 (a global service),
readOnly for Get/List, requestParameters the members sent in lowerCamel (``regionName``,
``accountId``, …), responseElements null (AWS's examples in the Account Management reference,
"Logging AWS Account Management API calls using AWS CloudTrail").
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from stsd.account_api import rules, signed
from stsd.audit.admin import ACCOUNT_SOURCE, record_admin_call
from stsd.errors import (
    AccessDeniedException,
    AwsError,
    ConflictException,
    ErrorSpec,
    InternalServerException,
    ResourceNotFoundException,
    SerializationException,
    UnknownOperationException,
    ValidationException,
)
from stsd.server.context import RequestContext

log = logging.getLogger("stsd.account")

# --- the model's errors live in the error table; here only the JSON-protocol names ------

# The Query API's authentication codes under the names JSON/REST-JSON services use.
AUTH_CODES = {
    "InvalidClientTokenId": "UnrecognizedClientException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
    "IncompleteSignature": "IncompleteSignatureException",
    "ExpiredToken": "ExpiredTokenException",
    "MissingAuthenticationToken": "MissingAuthenticationTokenException",
}

# Standalone accounts: naming another account needs Organizations trusted access (AWS's text,
# awslabs/aws-deployment-framework docs/installation-guide.md).
MSG_OTHER_ACCOUNT = (
    "User: {arn} is not authorized to perform: account:{operation} "
    "(Your organization must first enable trusted access with AWS Account Management.)"
)
MSG_INTERNAL = "An internal error occurred."
MSG_BAD_JSON = "Unable to parse the request body as a JSON object."
MSG_BAD_TYPE = "Invalid type for member {member}: expected {kind}."
MSG_BAD_TOKEN = "The NextToken is not valid."
MSG_UNKNOWN_OPERATION = "Unknown operation {method} {path}."


class AccountError(AwsError):
    """An Account API error with the model's extra members (``reason``, ``fieldList``)."""

    def __init__(self, spec: ErrorSpec, message: str | None, fields: dict[str, Any] | None = None):
        super().__init__(spec, message)
        self.fields = fields or {}


# --- input validation (the model's constraints, Coral's wording) -----------------------


@dataclass(frozen=True, slots=True)
class Member:
    wire: str
    kind: str  # "string" | "integer" | "list"
    required: bool = False
    min: int | None = None
    max: int | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        return self.wire[0].lower() + self.wire[1:]


ACCOUNT_ID = Member("AccountId", "string", pattern=r"\d{12}")
REGION_NAME = Member("RegionName", "string", required=True, min=1, max=50)
MAX_RESULTS = Member("MaxResults", "integer", min=1, max=50)
NEXT_TOKEN = Member("NextToken", "string", min=0, max=1000)
STATUS_FILTER = Member("RegionOptStatusContains", "list", enum=rules.OPT_STATUSES)
_TYPES = {"string": str, "integer": int, "list": list}


def _problems(member: Member, value: Any) -> str | None:
    """Coral's constraint sentence for the first constraint ``value`` breaks."""
    if value is None:
        return "Member must not be null" if member.required else None
    if member.kind == "integer":
        if member.min is not None and value < member.min:
            return f"Member must have value greater than or equal to {member.min}"
        if member.max is not None and value > member.max:
            return f"Member must have value less than or equal to {member.max}"
        return None
    if member.kind == "list":
        if member.enum and any(v not in member.enum for v in value):
            return f"Member must satisfy constraint: [Member must satisfy enum value set: [{', '.join(member.enum)}]]"
        return None
    if member.min is not None and len(value) < member.min:
        return f"Member must have length greater than or equal to {member.min}"
    if member.max is not None and len(value) > member.max:
        return f"Member must have length less than or equal to {member.max}"
    if member.pattern is not None and not re.fullmatch(member.pattern, value):
        return f"Member must satisfy regular expression pattern: {member.pattern}"
    return None


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "'[" + ", ".join(str(v) for v in value) + "]'"
    return f"'{value}'"


def validate(members: tuple[Member, ...], body: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for member in members:
        value = body.get(member.wire)
        kind = _TYPES[member.kind]
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)
                                  or (member.kind == "list" and not all(isinstance(v, str) for v in value))):
            raise AccountError(SerializationException, MSG_BAD_TYPE.format(member=member.wire, kind=member.kind))
        values[member.wire] = value
    errors = []
    for member in members:
        problem = _problems(member, values[member.wire])
        if problem is not None:
            errors.append((member, f"Value {_shown(values[member.wire])} at '{member.label}' failed to satisfy "
                                   f"constraint: {problem}", problem))
    if errors:
        count = len(errors)
        message = f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(e[1] for e in errors)
        raise AccountError(ValidationException, message, {
            "reason": rules.REASON_FIELD,
            "fieldList": [{"name": m.label, "message": problem} for m, _, problem in errors],
        })
    return values


# --- operations ------------------------------------------------------------------------


def _enable(ctx: RequestContext, account_id: str, p: dict[str, Any], now: datetime) -> None:
    rules.enable_region(ctx.runtime, account_id, p["RegionName"], now)


def _disable(ctx: RequestContext, account_id: str, p: dict[str, Any], now: datetime) -> None:
    rules.disable_region(ctx.runtime, account_id, p["RegionName"], now)


def _get(ctx: RequestContext, account_id: str, p: dict[str, Any], now: datetime) -> dict[str, Any]:
    info = rules.get_region(ctx.runtime, account_id, p["RegionName"], now)
    return {"RegionName": p["RegionName"], "RegionOptStatus": info.opt_status}


def _token(region: str) -> str:
    return base64.urlsafe_b64encode(f"1:{region}".encode()).decode()


def _after(token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raw = ""
    version, _, region = raw.partition(":")
    if version != "1" or not region:
        raise AccountError(ValidationException, MSG_BAD_TOKEN, {
            "reason": rules.REASON_FIELD, "fieldList": [{"name": "nextToken", "message": MSG_BAD_TOKEN}]})
    return region


def _list(ctx: RequestContext, account_id: str, p: dict[str, Any], now: datetime) -> dict[str, Any]:
    statuses = set(p["RegionOptStatusContains"]) if p["RegionOptStatusContains"] else None
    found = rules.list_regions(ctx.runtime, account_id, now, statuses)
    if p["NextToken"]:
        start = _after(p["NextToken"])
        found = [r for r in found if r.region >= start]
    limit = p["MaxResults"] or len(found)
    page, rest = found[:limit], found[limit:]
    out: dict[str, Any] = {"Regions": [{"RegionName": r.region, "RegionOptStatus": r.opt_status} for r in page]}
    if rest:
        out["NextToken"] = _token(rest[0].region)
    return out


Handler = Callable[[RequestContext, str, dict[str, Any], datetime], dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    members: tuple[Member, ...]
    handler: Handler
    targets_region: bool  # account:TargetRegion applies

    @property
    def read_only(self) -> bool:
        return self.name.startswith(("Get", "List"))

    def request_parameters(self, body: Any) -> dict[str, Any] | None:
        """The members the caller sent (as sent, valid or not), named as CloudTrail names them."""
        if not isinstance(body, dict):
            return None
        asked = {m.label: body[m.wire] for m in self.members if body.get(m.wire) is not None}
        return asked or None


OPERATIONS = {
    "/enableRegion": Operation("EnableRegion", (ACCOUNT_ID, REGION_NAME), _enable, True),
    "/disableRegion": Operation("DisableRegion", (ACCOUNT_ID, REGION_NAME), _disable, True),
    "/getRegionOptStatus": Operation("GetRegionOptStatus", (ACCOUNT_ID, REGION_NAME), _get, True),
    "/listRegions": Operation("ListRegions", (ACCOUNT_ID, MAX_RESULTS, NEXT_TOKEN, STATUS_FILTER), _list, False),
}
ACCOUNT_PATHS = tuple(OPERATIONS)
_RULE_ERRORS = {
    rules.INVALID: ValidationException,
    rules.REFUSED: ValidationException,
    rules.CONFLICT: ConflictException,
    rules.NOT_FOUND: ResourceNotFoundException,
}


def rule_error(error: rules.RuleError) -> AccountError:
    fields: dict[str, Any] = {}
    spec = _RULE_ERRORS[error.kind]
    if spec is ValidationException:
        fields["reason"] = error.reason or rules.REASON_FIELD
        if fields["reason"] == rules.REASON_FIELD and error.field:
            fields["fieldList"] = [{"name": error.field[0].lower() + error.field[1:], "message": error.message}]
    return AccountError(spec, error.message, fields)


# --- ASGI -----------------------------------------------------------------------------


def _json(status: int, payload: dict[str, Any] | None, request_id: str, error_type: str | None = None) -> Response:
    body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
    headers = {"x-amzn-RequestId": request_id}
    if error_type is not None:
        headers["x-amzn-ErrorType"] = error_type
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def error_code(error: AwsError) -> str:
    """The code the wire's ``x-amzn-ErrorType`` and the audit record's errorCode carry."""
    return AUTH_CODES.get(error.code, error.code)


def render_error(error: AwsError, request_id: str) -> Response:
    code = error_code(error)
    payload: dict[str, Any] = {"message": error.message}
    if isinstance(error, AccountError):
        payload.update(error.fields)
    return _json(error.status, payload, request_id, code)


class AccountApi:
    """Starlette endpoints for the four Region operations."""

    def __init__(self, runtime: Any):
        self.runtime = runtime

    def routes(self) -> list[Route]:
        methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
        return [Route(path, self.endpoint, methods=methods) for path in ACCOUNT_PATHS]

    async def endpoint(self, request: Request) -> Response:
        return await signed.dispatch(self.runtime, request, self.handle)

    def handle(self, request: signed.HttpRequest) -> Response:
        """Answer one request and record it: the one place every operation is audited."""
        request_id = str(uuid.uuid4())
        operation = OPERATIONS[request.path]
        if request.method != "POST":  # reaches no operation: not recorded
            error = AccountError(UnknownOperationException,
                                 MSG_UNKNOWN_OPERATION.format(method=request.method, path=request.path))
            return render_error(error, request_id)
        ctx = signed.context(self.runtime, request, request_id)
        body = _body(request)
        failure: AwsError | None = None
        try:
            response = _json(200, self._call(ctx, request, operation, body), request_id)
        except rules.RuleError as error:
            failure = rule_error(error)
        except AwsError as error:
            failure = error
        except Exception:
            log.exception("internal failure in Account API request %s", request_id)
            failure = AccountError(InternalServerException, MSG_INTERNAL)
        if failure is not None:
            response = render_error(failure, request_id)
        record_admin_call(self.runtime, ctx, request_id, operation.name, read_only=operation.read_only,
                          parameters=operation.request_parameters(body), event_source=ACCOUNT_SOURCE,
                          error_code=error_code(failure) if failure is not None else None,
                          error_message=failure.message if failure is not None else None, request=request)
        return response

    def _call(self, ctx: RequestContext, request: signed.HttpRequest, operation: Operation,
              body: Any) -> dict[str, Any] | None:
        signed.authenticate_request(self.runtime, request, ctx.request_id, "account", ctx)
        caller = ctx.caller()
        if not isinstance(body, dict):
            raise AccountError(SerializationException, MSG_BAD_JSON)
        params = validate(operation.members, body)
        action = f"account:{operation.name}"
        resource = f"arn:{caller.partition}:account::{caller.account}:account"
        extra = {"account:TargetRegion": params["RegionName"]} if operation.targets_region else None
        explanation = signed.denial(ctx, action, resource, extra=extra)
        if explanation is not None:
            raise AccountError(AccessDeniedException, signed.denied_message(caller, action, resource, explanation))
        target = params["AccountId"]
        if target is not None and target != caller.account:
            raise AccountError(AccessDeniedException, MSG_OTHER_ACCOUNT.format(arn=caller.arn,
                                                                               operation=operation.name))
        return operation.handler(ctx, caller.account, params, rules.utcnow())


def _body(request: signed.HttpRequest) -> Any:
    """The parsed JSON body ({} when empty; None when it is not JSON)."""
    try:
        return json.loads(request.body) if request.body.strip() else {}
    except ValueError:
        return None
