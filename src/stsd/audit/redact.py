"""Which of a call's raw query parameters may go to the audit writer process as they are.

Turning the parameters into ``requestParameters`` (:func:`stsd.audit.elements.request_parameters`)
walks every member the action declares; in the server process that cost more than everything
else the audit trail does per request. So the writer does it — but a value that the record
masks or leaves out (one-time codes, passwords, federation tokens) must never leave the
server. This module decides, once per action, which raw keys are declared members and which
of those carry such values, by asking ``request_parameters`` itself what it does with a probe
value for each member: whatever it does not write verbatim is replaced by
:data:`~stsd.audit.elements.HIDDEN` here. The record is the same either way, as masking and
omission do not depend on the value.

An action the writer cannot look up by name, or one with a structure only some of whose
fields are masked, is not handled here (:func:`policy` returns None): its ``requestParameters``
are built in the server process, as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stsd.audit import elements
from stsd.protocol.params import Param, StrList, Struct, StructList

if TYPE_CHECKING:
    from stsd.actions.base import Action

_PROBE = "stsd-audit-probe-"


@dataclass(frozen=True, slots=True)
class Policy:
    declared: frozenset[str]  # member names: scalar keys, and the bare name of lists (``Name=``)
    prefixes: tuple[str, ...]  # ``Name.`` of structured members (lists, structures)
    hidden: frozenset[str]  # scalar keys whose values never leave the server process
    hidden_prefixes: tuple[str, ...]  # ``Name.`` of structured members whose values never leave

    def apply(self, raw: Mapping[str, str] | None) -> dict[str, str] | None:
        """The declared members of ``raw``, hidden values replaced (the writer masks them again)."""
        if raw is None:
            return None
        out = {}
        for key, value in raw.items():
            if key in self.declared:
                out[key] = elements.HIDDEN if key in self.hidden else value
            elif key.startswith(self.prefixes):
                out[key] = elements.HIDDEN if key.startswith(self.hidden_prefixes) else value
        return out


def _probe_keys(spec: Param) -> list[str]:
    if isinstance(spec, StrList):
        return [f"{spec.name}.member.1"]
    if isinstance(spec, StructList):
        return [f"{spec.name}.member.1.{field.name}" for field in spec.fields]
    if isinstance(spec, Struct):
        return [f"{spec.name}.{field.name}" for field in spec.fields]
    return [spec.name]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _visible(spec: Param) -> tuple[int, int]:
    """(fields written verbatim, fields) when every field of ``spec`` holds a probe value."""
    keys = _probe_keys(spec)
    raw = {key: f"{_PROBE}{index}" for index, key in enumerate(keys)}
    written = set(_strings(elements.request_parameters((spec,), raw)))
    return sum(probe in written for probe in raw.values()), len(keys)


def _policy(specs: tuple[Param, ...]) -> Policy | None:
    declared, prefixes, hidden, hidden_prefixes = set(), [], set(), []
    for spec in specs:
        visible, total = _visible(spec)
        if 0 < visible < total:
            return None  # partly masked: leave it to request_parameters in this process
        declared.add(spec.name)
        structured = isinstance(spec, (StrList, StructList, Struct))
        if structured:
            prefixes.append(f"{spec.name}.")
        if visible == 0:
            hidden.add(spec.name)
            if structured:
                hidden_prefixes.append(f"{spec.name}.")
    return Policy(frozenset(declared), tuple(prefixes), frozenset(hidden), tuple(hidden_prefixes))


_policies: dict[int, tuple[Action, Policy | None]] = {}


def _registered(action: Action) -> bool:
    from stsd.actions.base import registry  # on first use: the actions import the server modules

    return registry().get(action.service.name, {}).get(action.name) is action


def policy(action: Action) -> Policy | None:
    """The action's policy (None: build ``requestParameters`` in this process)."""
    found = _policies.get(id(action))
    if found is None or found[0] is not action:
        found = (action, _policy(action.params) if _registered(action) else None)
        _policies[id(action)] = found
    return found[1]


def specs(service: str, action_name: str) -> tuple[Param, ...]:
    """The members the writer process builds ``requestParameters`` with."""
    from stsd.actions.base import registry

    action = registry().get(service, {}).get(action_name)
    return action.params if action is not None else ()
