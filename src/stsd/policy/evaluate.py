"""AWS policy evaluation logic across policy types (IAM User Guide, "Policy evaluation logic"
and "Cross-account policy evaluation logic").

1. An explicit Deny in any applicable policy wins.
2. Same account: allowed when the identity policies allow *and* every permissions boundary /
   session policy present allows, or when a resource-based policy grants the caller directly.
   A grant to the caller's own user or session ARN (or to "*") is not limited by identity
   policies, boundaries or session policies; a grant to the *role* behind a session (or to
   the IAM user behind a federated session) is still limited by boundaries and session
   policies; a grant to the account only delegates to the identity policies.
3. Cross account: the identity side (identity ∩ boundary ∩ session) and a resource policy
   must both allow; any Allow naming the caller, its account or "*" counts.
4. ``resource_required`` (role trust policies, KMS key policies): the resource policy must
   allow in every case.
The account root user needs no identity policy; boundaries and session policies never apply
to it. Anonymous callers, service principals and IdP-federated callers (AssumeRoleWithSAML /
WithWebIdentity) have no identity side: the resource policy alone decides.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from stsd.policy.model import Decision, Policy, PolicyKind, Request, ResourceGrant


class AuthzReason(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hash runs Python code

    ALLOWED_BY_IDENTITY = "allowed by an identity-based policy"
    ALLOWED_BY_RESOURCE = "allowed by a resource-based policy"
    ALLOWED_CROSS_ACCOUNT = "allowed by identity-based and resource-based policies"
    EXPLICIT_DENY_IDENTITY = "identity"
    EXPLICIT_DENY_RESOURCE = "resource"
    EXPLICIT_DENY_BOUNDARY = "boundary"
    EXPLICIT_DENY_SESSION = "session"
    NO_IDENTITY_ALLOW = "no-identity"
    NO_RESOURCE_ALLOW = "no-resource"
    NO_BOUNDARY_ALLOW = "no-boundary"
    NO_SESSION_ALLOW = "no-session"


_EXPLICIT = {
    AuthzReason.EXPLICIT_DENY_IDENTITY: "with an explicit deny in an identity-based policy",
    AuthzReason.EXPLICIT_DENY_RESOURCE: "with an explicit deny in a resource-based policy",
    AuthzReason.EXPLICIT_DENY_BOUNDARY: "with an explicit deny in a permissions boundary",
    AuthzReason.EXPLICIT_DENY_SESSION: "with an explicit deny in a session policy",
}
_IMPLICIT = {
    AuthzReason.NO_IDENTITY_ALLOW: "because no identity-based policy allows the {action} action",
    AuthzReason.NO_RESOURCE_ALLOW: "because no resource-based policy allows the {action} action",
    AuthzReason.NO_BOUNDARY_ALLOW: "because no permissions boundary allows the {action} action",
    AuthzReason.NO_SESSION_ALLOW: "because no session policy allows the {action} action",
}


@dataclass(frozen=True, slots=True)
class AuthzResult:
    allowed: bool
    decision: Decision  # ALLOW, DENY (explicit) or NOT_APPLICABLE (implicit deny)
    reason: AuthzReason
    trust: bool = False  # the resource policy was a role trust policy (changes the wording)

    def __bool__(self) -> bool:
        return self.allowed

    def explanation(self, action: str) -> str | None:
        """AWS's tail for AccessDenied texts, e.g. ``because no identity-based policy allows
        the sts:AssumeRole action``; None when allowed."""
        if self.allowed:
            return None
        if self.trust and self.reason is AuthzReason.NO_RESOURCE_ALLOW:
            return f"because no role trust policy allows the {action} action"
        if self.trust and self.reason is AuthzReason.EXPLICIT_DENY_RESOURCE:
            return "with an explicit deny in the role trust policy"
        if self.reason in _EXPLICIT:
            return _EXPLICIT[self.reason]
        return _IMPLICIT[self.reason].format(action=action)


def combine(policies: Iterable[Policy], request: Request) -> Decision:
    """One decision for a group of policies of the same type."""
    allowed = False
    for policy in policies:
        d = policy.evaluate(request)
        if d is Decision.DENY:
            return Decision.DENY
        if d is Decision.ALLOW:
            allowed = True
    return Decision.ALLOW if allowed else Decision.NOT_APPLICABLE


def _resource_grant(policies: Sequence[Policy], request: Request) -> ResourceGrant:
    if len(policies) == 1:  # the usual case (a role's trust policy): nothing to rank
        return policies[0].grant(request)
    rank = _RANK
    best = ResourceGrant.NOT_APPLICABLE
    for policy in policies:
        g = policy.grant(request)
        if g is ResourceGrant.DENY:
            return g
        if rank[g] > rank[best]:
            best = g
    return best


_RANK = {
    ResourceGrant.NOT_APPLICABLE: 0,
    ResourceGrant.ALLOW_ACCOUNT: 1,
    ResourceGrant.ALLOW_ROLE: 2,
    ResourceGrant.ALLOW_PUBLIC: 3,
    ResourceGrant.ALLOW_PRINCIPAL: 4,
}


def authorize(
    request: Request,
    *,
    identity: Sequence[Policy],
    resource: Sequence[Policy] = (),
    boundary: Sequence[Policy] | None = None,
    session: Sequence[Policy] | None = None,
    same_account: bool,
    resource_required: bool = False,
) -> AuthzResult:
    """Decide ``request`` from every policy type that applies to it.

    ``boundary=None``: no permissions boundary. ``session=None``: not a session with session
    policies; ``session=[]``: a session whose policy list is empty, so nothing is allowed
    through it (GetFederationToken without a policy).
    """
    reason = _decide(request, identity, resource, boundary, session, same_account, resource_required)
    trust = resource_required or any(p.kind is _TRUST for p in resource)
    return _RESULTS[reason, trust]


def _decide(
    request: Request,
    identity: Sequence[Policy],
    resource: Sequence[Policy],
    boundary: Sequence[Policy] | None,
    session: Sequence[Policy] | None,
    same_account: bool,
    resource_required: bool,
) -> AuthzReason:
    who = request.principal
    root = who is not None and who.is_root
    id_decision = combine(identity, request)
    if id_decision is _DENY:
        return R.EXPLICIT_DENY_IDENTITY
    grant = _resource_grant(resource, request)
    if grant is G.DENY:
        return R.EXPLICIT_DENY_RESOURCE
    boundary_ok = session_ok = True
    if boundary is not None and not root:
        b = combine(boundary, request)
        if b is _DENY:
            return R.EXPLICIT_DENY_BOUNDARY
        boundary_ok = b is _ALLOW
    if session is not None and not root:
        s = combine(session, request)
        if s is _DENY:
            return R.EXPLICIT_DENY_SESSION
        session_ok = s is _ALLOW
    identity_ok = root or id_decision is _ALLOW

    if who is None or who.service is not None or who.federated is not None:
        # Anonymous callers, AWS services and IdP-federated callers have no identity policies:
        # the resource policy alone decides.
        return R.NO_RESOURCE_ALLOW if grant is G.NOT_APPLICABLE else R.ALLOWED_BY_RESOURCE

    if same_account:
        if grant is G.ALLOW_PRINCIPAL or grant is G.ALLOW_PUBLIC:
            return R.ALLOWED_BY_RESOURCE  # not limited by identity, boundary or session policies
        if grant is G.ALLOW_ROLE:
            if not boundary_ok:
                return R.NO_BOUNDARY_ALLOW
            return R.ALLOWED_BY_RESOURCE if session_ok else R.NO_SESSION_ALLOW
        if grant is G.NOT_APPLICABLE and resource_required:
            return R.NO_RESOURCE_ALLOW
    if not identity_ok:
        return R.NO_IDENTITY_ALLOW
    if not boundary_ok:
        return R.NO_BOUNDARY_ALLOW
    if not session_ok:
        return R.NO_SESSION_ALLOW
    if same_account:
        return R.ALLOWED_BY_IDENTITY
    return R.NO_RESOURCE_ALLOW if grant is G.NOT_APPLICABLE else R.ALLOWED_CROSS_ACCOUNT


R = AuthzReason
G = ResourceGrant
_ALLOW, _DENY, _TRUST = Decision.ALLOW, Decision.DENY, PolicyKind.TRUST


def _decision(reason: AuthzReason) -> Decision:
    if reason.name.startswith("ALLOWED"):
        return Decision.ALLOW
    if reason.name.startswith("EXPLICIT"):
        return Decision.DENY
    return Decision.NOT_APPLICABLE


# Results are immutable, so every (reason, trust) pair is built once.
_RESULTS = {
    (reason, trust): AuthzResult(_decision(reason) is Decision.ALLOW, _decision(reason), reason, trust)
    for reason in AuthzReason
    for trust in (False, True)
}
