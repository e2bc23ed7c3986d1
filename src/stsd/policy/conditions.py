"""Condition operators, compiled at parse time into ``clause(ctx) -> bool`` closures.

Semantics (IAM User Guide, "Condition operators" and "Single-valued vs. multivalued context
keys"):
- several values for one key are OR-ed; for negated operators (``StringNotEquals``,
  ``NotIpAddress``, ``ArnNotLike`` ...) they are NOR-ed, i.e. the negation of the positive
  operator;
- a missing key makes a positive operator false and a negated one true; ``...IfExists`` makes
  any operator true on a missing key; ``Null`` tests presence only;
- ``ForAllValues:`` is true when every request value satisfies the operator, and when the key
  is missing or empty; ``ForAnyValue:`` is true when at least one does, false when missing;
- an operator without a set qualifier applied to a multivalued key behaves like ForAnyValue
  (negated: like "no value matches") - AWS documents this combination only as "do not";
- values that cannot be read as the operator's type (``"abc"`` for ``NumericEquals``) never
  match, so the positive operator is false and its negation true.

``ctx`` is the request context with lower-case keys; a missing key is absent from it and a
multivalued key is a tuple (an empty one is dropped, so it counts as missing).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation

from stsd.policy import matchers
from stsd.policy import variables as v
from stsd.policy.dates import parse_date, to_epoch

Ctx = Mapping[str, object]
Clause = Callable[[Ctx], bool]
ValueMatch = Callable[[object, Ctx], bool]

_MISSING = object()

# operator -> (family, negated). Family names the value comparison; negation is applied on top.
BASE_OPERATORS: dict[str, tuple[str, bool]] = {
    "StringEquals": ("str_eq", False),
    "StringNotEquals": ("str_eq", True),
    "StringEqualsIgnoreCase": ("str_eq_ic", False),
    "StringNotEqualsIgnoreCase": ("str_eq_ic", True),
    "StringLike": ("str_like", False),
    "StringNotLike": ("str_like", True),
    "NumericEquals": ("num_eq", False),
    "NumericNotEquals": ("num_eq", True),
    "NumericLessThan": ("num_lt", False),
    "NumericLessThanEquals": ("num_le", False),
    "NumericGreaterThan": ("num_gt", False),
    "NumericGreaterThanEquals": ("num_ge", False),
    "DateEquals": ("date_eq", False),
    "DateNotEquals": ("date_eq", True),
    "DateLessThan": ("date_lt", False),
    "DateLessThanEquals": ("date_le", False),
    "DateGreaterThan": ("date_gt", False),
    "DateGreaterThanEquals": ("date_ge", False),
    "Bool": ("bool", False),
    "BinaryEquals": ("binary", False),
    "IpAddress": ("ip", False),
    "NotIpAddress": ("ip", True),
    "ArnEquals": ("arn", False),
    "ArnLike": ("arn", False),
    "ArnNotEquals": ("arn", True),
    "ArnNotLike": ("arn", True),
    "Null": ("null", False),
}
SET_OPERATORS = ("ForAnyValue:", "ForAllValues:")
# Operators whose values may contain policy variables (Condition operators page).
_VARIABLE_FAMILIES = frozenset({"str_eq", "str_eq_ic", "str_like", "arn", "bool"})


def split_operator(name: str) -> tuple[str | None, str, bool] | None:
    """``(set qualifier, base operator, IfExists)`` or None for an unknown operator.

    Mirrors IAM: strip one qualifier prefix, then one ``IfExists`` suffix, both case-sensitive.
    """
    qualifier = None
    for prefix in SET_OPERATORS:
        if name.startswith(prefix):
            qualifier = prefix[:-1]
            name = name[len(prefix) :]
            break
    if_exists = name.endswith("IfExists")
    if if_exists:
        name = name[: -len("IfExists")]
    if name not in BASE_OPERATORS:
        return None
    return qualifier, name, if_exists


def policy_value_strings(raw: object) -> list[str]:
    """Condition values as strings (JSON booleans/numbers are accepted and stringified)."""
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, (int, float)):
            out.append(str(item))
        else:
            out.append(str(item))
    return out


# --- value comparisons (positive form; ``x`` is one request value) -----------------------


def _string_match(values: Sequence[str], enabled: bool, fold: bool) -> ValueMatch:
    templates = [v.parse(s, enabled) for s in values]
    static = frozenset((v.static_text(t).lower() if fold else v.static_text(t)) for t in templates if v.is_static(t))
    dynamic = tuple(t for t in templates if not v.is_static(t))

    if not dynamic:
        if fold:
            return lambda x, ctx: (s := v.as_string(x)) is not None and s.lower() in static
        return lambda x, ctx: (x if type(x) is str else v.as_string(x)) in static

    def match(x: object, ctx: Ctx) -> bool:
        s = v.as_string(x)
        if s is None:
            return False
        if fold:
            s = s.lower()
        if s in static:
            return True
        for t in dynamic:
            text = v.resolve_text(t, ctx)
            if (text.lower() if fold else text) == s:
                return True
        return False

    return match


def _like(template: v.Template, ctx: Ctx) -> re.Pattern[str]:
    return matchers.compiled(matchers.template_regex(v.resolve(template, ctx)))


def _like_match(values: Sequence[str], enabled: bool) -> ValueMatch:
    templates = [v.parse(s, enabled) for s in values]
    static_sources = [
        matchers.template_regex((p.text, isinstance(p, v.Pattern)) for p in t) for t in templates if v.is_static(t)
    ]
    static = re.compile("(?:" + "|".join(static_sources) + ")", re.S) if static_sources else None
    dynamic = tuple(t for t in templates if not v.is_static(t))

    def match(x: object, ctx: Ctx) -> bool:
        s = x if type(x) is str else v.as_string(x)
        if s is None:
            return False
        if static is not None and static.fullmatch(s) is not None:
            return True
        return any(_like(t, ctx).fullmatch(s) is not None for t in dynamic)

    return match


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)


def _number(x: object) -> int | Decimal | float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float, Decimal)):
        return x
    if isinstance(x, str) and _NUMBER.fullmatch(x.strip()):
        s = x.strip()
        try:
            return int(s) if "." not in s else Decimal(s)
        except (ValueError, InvalidOperation):
            return None
    return None


_ORDER: dict[str, Callable[[object, object], bool]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,  # type: ignore[operator]
    "le": lambda a, b: a <= b,  # type: ignore[operator]
    "gt": lambda a, b: a > b,  # type: ignore[operator]
    "ge": lambda a, b: a >= b,  # type: ignore[operator]
}


def _ordered_match(policy: Sequence[object], convert: Callable[[object], object], op: str) -> ValueMatch:
    compare = _ORDER[op]
    targets = tuple(p for p in policy if p is not None)

    def match(x: object, ctx: Ctx) -> bool:
        n = convert(x)
        if n is None:
            return False
        return any(compare(n, t) for t in targets)

    return match


def _bool_match(values: Sequence[str], enabled: bool) -> ValueMatch:
    templates = [v.parse(s, enabled) for s in values]
    static = frozenset(v.static_text(t).lower() for t in templates if v.is_static(t))
    dynamic = tuple(t for t in templates if not v.is_static(t))

    def match(x: object, ctx: Ctx) -> bool:
        if isinstance(x, bool):
            s = "true" if x else "false"
        elif isinstance(x, str):
            s = x.lower()
        else:
            return False
        return s in static or any(v.resolve_text(t, ctx).lower() == s for t in dynamic)

    return match


def _binary_match(values: Sequence[str]) -> ValueMatch:
    texts = frozenset(values)
    decoded = set()
    for s in values:
        with contextlib.suppress(binascii.Error, ValueError):
            decoded.add(base64.b64decode(s, validate=True))
    blobs = frozenset(decoded)

    def match(x: object, ctx: Ctx) -> bool:
        if isinstance(x, (bytes, bytearray)):
            return bytes(x) in blobs
        return isinstance(x, str) and x in texts  # context already holds the base64 text

    return match


def _ip_match(values: Sequence[str]) -> ValueMatch:
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for s in values:
        try:
            nets.append(ipaddress.ip_network(s.strip(), strict=False))
        except ValueError:
            continue  # an unparsable range never matches
    v4 = tuple(n for n in nets if n.version == 4)
    v6 = tuple(n for n in nets if n.version == 6)

    def match(x: object, ctx: Ctx) -> bool:
        if isinstance(x, str):
            try:
                x = ipaddress.ip_address(x.strip())
            except ValueError:
                return False
        if isinstance(x, ipaddress.IPv4Address):
            return any(x in n for n in v4)
        if isinstance(x, ipaddress.IPv6Address):
            return any(x in n for n in v6)
        return False

    return match


def _arn_component_regex(pieces: list[tuple[str, bool]]) -> re.Pattern[str]:
    """ArnLike: each of the six colon-separated fields is matched on its own."""
    text_parts = list(pieces)
    # Split the pattern into fields only on *pattern* colons: substituted text is literal.
    fields: list[list[tuple[str, bool]]] = [[]]
    for t, is_pattern in text_parts:
        if not is_pattern:
            fields[-1].append((t, False))
            continue
        chunks = t.split(":")
        for i, chunk in enumerate(chunks):
            if i:
                if len(fields) < 6:
                    fields.append([])
                else:
                    fields[-1].append((":", False))  # the resource field keeps its colons
            if chunk:
                fields[-1].append((chunk, True))
    if len(fields) < 6:
        # Not an ARN pattern (e.g. "*"): compare the whole value as a glob.
        return matchers.compiled(matchers.template_regex(text_parts))
    sources = []
    for i, field in enumerate(fields):
        sources.append(
            "".join(
                (matchers.glob_regex(t, "[^:]*", "[^:]") if i < 5 else matchers.glob_regex(t))
                if is_pattern
                else re.escape(t)
                for t, is_pattern in field
            )
        )
    return matchers.compiled(":".join(sources))


def _arn_match(values: Sequence[str], enabled: bool) -> ValueMatch:
    templates = [v.parse(s, enabled) for s in values]
    static = tuple(
        _arn_component_regex([(p.text, isinstance(p, v.Pattern)) for p in t]) for t in templates if v.is_static(t)
    )
    dynamic = tuple(t for t in templates if not v.is_static(t))

    def match(x: object, ctx: Ctx) -> bool:
        if not isinstance(x, str):
            return False
        if any(r.fullmatch(x) for r in static):
            return True
        return any(_arn_component_regex(v.resolve(t, ctx)).fullmatch(x) for t in dynamic)

    return match


def _policy_dates(values: Sequence[str]) -> list[float | None]:
    return [parse_date(s) for s in values]


def _value_match(family: str, values: Sequence[str], enabled: bool) -> ValueMatch:
    enabled = enabled and family in _VARIABLE_FAMILIES
    if family == "str_eq":
        return _string_match(values, enabled, fold=False)
    if family == "str_eq_ic":
        return _string_match(values, enabled, fold=True)
    if family == "str_like":
        return _like_match(values, enabled)
    if family.startswith("num_"):
        return _ordered_match([_number(s) for s in values], _number, family[4:])
    if family.startswith("date_"):
        return _ordered_match(_policy_dates(values), to_epoch, family[5:])
    if family == "bool":
        return _bool_match(values, enabled)
    if family == "binary":
        return _binary_match(values)
    if family == "ip":
        return _ip_match(values)
    if family == "arn":
        return _arn_match(values, enabled)
    raise AssertionError(family)


# --- clauses -----------------------------------------------------------------------------


def _null_clause(key: str, values: Sequence[str]) -> Clause:
    wants = {s.lower() for s in values}
    on_absent = "true" in wants
    on_present = "false" in wants
    return lambda ctx: on_present if key in ctx else on_absent


def compile_clause(operator: str, key: str, raw_values: object, variables_enabled: bool) -> Clause:
    """One ``"Operator": {"key": values}`` entry. ``operator`` must be known (validated)."""
    parsed = split_operator(operator)
    assert parsed is not None
    qualifier, base, if_exists = parsed
    family, negated = BASE_OPERATORS[base]
    key = key.lower()
    values = policy_value_strings(raw_values)
    if family == "null":
        return _null_clause(key, values)
    match = _value_match(family, values, variables_enabled)

    if qualifier is None:
        on_missing = if_exists or negated

        def single(ctx: Ctx) -> bool:
            x = ctx.get(key, _MISSING)
            if x is _MISSING:
                return on_missing
            hit = any(match(i, ctx) for i in x) if type(x) is tuple else match(x, ctx)
            return hit != negated

        return single

    if qualifier == "ForAllValues":

        def for_all(ctx: Ctx) -> bool:
            x = ctx.get(key, _MISSING)
            if x is _MISSING:
                return True
            items = x if type(x) is tuple else (x,)
            return all(match(i, ctx) != negated for i in items)

        return for_all

    def for_any(ctx: Ctx) -> bool:
        x = ctx.get(key, _MISSING)
        if x is _MISSING:
            return if_exists
        items = x if type(x) is tuple else (x,)
        return any(match(i, ctx) != negated for i in items)

    return for_any


def normalize_context(context: Mapping[str, object]) -> dict[str, object]:
    """Lower-case keys; lists become tuples; None and empty collections are dropped."""
    ctx = {k.lower(): x for k, x in context.items()}
    if _NEEDS_WORK.isdisjoint(map(type, ctx.values())):
        return ctx  # the common case: only scalars (checked in C, not key by key in Python)
    for k, x in list(ctx.items()):
        if x is None:
            del ctx[k]
        elif isinstance(x, _COLLECTIONS):
            if x:
                ctx[k] = tuple(x)
            else:
                del ctx[k]
    return ctx


def merge_context(ctx: dict[str, object], extra: Mapping[str, object]) -> None:
    """Overlay ``extra`` on an already normalised ``ctx``, as ``normalize_context`` of the
    merged mapping would: a None or empty value removes the key."""
    for k, x in extra.items():
        k = k.lower()
        if x is None or (isinstance(x, _COLLECTIONS) and not x):
            ctx.pop(k, None)
        else:
            ctx[k] = tuple(x) if isinstance(x, _COLLECTIONS) else x


_NEEDS_WORK = frozenset({type(None), list, tuple, set, frozenset})
_COLLECTIONS = (list, tuple, set, frozenset)
