"""What an action module declares: name, service, parameters, handler — in one place.

Each module under ``stsd.actions.sts`` / ``stsd.actions.iam`` builds one :class:`Action`
(``ACTION = Action(...)``, or ``ACTIONS`` for a family) and the registry collects them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stsd.errors import IAM_NAMESPACE, STS_NAMESPACE
from stsd.protocol.params import Param
from stsd.protocol.render import Node

if TYPE_CHECKING:
    from stsd.server.context import RequestContext


@dataclass(frozen=True, slots=True)
class Service:
    name: str  # SigV4 signing name
    version: str
    namespace: str


STS = Service("sts", "2011-06-15", STS_NAMESPACE)
IAM = Service("iam", "2010-05-08", IAM_NAMESPACE)
SERVICES = {s.name: s for s in (STS, IAM)}

Handler = Callable[["RequestContext", dict[str, Any]], Sequence[Node] | None]


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    service: Service
    params: tuple[Param, ...]
    handler: Handler
    unsigned: bool = False  # AssumeRoleWithSAML / AssumeRoleWithWebIdentity
    blocking: bool = False  # touches the database: runs in a worker thread
    read_only: bool = True  # CloudTrail's readOnly
    # Unsigned actions: the account whose request quota a call draws on (e.g. the role's),
    # from the raw parameters; None when the parameters name no account.
    quota_account: Callable[[dict[str, str]], str | None] | None = None


def _collect(package: str) -> dict[str, Action]:
    found: dict[str, Action] = {}
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__):
        sub = importlib.import_module(f"{package}.{info.name}")
        for action in [getattr(sub, "ACTION", None), *getattr(sub, "ACTIONS", ())]:
            if action is not None:
                found[action.name] = action
    return found


_REGISTRY: dict[str, dict[str, Action]] | None = None


def registry() -> dict[str, dict[str, Action]]:
    """service name → action name → Action (imported once)."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = {"sts": _collect("stsd.actions.sts"), "iam": _collect("stsd.actions.iam")}
    return _REGISTRY
