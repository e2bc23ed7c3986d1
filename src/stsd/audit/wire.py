"""What crosses the pipe from a server worker to its audit writer process, and back.

A finished call is reduced, in the server process, to a tuple of primitives (str, int, float,
bool, None, lists and dicts of them) — :func:`capture` — and rebuilt into a
:class:`~stsd.audit.record.Call` in the writer process — :func:`restore`. The reduction keeps
exactly what the record needs:

- the principal as its plain fields, its session claims *without* the session's secret key,
  and the user/role behind it as (id, account, name, path, arn);
- the action's result nodes without the members ``responseElements`` leaves out
  (:data:`stsd.audit.elements.SECRET_RESULTS`: no ``SecretAccessKey``, no MFA seed; the
  session token stays, as today's records and AWS's have it), so secrets never leave the
  server process; the writer turns them into ``responseElements``;
- the query parameters the action declares, with every value the record would mask or leave
  out (one-time codes, passwords, federation tokens) already replaced
  (:mod:`stsd.audit.redact`); the writer builds ``requestParameters`` from them with the
  action's member specs (it has the same action registry).

Messages are JSON lines (orjson): the server sends ``["config", {...}]`` once, then
``["batch", seq, [item, …]]`` (``seq`` > 0 asks for delivery now and an acknowledgement); the
writer answers ``["report", acked_seq, consumed, built, {sink: delivered}, {reason: dropped}]``
after each delivery (``consumed``: calls handled so far, in all; the rest: this delivery's
counts). JSON, not pickle or marshal: plain data, safe to parse.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast

import orjson

from stsd.audit import elements, redact
from stsd.audit.record import Call, action_call, extended_request_id, responds
from stsd.auth.principal import Principal
from stsd.protocol.render import Members, Node
from stsd.tokens.claims import SessionClaims

if TYPE_CHECKING:
    from stsd.server.pipeline import Outcome

OUTCOME = 0  # a Query-API call that reached an action
CALL = 1  # a ready-made Call (the /admin/audit routes)

_PRINCIPAL = attrgetter("kind", "account", "partition", "arn", "user_id", "access_key_id", "name", "token_version")
# Every claim but the secret key, so the records of future session kinds need no change here.
_CLAIM_NAMES = tuple(f.name for f in fields(SessionClaims) if f.name != "secret")
_CLAIMS = attrgetter(*_CLAIM_NAMES)
_VIEW = attrgetter("id", "account", "name", "path", "arn")


@dataclass(frozen=True, slots=True)
class View:
    """Stands in for the directory's UserView/RoleView behind a principal: the fields records use."""

    id: str
    account: str
    name: str
    path: str
    arn: str


# --- server side --------------------------------------------------------------------------------


def _principal(principal: Principal | None) -> list[Any] | orjson.Fragment | None:
    """The principal's fields, encoded once per principal (principals are reused across
    requests while the caller's account snapshot is unchanged, see auth.principal_cache)."""
    if principal is None:
        return None
    encoded = principal.memo.get("audit_wire")
    if encoded is None:
        encoded = principal.memo["audit_wire"] = orjson.Fragment(orjson.dumps(_principal_fields(principal)))
    return encoded


def _principal_fields(principal: Principal) -> list[Any]:
    session, user, role = principal.session, principal.user, principal.role
    return [_PRINCIPAL(principal), _CLAIMS(session) if session is not None else None,
            _VIEW(user) if user is not None else None, _VIEW(role) if role is not None else None]


class _Untagged(Exception):
    """A result value the wire has no tag for."""


def _nodes(nodes: Sequence[Node]) -> list[tuple[str, Any]]:
    """Result nodes without the members ``responseElements`` leaves out — the same secrets, at
    every level: they never leave this process — and without empty ones (``responseElements``
    has no nulls), tagged for JSON. (One loop, the commonest types tested first: this runs for
    every call.)"""
    secrets = elements.SECRET_RESULTS
    out = []
    for name, value in nodes:
        kind = type(value)
        if kind is str:
            if name not in secrets:
                out.append((name, value))
            continue
        if value is None or name in secrets:
            continue
        if kind is list:
            value = {"n": _nodes(value)}
        elif kind is datetime:
            value = {"t": value.timestamp()}
        elif kind is Members:
            value = {"m": [_value(item) for item in value.items]}
        elif not (kind is int or kind is bool or kind is float):
            raise _Untagged
        out.append((name, value))
    return out


def _value(value: Any) -> Any:
    """One item of a Members list, tagged like a node's value (a None item stays None)."""
    tagged = _nodes([("", value)])
    return tagged[0][1] if tagged else None


def _response(result: Sequence[Node] | None) -> list[Any] | None:
    """The result for ``responseElements``: its nodes without secrets, tagged for JSON (the
    writer runs :func:`~stsd.audit.elements.response_elements` on them: cheaper here than
    running it here), or — for a value without a tag — the elements themselves."""
    if result is None:
        return None
    try:
        return ["nodes", _nodes(result)]
    except _Untagged:
        return ["elements", elements.response_elements(result)]


def capture(item: Outcome | Call) -> bytes:
    """The call reduced to primitives and encoded (server process, request path): a bytes
    object, which the garbage collector never has to look at while it waits to be sent."""
    return orjson.dumps(reduce(item))


