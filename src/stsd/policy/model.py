"""Compiled policies and the request they are evaluated against."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from stsd.policy import principals as grants
from stsd.policy.conditions import Clause, normalize_context
from stsd.policy.matchers import ActionMatcher, ResourceMatcher, normalize_arn
from stsd.policy.principals import PrincipalMatcher, PrincipalRef
from stsd.policy.variables import Unresolved


class PolicyKind(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hash runs Python code

    IDENTITY = "identity"  # user/role inline & managed policies, permissions boundaries
    SESSION = "session"  # session policies (same grammar as IDENTITY)
    TRUST = "trust"  # role trust policy: Principal required, Resource prohibited
    RESOURCE = "resource"  # generic resource-based policy: Principal required


class Decision(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hash runs Python code

    ALLOW = "Allow"
    DENY = "Deny"  # explicit deny
    NOT_APPLICABLE = "NotApplicable"  # implicit deny


class ResourceGrant(enum.Enum):
    """How a resource-based policy (e.g. a role trust policy) answered for a caller."""

    __hash__ = object.__hash__  # members are singletons; Enum's own hash runs Python code

    DENY = "Deny"
    NOT_APPLICABLE = "NotApplicable"
    ALLOW_PRINCIPAL = "AllowPrincipal"  # the caller's own user/session ARN, service or IdP
    ALLOW_PUBLIC = "AllowPublic"  # "*", {"AWS": "*"}, or Allow + NotPrincipal
    ALLOW_ROLE = "AllowRole"  # the role (or federating user) behind the caller's session
    ALLOW_ACCOUNT = "AllowAccount"  # only the caller's account (root ARN / bare account id)


# indexed by the grant levels of ``principals`` (NONE=0 ... PRINCIPAL=4)
_GRANTS = (
    ResourceGrant.NOT_APPLICABLE,
    ResourceGrant.ALLOW_ACCOUNT,
    ResourceGrant.ALLOW_ROLE,
    ResourceGrant.ALLOW_PUBLIC,
    ResourceGrant.ALLOW_PRINCIPAL,
)
_NONE, _PUBLIC, _PRINCIPAL = grants.NONE, grants.PUBLIC, grants.PRINCIPAL
_ALLOW, _DENY, _NOT_APPLICABLE = Decision.ALLOW, Decision.DENY, Decision.NOT_APPLICABLE


@dataclass(frozen=True, slots=True)
class Request:
    """One authorization question. Build it once and evaluate it against many policies:
    the lower-cased action, normalised resource and context are computed here."""

    action: str
    resource: str
    principal: PrincipalRef | None = None
    context: Mapping[str, object] = field(default_factory=dict)
    _action_lc: str = field(init=False, repr=False, compare=False)
    _resource_norm: str = field(init=False, repr=False, compare=False)
    _ctx: dict[str, object] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_action_lc", self.action.lower())
        object.__setattr__(self, "_resource_norm", normalize_arn(self.resource))
        object.__setattr__(self, "_ctx", normalize_context(self.context))

    @classmethod
    def prepared(
        cls, action: str, resource: str, principal: PrincipalRef | None, context: dict[str, object]
    ) -> Request:
        """A request whose ``context`` is already normalised (see ``normalize_context``),
        built without copying it again: the hot path assembles it from cached parts."""
        request = object.__new__(cls)
        # The slots' own setters (frozen: no __setattr__); a third cheaper than
        # object.__setattr__ by name.
        set_action, set_resource, set_principal, set_context, set_action_lc, set_resource_norm, set_ctx = (
            _REQUEST_SLOT_SETTERS
        )
        set_action(request, action)
        set_resource(request, resource)
        set_principal(request, principal)
        set_context(request, context)
        set_action_lc(request, action.lower())
        set_resource_norm(request, normalize_arn(resource))
        set_ctx(request, context)
        return request


_REQUEST_SLOT_SETTERS = tuple(
    getattr(Request, name).__set__
    for name in ("action", "resource", "principal", "context", "_action_lc", "_resource_norm", "_ctx")
)


@dataclass(frozen=True, slots=True, eq=False)
class Statement:
    sid: str | None
    deny: bool
    action: ActionMatcher
    not_action: bool
    resource: ResourceMatcher | None  # None: no Resource element (trust policies)
    not_resource: bool
    principal: PrincipalMatcher | None
    not_principal: bool
    conditions: tuple[Clause, ...]

    def _rest_applies(self, r: Request) -> bool:
        """Action, resource and conditions (the principal is checked by the caller)."""
        if self.action(r._action_lc) == self.not_action:
            return False
        ctx = r._ctx
        try:
            if self.resource is not None and self.resource(r._resource_norm, ctx) == self.not_resource:
                return False
            for clause in self.conditions:
                if not clause(ctx):
                    return False
        except Unresolved:
            return False  # "If AWS cannot resolve a variable ... the entire statement [is] invalid"
        return True

    def grant(self, r: Request) -> int:
        """How this statement names the caller (a ``principals`` grant level); 0 when the
        statement does not apply at all."""
        pm = self.principal
        if pm is None:
            g = _PRINCIPAL  # identity policies: the principal is implicit
        elif self.not_principal:
            g = _NONE if pm.excludes(r.principal) else _PUBLIC
        else:
            g = pm.grant(r.principal)
        if g == _NONE or not self._rest_applies(r):
            return _NONE
        return g

    def applies(self, r: Request) -> bool:
        return self.grant(r) != _NONE


@dataclass(frozen=True, slots=True, eq=False)
class Policy:
    """A parsed, validated, compiled policy. Immutable and safe to share between threads."""

    text: str
    kind: PolicyKind
    version: str | None
    id: str | None
    statements: tuple[Statement, ...]
    _principals: tuple[tuple[str, str], ...] = field(repr=False)
    size: int = field(repr=False)  # characters excluding whitespace outside strings (IAM quotas)

    def evaluate(self, request: Request) -> Decision:
        """DENY if any statement denies, else ALLOW if one allows, else NOT_APPLICABLE."""
        allowed = False
        for st in self.statements:
            if allowed and not st.deny:
                continue  # once allowed, only a deny can change the answer
            if st.grant(request):
                if st.deny:
                    return _DENY
                allowed = True
        return _ALLOW if allowed else _NOT_APPLICABLE

    def grant(self, request: Request) -> ResourceGrant:
        """For resource-based policies: DENY, or the strongest Allow naming the caller."""
        best = _NONE
        for st in self.statements:
            if not st.deny and best == _PRINCIPAL:
                continue
            g = st.grant(request)
            if not g:
                continue
            if st.deny:
                return ResourceGrant.DENY
            if g > best:
                best = g
        return _GRANTS[best]

    def principals(self) -> list[tuple[str, str]]:
        """``(type, value)`` for every Principal/NotPrincipal entry, in document order:
        ``("AWS", "arn:..."|"123456789012"|"*")``, ``("Service", ...)``, ``("Federated", ...)``."""
        return list(self._principals)

    @property
    def minified(self) -> str:
        """The document without whitespace outside string literals."""
        return minify(self.text)


def minify(text: str) -> str:
    out: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif ch not in " \t\r\n":
            out.append(ch)
    return "".join(out)
