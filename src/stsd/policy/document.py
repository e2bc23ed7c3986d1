"""Parsing and validation of policy documents, with AWS's MalformedPolicyDocument texts.

Checks run in the order IAM runs them (as recorded in moto's AWS-validated tests), because
the first failing check decides the message: JSON, grammar ("Syntax errors in policy.") and
the elements the policy kind forbids or requires, version (managed policies), legacy parsing
(Effect case, dates, resource shape), Sid uniqueness, presence of actions, resource format,
action prefixes, presence of resources, and last the Principal values.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from stsd.errors import MalformedPolicyDocument
from stsd.policy import messages as msg
from stsd.policy import principals as pr
from stsd.policy.conditions import compile_clause, split_operator
from stsd.policy.dates import parse_date
from stsd.policy.matchers import ActionMatcher, ResourceMatcher
from stsd.policy.model import Policy, PolicyKind, Statement, minify

VERSIONS = ("2008-10-17", "2012-10-17")
TOP_ELEMENTS = frozenset({"Version", "Id", "Statement"})
STATEMENT_ELEMENTS = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)
_BAD_VENDOR_CHAR = re.compile(r"[^a-zA-Z0-9\-.]")
_REGION_RULES = {  # service -> (message, resource-id prefixes allowed to carry a region)
    "iam": (msg.IAM_REGION, ()),
    "s3": (msg.S3_REGION, ("accesspoint/",)),
}


class _Syntax(Exception):
    """Internal: a grammar violation, reported as "Syntax errors in policy."."""


class _Legacy(Exception):
    """Internal: reported as "The policy failed legacy parsing"."""


def _fail(message: str) -> Exception:
    return MalformedPolicyDocument(message)


# --- JSON --------------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, val in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = val
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


def _load(text: object) -> Any:
    if not isinstance(text, str):
        raise _fail(msg.INVALID_JSON)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise _fail(msg.INVALID_JSON) from None


# --- grammar -----------------------------------------------------------------------------


def _strings(value: Any, *, allow_null: bool) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return all(isinstance(i, str) or (allow_null and i is None) for i in value)
    return False


def _condition_value_ok(value: Any) -> bool:
    scalar = (str, bool, int, float)
    if isinstance(value, list):
        return all(isinstance(i, scalar) for i in value)
    return isinstance(value, scalar)


def _check_statement_syntax(st: Any) -> None:
    if not isinstance(st, dict) or not STATEMENT_ELEMENTS.issuperset(st):
        raise _Syntax
    for a, b in (
        ("Action", "NotAction"),
        ("Resource", "NotResource"),
        ("Principal", "NotPrincipal"),
    ):
        if a in st and b in st:
            raise _Syntax
    effect = st.get("Effect")
    if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
        raise _Syntax
    for key in ("Action", "NotAction"):
        if key in st and not _strings(st[key], allow_null=False):
            raise _Syntax
    for key in ("Resource", "NotResource"):
        if key in st and not _strings(st[key], allow_null=True):
            raise _Syntax
    for key in ("Principal", "NotPrincipal"):
        if key in st and not pr.check_syntax(st[key]):
            raise _Syntax
    if "Sid" in st and not isinstance(st["Sid"], str):
        raise _Syntax
    if "Condition" in st:
        cond = st["Condition"]
        if not isinstance(cond, dict):
            raise _Syntax
        for operator, block in cond.items():
            if not isinstance(block, dict) or not all(_condition_value_ok(x) for x in block.values()):
                raise _Syntax
            if block and split_operator(operator) is None:
                raise _Syntax  # unknown operators are only tolerated with an empty block


def _statements(doc: Any) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or not TOP_ELEMENTS.issuperset(doc):
        raise _Syntax
    if "Version" in doc and doc["Version"] not in VERSIONS:
        raise _Syntax
    if "Id" in doc and not isinstance(doc["Id"], str):
        raise _Syntax
    raw = doc.get("Statement")
    statements = [raw] if isinstance(raw, dict) else raw
    if not isinstance(statements, list) or not statements:
        raise _Syntax
    for st in statements:
        _check_statement_syntax(st)
    return statements


# --- legacy parsing and resource format --------------------------------------------------


def _check_legacy(statements: list[dict[str, Any]]) -> None:
    for st in statements:
        if st["Effect"] not in ("Allow", "Deny"):
            raise _Legacy  # "allow"/"DENY" pass the grammar but not the legacy parser
        for operator, block in st.get("Condition", {}).items():
            parsed = split_operator(operator)
            if parsed is None or not parsed[1].startswith("Date"):
                continue
            for raw in block.values():
                for value in raw if isinstance(raw, list) else [raw]:
                    if isinstance(value, (bool, float)) or (isinstance(value, str) and parse_date(value) is None):
                        raise _Legacy


def _resource_format_error(resource: str) -> str | None:
    if resource == "*":
        return None
    _, sep, rest = resource.partition(":")
    if not sep:
        return msg.RESOURCE_FORMAT.format(resource=resource)
    partition, sep, rest = rest.partition(":")
    if partition != "*" and partition not in pr.PARTITIONS:
        more = rest.split(":")
        fields = [
            more[0] if more[0] != "" or len(more) > 1 else "*",
            more[1] if len(more) > 1 else "*",
            more[2] if len(more) > 2 else "*",
            ":".join(more[3:]) if len(more) > 3 else "*",
        ]
        arn = ":".join(["arn", partition, *fields])
        return msg.BAD_PARTITION.format(partition=partition, arn=arn)
    if not sep:
        return msg.VENDOR_QUALIFIED
    service, _, after_service = rest.partition(":")
    _, _, after_region = after_service.partition(":")
    _, _, resource_id = after_region.partition(":")
    rule = _REGION_RULES.get(service)
    if rule is not None and not after_service.startswith(":"):
        message, region_ok = rule
        if not resource_id.startswith(region_ok):
            return message.format(resource=resource)
    if service == "iam" and not resource_id.startswith(msg.IAM_PATH_PREFIXES):
        return msg.IAM_PATH
    return None


def _legacy_resource_ok(resource: str) -> bool:
    if resource == "*":
        return True
    if "::" in resource and resource.count(":") < 5:
        return False
    parts = resource.split(":")
    return len(parts) > 2 and parts[2] != ""


def _resource_error(statements: list[dict[str, Any]]) -> str | None:
    """IAM validates every Resource, then every NotResource; the last failure is reported.
    Legacy shape checks run for a statement only while no format error has been seen."""
    error: str | None = None
    for key in ("Resource", "NotResource"):
        for st in statements:
            if key not in st:
                continue
            raw = st[key]
            values = [raw] if isinstance(raw, str) else sorted((r for r in raw if r), reverse=True)
            for resource in values:
                error = _resource_format_error(resource) or error
            if error is None:
                checked = [raw] if isinstance(raw, str) else [r for r in raw if r]
                if not all(_legacy_resource_ok(r) for r in checked):
                    raise _Legacy
    return error


# --- actions -----------------------------------------------------------------------------


def _action_list(st: dict[str, Any], key: str) -> list[str]:
    raw = st.get(key)
    if raw is None:
        return []
    return [raw] if isinstance(raw, str) else list(raw)


def _check_action_prefix(action: str) -> None:
    parts = action.split(":")
    if len(parts) == 1 and parts[0] != "*":
        raise _fail(msg.VENDOR_PREFIX)
    if len(parts) > 2:
        raise _fail(msg.ONE_COLON)
    if parts[0] != "*" and _BAD_VENDOR_CHAR.search(parts[0]):
        raise _fail(msg.BAD_VENDOR.format(vendor=parts[0]))


# --- kind-specific rules -----------------------------------------------------------------


def _check_fields(statements: list[dict[str, Any]], kind: PolicyKind) -> None:
    """Which elements a policy kind forbids or requires (checked with the grammar)."""
    identity_like = kind in (PolicyKind.IDENTITY, PolicyKind.SESSION)
    if identity_like and any("Principal" in st or "NotPrincipal" in st for st in statements):
        raise _fail(msg.NO_PRINCIPAL_ALLOWED)
    if kind is PolicyKind.TRUST:
        for st in statements:
            for key in ("Resource", "NotResource"):
                if key in st:
                    raise _fail(msg.PROHIBITED_FIELD.format(field=key))
    if not identity_like:
        for st in statements:
            if "Principal" not in st and "NotPrincipal" not in st:
                raise _fail(msg.MISSING_PRINCIPAL)


def _check_resources_present(statements: list[dict[str, Any]], kind: PolicyKind) -> None:
    if kind is PolicyKind.TRUST:
        return
    for st in statements:
        raw = st.get("Resource", st.get("NotResource"))
        if raw is None or (isinstance(raw, list) and not raw):
            raise _fail(msg.NEED_RESOURCES)


def _validate(doc: Any, kind: PolicyKind, managed: bool) -> list[dict[str, Any]]:
    try:
        statements = _statements(doc)
    except _Syntax:
        raise _fail(msg.SYNTAX) from None
    _check_fields(statements, kind)
    if managed and doc.get("Version") != "2012-10-17":
        raise _fail(msg.VERSION_2012)
    try:
        _check_legacy(statements)
        resource_error = _resource_error(statements)
    except _Legacy:
        raise _fail(msg.LEGACY) from None
    sids = [st["Sid"] for st in statements if st.get("Sid")]
    if len(sids) != len(set(sids)):
        raise _fail(msg.SID_UNIQUE)
    for st in statements:
        if not _action_list(st, "Action") and not _action_list(st, "NotAction"):
            raise _fail(msg.NEED_ACTIONS)
    if resource_error is not None:
        raise _fail(resource_error)
    for key in ("Action", "NotAction"):
        for st in statements:
            for action in _action_list(st, key):
                _check_action_prefix(action)
    _check_resources_present(statements, kind)
    return statements


# --- compilation -------------------------------------------------------------------------


def _compile_statement(st: dict[str, Any], variables: bool) -> Statement:
    not_action = "NotAction" in st
    not_resource = "NotResource" in st
    resources = st.get("NotResource" if not_resource else "Resource")
    resource = None
    if resources is not None:
        patterns = [resources] if isinstance(resources, str) else [r for r in resources if r]
        resource = ResourceMatcher(patterns, variables)
    not_principal = "NotPrincipal" in st
    element = st.get("NotPrincipal" if not_principal else "Principal")
    principal = pr.PrincipalMatcher.build(element) if element is not None else None
    clauses = []
    for operator, block in st.get("Condition", {}).items():
        if split_operator(operator) is None:
            continue  # an empty block under an unknown operator: accepted and inert
        for key, values in block.items():
            clauses.append(compile_clause(operator, key, values, variables))
    return Statement(
        sid=st.get("Sid"),
        deny=st["Effect"] == "Deny",
        action=ActionMatcher(_action_list(st, "NotAction" if not_action else "Action")),
        not_action=not_action,
        resource=resource,
        not_resource=not_resource,
        principal=principal,
        not_principal=not_principal,
        conditions=tuple(clauses),
    )


@lru_cache(maxsize=4096)
def parse_policy(text: str, kind: PolicyKind, *, managed: bool = False) -> Policy:
    """Parse, validate and compile a policy document.

    Raises ``stsd.errors.MalformedPolicyDocument`` with AWS's message. ``managed=True`` adds
    the rule IAM applies to managed policies (CreatePolicy/CreatePolicyVersion): the document
    must say ``"Version": "2012-10-17"``. Results are cached on ``(text, kind, managed)``.
    """
    doc = _load(text)
    statements = _validate(doc, kind, managed)
    version = doc.get("Version")
    variables = version == "2012-10-17"  # older documents treat ${...} as plain text
    compiled = tuple(_compile_statement(st, variables) for st in statements)
    entries: list[tuple[str, str]] = []
    for st in compiled:
        if st.principal is not None:
            entries.extend(st.principal.entries)
    policy_id = doc.get("Id")
    return Policy(text, kind, version, policy_id, compiled, tuple(entries), len(minify(text)))
