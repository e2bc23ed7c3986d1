"""``requestParameters`` and ``responseElements``: the call's members in lowerCamel, as
CloudTrail writes them, with secrets removed.

Request parameters are rebuilt from the raw query pairs and the action's declared members
(the model member name is already the lowerCamel name), so a call that failed validation is
recorded with what the caller sent. Secrets never reach a record: sensitive request members
are written as CloudTrail's ``HIDDEN_DUE_TO_SECURITY_REASONS`` and secret response members
(secret access keys, MFA seeds) are left out, as AWS leaves out ``secretAccessKey``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from stsd.audit.timefmt import human
from stsd.protocol.params import Bool, Int, Param, Str, StrList, Struct, StructList
from stsd.protocol.render import Members, Node

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
# Request members whose values are credentials (one-time codes, passwords, federation tokens).
SENSITIVE_PARAMS = frozenset({
    "TokenCode", "AuthenticationCode1", "AuthenticationCode2", "Password", "NewPassword", "OldPassword",
    "SAMLAssertion", "ClientSecret", "SubjectToken",
})
# Request members CloudTrail leaves out altogether (AssumeRoleWithWebIdentity's records show
# roleArn, roleSessionName, durationSeconds... but no trace of the token).
OMITTED_PARAMS = frozenset({"WebIdentityToken"})
# Response members that are secrets: never written, not even masked.
SECRET_RESULTS = frozenset({"SecretAccessKey", "Base32StringSeed", "QRCodePNG", "Password", "PrivateKey"})


@functools.cache  # a few hundred distinct member names at most
def lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _scalar(spec: Str, value: str) -> str:
    return HIDDEN if spec.sensitive or spec.name in SENSITIVE_PARAMS else value


def _number(raw: str) -> int | str:
    try:
        return int(raw)
    except ValueError:
        return raw  # recorded as sent when it did not parse (the call failed with MalformedInput)


def _structured(raw: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``Name.rest`` keys grouped by ``Name``, in one pass (most requests have none)."""
    groups: dict[str, dict[str, str]] = {}
    for key, value in raw.items():
        head, dot, rest = key.partition(".")
        if dot:
            groups.setdefault(head, {})[rest] = value
    return groups


def _list_items(members: dict[str, str]) -> dict[int, dict[str, str]]:
    """``member.N[.Field]`` → N → {field or "": value}, in index order."""
    found: dict[int, dict[str, str]] = {}
    for key, value in members.items():
        kind, _, tail = key.partition(".")
        number, _, field = tail.partition(".")
        if kind == "member" and number.isdigit() and int(number) >= 1:
            found.setdefault(int(number), {})[field] = value
    return dict(sorted(found.items()))


_SCALAR, _INT, _BOOL, _STRUCT, _STR_LIST, _STRUCT_LIST = range(6)


_plans: dict[int, tuple[Sequence[Param], tuple[tuple[int, Param], ...]]] = {}


def _plan(specs: Sequence[Param]) -> tuple[tuple[int, Param], ...]:
    """Each recorded member with its kind, worked out once per action's declaration (the
    writer process builds requestParameters for every record: no isinstance chain per member
    per record). Keyed by identity: hashing the declarations would cost more than the chain."""
    found = _plans.get(id(specs))
    if found is not None and found[0] is specs:
        return found[1]
    plan = []
    for spec in specs:
        if spec.name in OMITTED_PARAMS:
            continue
        if isinstance(spec, Str):
            plan.append((_SCALAR, spec))
        elif isinstance(spec, Int):
            plan.append((_INT, spec))
        elif isinstance(spec, Bool):
            plan.append((_BOOL, spec))
        elif isinstance(spec, Struct):
            plan.append((_STRUCT, spec))
        elif isinstance(spec, StrList):
            plan.append((_STR_LIST, spec))
        elif isinstance(spec, StructList):
            plan.append((_STRUCT_LIST, spec))
    if len(_plans) > 4096:  # bounded whatever callers pass
        _plans.clear()
    _plans[id(specs)] = (specs, tuple(plan))
    return tuple(plan)


def request_parameters(specs: Sequence[Param], raw: Mapping[str, str] | None) -> dict[str, Any] | None:
    """The declared members present in the request; None when there are none (AWS's ``null``)."""
    if not raw:
        return None
    out: dict[str, Any] = {}
    structured: dict[str, dict[str, str]] | None = None
    for kind, spec in _plan(specs):
        if kind <= _BOOL:
            if spec.name not in raw:
                continue
            text = raw[spec.name]
            if kind == _SCALAR:
                out[spec.member] = _scalar(spec, text)  # type: ignore[arg-type]
            elif kind == _INT:
                out[spec.member] = _number(text)
            else:
                out[spec.member] = text.lower() == "true" if text.lower() in ("true", "false") else text
            continue
        if structured is None:
            structured = _structured(raw)
        members = structured.get(spec.name)
        if kind == _STRUCT:
            fields = {f.member: _scalar(f, members[f.name])
                      for f in spec.fields if members and f.name in members}  # type: ignore[union-attr]
            if fields:
                out[spec.member] = fields
            continue
        items = _list_items(members) if members else {}
        if not items:
            if spec.name in raw:  # ``Name=``: an explicitly empty list
                out[spec.member] = []
            continue
        if kind == _STR_LIST:
            out[spec.member] = [_scalar(spec.item, item[""]) for item in items.values()  # type: ignore[union-attr]
                                if "" in item]
        else:
            out[spec.member] = [
                {f.member: _scalar(f, item[f.name]) for f in spec.fields if f.name in item}  # type: ignore[union-attr]
                for item in items.values()
            ]
    return out or None


def _element(value: Any) -> Any:
    kind = type(value)
    if kind is list:
        return response_elements(value)
    if kind is Members:
        return [_element(item) for item in value.items]
    if kind is datetime:
        return human(value)
    return value


def response_elements(nodes: Sequence[Node] | None) -> dict[str, Any] | None:
    """A result's nodes as a lowerCamel object without secrets (None for no result)."""
    if nodes is None:
        return None
    return {
        lower_camel(name): _element(value)
        for name, value in nodes
        if value is not None and name not in SECRET_RESULTS
    }


def _wire_element(value: Any) -> Any:
    if type(value) is dict:  # a tagged value (see stsd.audit.wire): nodes, members or a time
        if "n" in value:
            return wire_response_elements(value["n"])
        if "m" in value:
            return [_wire_element(item) for item in value["m"]]
        return human(datetime.fromtimestamp(value["t"], UTC))
    return value


def wire_response_elements(nodes: Sequence[Any]) -> dict[str, Any]:
    """:func:`response_elements` of result nodes as :mod:`stsd.audit.wire` tags them, in one
    pass (the writer process; the server already left the secrets out)."""
    return {
        lower_camel(name): _wire_element(value)
        for name, value in nodes
        if value is not None and name not in SECRET_RESULTS
    }
