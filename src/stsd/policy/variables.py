"""Policy variables: ``${aws:username}``, ``${aws:PrincipalTag/team}``, ``${key, 'default'}``
and the escapes ``${*}``, ``${?}``, ``${$}``.

A value is parsed once into a *template*: a tuple of parts, each a ``Pattern`` (policy text,
where ``*``/``?`` keep their wildcard meaning), a ``Literal`` (an escape, matched as the plain
character) or a ``Var``. Values substituted from the request are literal too, so a user name
containing ``*`` cannot widen a pattern. Variables only exist in ``"Version": "2012-10-17"``
policies; in older ones ``${...}`` is ordinary text.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from stsd.policy.dates import iso

_VAR = re.compile(r"\$\{([^}]*)\}")
_WITH_DEFAULT = re.compile(r"\s*([^,]+?)\s*,\s*'(.*)'\s*", re.S)
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class Unresolved(Exception):
    """A variable had no value and no default: AWS treats the whole statement as not matching."""


@dataclass(frozen=True, slots=True)
class Pattern:
    text: str


@dataclass(frozen=True, slots=True)
class Literal:
    text: str


@dataclass(frozen=True, slots=True)
class Var:
    key: str  # lower-case context key
    default: str | None


Part = Pattern | Literal | Var
Template = tuple[Part, ...]


def parse(text: str, enabled: bool) -> Template:
    """Split ``text`` into template parts (a single ``Pattern`` when variables are off)."""
    if not enabled or "${" not in text:
        return (Pattern(text),)
    parts: list[Part] = []
    pos = 0
    for m in _VAR.finditer(text):
        if m.start() > pos:
            parts.append(Pattern(text[pos : m.start()]))
        body = m.group(1)
        if body in _ESCAPES:
            parts.append(Literal(_ESCAPES[body]))
        else:
            d = _WITH_DEFAULT.fullmatch(body)
            if d is not None:
                parts.append(Var(d.group(1).lower(), d.group(2)))
            else:
                parts.append(Var(body.strip().lower(), None))
        pos = m.end()
    if pos < len(text):
        parts.append(Pattern(text[pos:]))
    return tuple(parts)


def is_static(template: Template) -> bool:
    return not any(isinstance(p, Var) for p in template)


def as_string(value: object) -> str | None:
    """The string a context value contributes to a variable or a string comparison.

    ``None`` for multivalued values: AWS does not allow them as policy variables.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(value)
    if isinstance(value, tuple):
        return None
    return str(value)


def resolve(template: Template, ctx: Mapping[str, object]) -> list[tuple[str, bool]]:
    """``(text, is_pattern)`` pieces with variables substituted; raises ``Unresolved``."""
    out: list[tuple[str, bool]] = []
    for part in template:
        if isinstance(part, Pattern):
            out.append((part.text, True))
        elif isinstance(part, Literal):
            out.append((part.text, False))
        else:
            value = ctx.get(part.key)
            text = None if value is None else as_string(value)
            if text is None:
                if part.default is None:
                    raise Unresolved(part.key)
                text = part.default
            out.append((text, False))
    return out


def resolve_text(template: Template, ctx: Mapping[str, object]) -> str:
    """The template as plain text (for operators without wildcards)."""
    return "".join(text for text, _ in resolve(template, ctx))


def static_text(template: Template) -> str:
    return "".join(p.text for p in template if not isinstance(p, Var))
