"""Declarative request parameters and AWS's ("Coral") validation grammar.

Each action declares its members once, in the service model's member order; this module
turns the flat query parameters into typed values and produces the exact validation text
AWS writes, e.g.::

    1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy
    constraint: Member must have length greater than or equal to 2

Several failures are joined as ``N validation errors detected: a; b``; for one member the
pattern clause comes before the length clause. STS prints the offending value; IAM has left it
out since 2024 (``Value at 'roleName' failed to satisfy constraint: ...``), which callers
select with ``parse_params(..., show_values=False)``. Lengths count code points; ``\\w`` is ASCII.
Integer syntax errors are not validation errors but ``MalformedInput`` (no message), and an
empty integer is ``MalformedInput`` "missing value for decimal type".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stsd.errors import AwsError, MalformedInput, ValidationError

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT_RE = re.compile(r"[+-]?[0-9]+")  # ASCII digits only, as AWS parses them


class _Missing:
    """Marker for an absent member (distinct from an empty string)."""


MISSING: Any = _Missing()


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


def _tag_char_ok(ch: str) -> bool:
    return ch in "_.:/=+-@" or unicodedata.category(ch)[0] in "LZN"


# Two tags whose keys differ only in case, in one request: IAM answers 400 InvalidInput and
# STS 400 InvalidParameterValue, both with this text.
MSG_DUPLICATE_TAG_KEYS = "Duplicate tag keys found. Please note that Tag keys are case insensitive."


def tag_chars(value: str) -> bool:
    """``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`` without a third-party regex engine."""
    return all(_tag_char_ok(ch) for ch in value)


@dataclass(frozen=True, slots=True)
class Str:
    name: str  # wire name, e.g. "RoleArn"
    member: str  # model member name used in messages, e.g. "roleArn"
    required: bool = False
    min: int | None = None
    max: int | None = None
    pattern: str | None = None  # the pattern as AWS prints it
    check: Callable[[str], bool] | None = None  # defaults to a regex of ``pattern``
    choices: tuple[str, ...] | None = None  # enum members
    sensitive: bool = False

    def matches(self, value: str) -> bool:
        if self.check is not None:
            return self.check(value)
        return self.pattern is None or _compiled(self.pattern).fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Int:
    name: str
    member: str
    required: bool = False
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True, slots=True)
class Bool:
    name: str
    member: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class StrList:
    """``Name.member.N`` lists of strings."""

    name: str
    member: str
    item: Str
    required: bool = False
    max_items: int | None = None
    min_items: int | None = None


@dataclass(frozen=True, slots=True)
class StructList:
    """``Name.member.N.Field`` lists of structures (Tags, PolicyArns, ProvidedContexts)."""

    name: str
    member: str
    fields: tuple[Str, ...]
    required: bool = False
    max_items: int | None = None
    min_items: int | None = None


@dataclass(frozen=True, slots=True)
class Struct:
    """``Name.Field`` single structure (e.g. AssumeRoot's ``TaskPolicyArn.arn``)."""

    name: str
    member: str
    fields: tuple[Str, ...]
    required: bool = False


Param = Str | Int | Bool | StrList | StructList | Struct


class _Problems:
    __slots__ = ("items", "show_values")

    def __init__(self, show_values: bool = True) -> None:
        self.items: list[str] = []
        self.show_values = show_values

    def add(self, value: str | None, member: str, constraint: str) -> None:
        if not self.show_values:
            self.items.append(f"Value at '{member}' failed to satisfy constraint: {constraint}")
            return
        shown = "null" if value is None else f"'{value}'"
        self.items.append(
            f"Value {shown} at '{member}' failed to satisfy constraint: {constraint}"
        )


def _check_str(spec: Str, value: str, member: str, problems: _Problems) -> None:
    if spec.choices is not None and value not in spec.choices:
        problems.add(value, member, f"Member must satisfy enum value set: [{', '.join(spec.choices)}]")
    if spec.pattern and not spec.matches(value):
        problems.add(value, member, f"Member must satisfy regular expression pattern: {spec.pattern}")
    if spec.max is not None and len(value) > spec.max:
        problems.add(value, member, f"Member must have length less than or equal to {spec.max}")
    if spec.min is not None and len(value) < spec.min:
        problems.add(value, member, f"Member must have length greater than or equal to {spec.min}")


def _parse_int(raw: str) -> int:
    if raw == "":
        raise MalformedInput("missing value for decimal type")
    if not _INT_RE.fullmatch(raw):
        raise MalformedInput()
    value = int(raw)
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise MalformedInput()
    return value


def _list_indices(params: Mapping[str, str], prefix: str) -> dict[int, str]:
    """Map N → the part after ``prefix + N`` for keys like ``Tags.member.3.Key``."""
    found: dict[int, str] = {}
    for key in params:
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix):]
        number, _, tail = rest.partition(".")
        if number.isdigit() and int(number) >= 1:
            found.setdefault(int(number), tail)
    return found