def reduce(item: Outcome | Call) -> tuple[Any, ...]:
    """The call as primitives."""
    if isinstance(item, Call):
        return (CALL, item.event_source, item.event_name, item.read_only, item.time.timestamp(), item.aws_region,
                item.source_ip, item.user_agent, item.host, item.request_id, _principal(item.principal),
                item.access_key_id, item.request_parameters, item.response_elements, item.error_code,
                item.error_message, item.resources, item.request_details, item.extended_request_id,
                item.additional_event_data, item.tls)
    ctx, action, error = item.context, item.action, item.error
    assert ctx is not None and action is not None
    sts = action.service.name == "sts"
    response = _response(item.result) if responds(sts, action.name, action.read_only, error is not None) else None
    headers = item.headers
    params = redact.policy(action)
    if params is not None:  # the raw members, secrets hidden: the writer builds requestParameters
        raw, request = True, params.apply(item.params)
    else:
        raw, request = False, elements.request_parameters(action.params, item.params)
    return (OUTCOME, action.service.name, action.name, action.read_only, ctx.now.timestamp(),
            ctx.endpoint.region, ctx.endpoint.endpoint_type, ctx.serving_region, ctx.source_ip, ctx.user_agent,
            ctx.host, ctx.request_id, _principal(ctx.principal), item.access_key_id, raw, request, response,
            error.trail_code if error is not None else None, error.message if error is not None else None,
            ctx.audit or None, extended_request_id(headers) if sts and headers else None, ctx.tls)


def batch_line(seq: int, captured: Sequence[bytes]) -> bytes:
    """One message with calls :func:`capture` encoded already."""
    return b'["batch",%d,[' % seq + b",".join(captured) + b"]]\n"


def config_line(config: dict[str, Any]) -> bytes:
    return orjson.dumps(["config", config]) + b"\n"


def report_line(acked: int, consumed: int, built: int, delivered: dict[str, int], dropped: dict[str, int]) -> bytes:
    return orjson.dumps(["report", acked, consumed, built, delivered, dropped]) + b"\n"


class Lines:
    """Splits a byte stream into messages (one JSON document per line)."""

    def __init__(self) -> None:
        self._partial = b""

    def feed(self, chunk: bytes) -> Iterator[Any]:
        data = self._partial + chunk if self._partial else chunk
        *complete, self._partial = data.split(b"\n")
        for line in complete:
            yield orjson.loads(line)


# --- writer side --------------------------------------------------------------------------------


def _time(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


_restored: dict[bytes, Principal] = {}
RESTORED_PRINCIPALS = 4096  # bounded; refills with the callers of the moment


def restore_principal(wire: Sequence[Any] | None) -> Principal | None:
    """The principal behind a call. The same caller's calls carry the same fields (the server
    encodes a principal once), so the rebuilt Principal is kept, keyed by those fields: the
    records of one caller share it (and what :func:`stsd.audit.identity.user_identity`
    memoises on it)."""
    if wire is None:
        return None
    key = orjson.dumps(wire)
    found = _restored.get(key)
    if found is None:
        if len(_restored) >= RESTORED_PRINCIPALS:
            _restored.clear()
        found = _restored[key] = _restore_principal(wire)
    return found


def _restore_principal(wire: Sequence[Any]) -> Principal:
    (kind, account, partition, arn, user_id, access_key_id, name, token_version), claims, user, role = wire
    session = None
    if claims is not None:
        values = dict(zip(_CLAIM_NAMES, claims, strict=True))
        for key in ("tags", "transitive_keys", "policy_arns"):  # JSON has no tuples
            if isinstance(values.get(key), list):
                values[key] = tuple(tuple(v) if isinstance(v, list) else v for v in values[key])
        session = SessionClaims(secret="", **values)
    return Principal(kind, account, partition, arn, user_id, access_key_id, name, session=session,
                     token_version=token_version, user=cast(Any, View(*user)) if user is not None else None,
                     role=cast(Any, View(*role)) if role is not None else None)


def restore(wire: Sequence[Any]) -> Call:
    """The Call a captured item stands for (writer process)."""
    if wire[0] == CALL:
        (_, source, name, read_only, timestamp, region, source_ip, user_agent, host, request_id, principal,
         access_key_id, request_parameters, response_elements, error_code, error_message, resources,
         request_details, extended, additional, tls) = wire
        return Call(source, name, read_only, _time(timestamp), region, source_ip, user_agent, host, request_id,
                    restore_principal(principal), access_key_id, request_parameters, response_elements,
                    error_code, error_message, resources, request_details, extended, additional, tls)
    (_, service, name, read_only, timestamp, endpoint_region, endpoint_type, serving_region, source_ip,
     user_agent, host, request_id, principal, access_key_id, raw, params, response, error_code, error_message,
     audit, extended, tls) = wire
    if raw:
        params = elements.request_parameters(redact.specs(service, name), params)
    if response is not None:
        response = elements.wire_response_elements(response[1]) if response[0] == "nodes" else response[1]
    return action_call(
        sts=service == "sts", action_name=name, read_only=read_only, time=_time(timestamp),
        endpoint_region=endpoint_region, endpoint_type=endpoint_type, serving_region=serving_region,
        source_ip=source_ip, user_agent=user_agent, host=host, request_id=request_id,
        principal=restore_principal(principal), access_key_id=access_key_id, request_parameters=params,
        response_elements=response, error_code=error_code, error_message=error_message, audit=audit,
        extended_request_id=extended, tls=tls)
