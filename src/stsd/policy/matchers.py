"""Wildcard matchers for Action/NotAction and Resource/NotResource, compiled at parse time.

Patterns without wildcards go into exact-lookup sets; the rest are folded into one
precompiled alternation. Only resources using policy variables need work per request, and
their regexes are cached by text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from stsd.policy import variables as v


def glob_regex(pattern: str, star: str = ".*", qmark: str = ".") -> str:
    """Regex source for an IAM glob: ``*`` any run, ``?`` exactly one character."""
    out: list[str] = []
    for ch in pattern:
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(qmark)
        else:
            out.append(re.escape(ch))
    return "".join(out)


def template_regex(pieces: Iterable[tuple[str, bool]]) -> str:
    return "".join(glob_regex(t) if is_pattern else re.escape(t) for t, is_pattern in pieces)


@lru_cache(maxsize=8192)
def compiled(source: str, flags: int = re.S) -> re.Pattern[str]:
    return re.compile(source, flags)


def _alternation(sources: list[str], flags: int = re.S) -> re.Pattern[str] | None:
    if not sources:
        return None
    return re.compile("(?:" + "|".join(sources) + ")", flags)


class ActionMatcher:
    """``service:Action`` patterns, compared case-insensitively."""

    __slots__ = ("_all", "_exact", "_regex")

    def __init__(self, patterns: Iterable[str]):
        exact: set[str] = set()
        sources: list[str] = []
        self._all = False
        for p in patterns:
            low = p.lower()
            if low == "*":
                self._all = True
            elif "*" in low or "?" in low:
                sources.append(glob_regex(low))
            else:
                exact.add(low)
        self._exact = frozenset(exact)
        self._regex = _alternation(sources)

    def __call__(self, action_lc: str) -> bool:
        if self._all or action_lc in self._exact:
            return True
        return self._regex is not None and self._regex.fullmatch(action_lc) is not None


@lru_cache(maxsize=4096)  # per authorisation; a few resources are asked about often
def normalize_arn(arn: str) -> str:
    """Lower-case the five ARN fields before the resource part; the resource keeps its case
    (IAM: "In the Resource element, the IAM user name is case sensitive")."""
    head, sep, tail = _split_resource(arn)
    return head.lower() + sep + tail


def _split_resource(arn: str) -> tuple[str, str, str]:
    """``(first five fields, ":", resource part)``; the whole string is the head if shorter."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return arn, "", ""
    return ":".join(parts[:5]), ":", parts[5]


def _head_regex(head: str) -> str:
    """ARN fields before the resource: wildcards stay inside their field, except that a
    trailing ``*`` may run past the colons (IAM: "If the * wildcard is the last character of a
    resource ARN segment, it can expand to match beyond the colon boundaries")."""
    out: list[str] = []
    for seg in head.split(":"):
        if seg.endswith("*"):
            out.append(glob_regex(seg[:-1], "[^:]*", "[^:]") + ".*")
        else:
            out.append(glob_regex(seg, "[^:]*", "[^:]"))
    return ":".join(out)


class ResourceMatcher:
    """Resource ARN patterns, with policy variables resolved in the resource part only."""

    __slots__ = ("_all", "_dynamic", "_exact", "_regex")

    def __init__(self, patterns: Iterable[str], variables_enabled: bool):
        exact: set[str] = set()
        sources: list[str] = []
        dynamic: list[tuple[str, v.Template]] = []
        self._all = False
        for p in patterns:
            if p == "*":
                self._all = True
                continue
            head, sep, tail = _split_resource(p)
            head = head.lower()
            template = v.parse(tail, variables_enabled)
            if not v.is_static(template):
                dynamic.append((_head_regex(head) + sep, template))
            elif "*" in p or "?" in p or any(isinstance(t, v.Literal) for t in template):
                pieces = [(part.text, isinstance(part, v.Pattern)) for part in template]
                sources.append(_head_regex(head) + sep + template_regex(pieces))
            else:
                exact.add(head + sep + tail)
        self._exact = frozenset(exact)
        self._regex = _alternation(sources)
        self._dynamic = tuple(dynamic)

    def __call__(self, resource_norm: str, ctx: Mapping[str, object]) -> bool:
        if self._all or resource_norm in self._exact:
            return True
        if self._regex is not None and self._regex.fullmatch(resource_norm) is not None:
            return True
        for head_source, template in self._dynamic:
            source = head_source + template_regex(v.resolve(template, ctx))
            if compiled(source).fullmatch(resource_norm) is not None:
                return True
        return False