def _java_list(values: list[Any]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _read_list(spec: StrList | StructList, params: Mapping[str, str], has_members: bool = True) -> list[Any] | Any:
    prefix = f"{spec.name}.member."
    indices = sorted(_list_indices(params, prefix)) if has_members else ()
    if not indices:
        # botocore sends ``Name=`` for an explicitly empty list
        return [] if spec.name in params else MISSING
    if isinstance(spec, StrList):
        return [params.get(f"{prefix}{n}", "") for n in indices if f"{prefix}{n}" in params]
    items = []
    for n in indices:
        items.append({f.name: params.get(f"{prefix}{n}.{f.name}", MISSING) for f in spec.fields})
    return items


# What each declaration is, worked out once per action rather than by isinstance per request.
_STR, _INT, _BOOL, _STRUCT, _LIST = range(5)
_KINDS: tuple[tuple[type, int], ...] = ((Str, _STR), (Int, _INT), (Bool, _BOOL), (Struct, _STRUCT))
# (kind, spec, wire name, quick test for a Str: True when _check_str would find nothing)
_Step = tuple[int, Param, str, Callable[[str], bool] | None]
_plans: dict[int, tuple[tuple[Param, ...], tuple[_Step, ...]]] = {}


def _quick_check(spec: Str) -> Callable[[str], bool]:
    """Whether a value passes every constraint of ``spec``; only a failing value needs the
    message-writing ``_check_str`` (which then reports in AWS's order)."""
    low = spec.min if spec.min is not None else 0
    high = spec.max if spec.max is not None else float("inf")
    choices = frozenset(spec.choices) if spec.choices is not None else None
    matches: Callable[[str], object] | None = None
    if spec.pattern:  # an empty pattern is not checked (as in _check_str)
        matches = spec.check if spec.check is not None else _compiled(spec.pattern).fullmatch

    def passes(value: str) -> bool:
        if not low <= len(value) <= high:
            return False
        if choices is not None and value not in choices:
            return False
        return matches is None or bool(matches(value))

    return passes


def _plan(specs: tuple[Param, ...]) -> tuple[_Step, ...]:
    # Keyed by identity (hashing the declarations would cost more than it saves); the entry
    # holds the tuple itself, so its id cannot be reused while cached. Actions declare their
    # parameters once, at import: a handful of entries.
    cached = _plans.get(id(specs))
    if cached is not None and cached[0] is specs:
        return cached[1]
    steps = []
    for spec in specs:
        kind = next((code for cls, code in _KINDS if isinstance(spec, cls)), _LIST)
        quick = _quick_check(spec) if isinstance(spec, Str) else None
        steps.append((kind, spec, spec.name, quick))
    plan = tuple(steps)
    _plans[id(specs)] = (specs, plan)
    return plan


def parse_params(
    specs: tuple[Param, ...], params: Mapping[str, str], *, show_values: bool = True
) -> dict[str, Any]:
    """Typed values keyed by wire name (absent optional members are left out).

    Raises MalformedInput for unparsable numbers and ValidationError with every failed
    constraint, in declaration order. ``show_values=False`` writes IAM's form of the
    messages, without the offending values.
    """
    if not specs:
        return {}  # GetCallerIdentity and other actions without parameters
    out: dict[str, Any] = {}
    problems = _Problems(show_values=show_values)
    # Most requests carry no list members at all: then no list needs a scan of every key
    # (worked out at the first list member declared, if any).
    has_members: bool | None = None
    for kind, spec, name, quick in _plan(specs):
        if kind == _STR:
            value = params.get(name, MISSING)
            if value is MISSING:
                if spec.required:
                    problems.add(None, spec.member, "Member must not be null")
                continue
            if not quick(value):  # type: ignore[misc]
                _check_str(spec, value, spec.member, problems)  # type: ignore[arg-type]
            out[name] = value
        elif kind == _INT:
            raw = params.get(spec.name, MISSING)
            if raw is MISSING:
                if spec.required:
                    problems.add(None, spec.member, "Member must not be null")
                continue
            number = _parse_int(raw)
            if spec.max is not None and number > spec.max:
                problems.add(
                    str(number), spec.member, f"Member must have value less than or equal to {spec.max}"
                )
            if spec.min is not None and number < spec.min:
                problems.add(
                    str(number), spec.member, f"Member must have value greater than or equal to {spec.min}"
                )
            out[spec.name] = number
        elif kind == _BOOL:
            raw = params.get(spec.name, MISSING)
            if raw is MISSING:
                if spec.required:
                    problems.add(None, spec.member, "Member must not be null")
                continue
            if raw.lower() not in ("true", "false"):
                raise MalformedInput()
            out[spec.name] = raw.lower() == "true"
        elif kind == _STRUCT:
            fields = {f.name: params.get(f"{spec.name}.{f.name}", MISSING) for f in spec.fields}
            if all(v is MISSING for v in fields.values()):
                if spec.required:
                    problems.add(None, spec.member, "Member must not be null")
                continue
            for f in spec.fields:
                value = fields[f.name]
                member = f"{spec.member}.{f.member}"
                if value is MISSING:
                    if f.required:
                        problems.add(None, member, "Member must not be null")
                    continue
                _check_str(f, value, member, problems)
            out[spec.name] = {k: v for k, v in fields.items() if v is not MISSING}
        else:
            if has_members is None:
                has_members = any(".member." in key for key in params)
            # Absent and without members: skip the list reader altogether (the usual case).
            items = _read_list(spec, params, has_members) if has_members or name in params else MISSING
            if items is MISSING:
                if spec.required:
                    problems.add(None, spec.member, "Member must not be null")
                continue
            if isinstance(spec, StrList):
                for i, value in enumerate(items, start=1):
                    _check_str(spec.item, value, f"{spec.member}.{i}.member", problems)
                shown = _java_list(items)
            else:
                for i, item in enumerate(items, start=1):
                    for f in spec.fields:
                        value = item[f.name]
                        member = f"{spec.member}.{i}.member.{f.member}"
                        if value is MISSING:
                            if f.required:
                                problems.add(None, member, "Member must not be null")
                            continue
                        _check_str(f, value, member, problems)
                    for k in [k for k, v in item.items() if v is MISSING]:
                        del item[k]
                shown = _java_list(
                    [", ".join(f"{k}={v}" for k, v in item.items()) for item in items]
                )
            if spec.max_items is not None and len(items) > spec.max_items:
                problems.add(
                    shown, spec.member, f"Member must have length less than or equal to {spec.max_items}"
                )
            if spec.min_items is not None and len(items) < spec.min_items:
                problems.add(
                    shown, spec.member, f"Member must have length greater than or equal to {spec.min_items}"
                )
            out[spec.name] = items
    if problems.items:
        raise validation_error(problems.items)
    return out


def validation_error(items: list[str]) -> AwsError:
    count = len(items)
    noun = "error" if count == 1 else "errors"
    return ValidationError(f"{count} validation {noun} detected: " + "; ".join(items))


def single_validation_error(value: str | None, member: str, constraint: str) -> AwsError:
    problems = _Problems()
    problems.add(value, member, constraint)
    return validation_error(problems.items)
