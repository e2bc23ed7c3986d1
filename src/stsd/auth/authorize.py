"""Authorisation of a principal's call: gathers the policies that apply to the caller and
the request's global condition keys, and asks the policy engine.

Parsed policies come from the engine's cache (keyed by document text), so this is dict
lookups on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stsd.auth import principal as p
from stsd.policy import AuthzResult, Policy, PolicyKind, PrincipalRef, Request, authorize, parse_policy
from stsd.policy.conditions import merge_context, normalize_context
from stsd.server.context import RequestContext
from stsd.store.directory import RoleView, UserView


@dataclass(frozen=True, slots=True)
class PolicySet:
    identity: tuple[Policy, ...]
    boundary: tuple[Policy, ...] | None
    session: tuple[Policy, ...] | None


def _managed(ctx: RequestContext, arns: tuple[str, ...]) -> list[Policy]:
    out = []
    for arn in arns:
        policy = ctx.runtime.directory.managed_policy(arn)
        if policy is not None:
            out.append(parse_policy(policy.document, PolicyKind.IDENTITY))
    return out


def _owner_policies(
    ctx: RequestContext, owner: UserView | RoleView
) -> tuple[tuple[Policy, ...], tuple[Policy, ...] | None]:
    identity = [parse_policy(doc, PolicyKind.IDENTITY) for doc in owner.inline_policies.values()]
    identity += _managed(ctx, owner.attached)
    boundary = None
    if owner.permissions_boundary:
        boundary = tuple(_managed(ctx, (owner.permissions_boundary,)))
    return tuple(identity), boundary


def policy_set(ctx: RequestContext, caller: p.Principal) -> PolicySet:
    session = None
    if caller.session is not None and caller.kind in (p.ASSUMED_ROLE, p.FEDERATED_USER):
        claims = caller.session
        docs = [parse_policy(claims.policy, PolicyKind.SESSION)] if claims.policy else []
        docs += _managed(ctx, claims.policy_arns)
        # Federated sessions without a session policy have no permissions at all; role
        # sessions without one are bounded only by the role.
        if docs or caller.kind == p.FEDERATED_USER:
            session = tuple(docs)
    owner: UserView | RoleView | None = caller.role if caller.kind == p.ASSUMED_ROLE else caller.user
    if owner is None:
        return PolicySet((), None, session)
    identity, boundary = _owner_policies(ctx, owner)
    return PolicySet(identity, boundary, session)


def principal_ref(caller: p.Principal) -> PrincipalRef:
    return PrincipalRef(account=caller.account, arns=caller.match_arns(), unique_id=caller.unique_id)


def principal_tags(caller: p.Principal) -> dict[str, str]:
    """aws:PrincipalTag: the user's or role's tags, overridden by session tags (any case)."""
    owner = caller.role if caller.kind == p.ASSUMED_ROLE else caller.user
    tags: dict[str, tuple[str, str]] = {}
    for key, value in owner.tags if owner else ():
        tags[key.lower()] = (key, value)
    if caller.session is not None:
        for key, value in caller.session.tags:
            tags[key.lower()] = (key, value)
    return {key: value for key, value in tags.values()}


def global_context(ctx: RequestContext, caller: p.Principal | None) -> dict[str, Any]:
    """Every global condition key of the request, as written (mixed case)."""
    keys = _request_keys(ctx)
    if caller is not None:
        keys.update(_principal_keys(caller))
        keys.update(_session_age(ctx, caller))
    return keys


_REQUEST_KEYS = (
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:SourceIp",
    "aws:RequestedRegion",
    "aws:SecureTransport",
    "aws:UserAgent",
    "aws:ViaAWSService",
)
_REQUEST_KEYS_LC = tuple(key.lower() for key in _REQUEST_KEYS)


def _request_values(ctx: RequestContext) -> tuple[Any, ...]:
    now = ctx.now
    return (now, int(now.timestamp()), ctx.source_ip, ctx.requested_region, ctx.secure, ctx.user_agent, False)


def _request_keys(ctx: RequestContext) -> dict[str, Any]:
    return dict(zip(_REQUEST_KEYS, _request_values(ctx), strict=True))


def _principal_keys(caller: p.Principal) -> dict[str, Any]:
    """The keys that depend on the caller alone (not on the request or the clock)."""
    keys: dict[str, Any] = {
        "aws:PrincipalAccount": caller.account,
        "aws:PrincipalArn": caller.role.arn if caller.role is not None else caller.arn,
        "aws:PrincipalType": _PRINCIPAL_TYPES[caller.kind],
        "aws:userid": caller.user_id,
    }
    if caller.kind == p.USER:
        keys["aws:username"] = caller.name
    for key, value in principal_tags(caller).items():
        keys[f"aws:PrincipalTag/{key}"] = value
    session = caller.session
    if session is not None:
        keys["aws:TokenIssueTime"] = datetime.fromtimestamp(session.issued_at, UTC)
        keys["aws:MultiFactorAuthPresent"] = session.mfa
        if session.source_identity:
            keys["aws:SourceIdentity"] = session.source_identity
        if session.federated_provider:
            keys["aws:FederatedProvider"] = session.federated_provider
    return keys


def request_tag_keys(tags: list[dict[str, str]]) -> dict[str, Any]:
    """aws:RequestTag/<key> and aws:TagKeys of a call that sets tags (none: no keys)."""
    if not tags:
        return {}
    keys: dict[str, Any] = {f"aws:RequestTag/{tag['Key']}": tag["Value"] for tag in tags}
    keys["aws:TagKeys"] = [tag["Key"] for tag in tags]
    return keys


def _session_age(ctx: RequestContext, caller: p.Principal) -> dict[str, Any]:
    session = caller.session
    if session is not None and session.mfa:
        return {"aws:MultiFactorAuthAge": int(ctx.now.timestamp()) - session.issued_at}
    return {}


_PRINCIPAL_TYPES = {
    p.ROOT: "Account",
    p.USER: "User",
    p.ASSUMED_ROLE: "AssumedRole",
    p.FEDERATED_USER: "FederatedUser",
}


@dataclass(frozen=True, slots=True)
class _CallerAuthz:
    policies: PolicySet
    ref: PrincipalRef
    keys: dict[str, object]  # _principal_keys, normalised for the engine


def _caller_authz(ctx: RequestContext, caller: p.Principal) -> _CallerAuthz:
    """Per-caller authorisation data, memoised on the principal: authentication hands out
    one principal per directory snapshot, so a change to the caller's policies, tags or role
    (a new snapshot) gets a new principal and a fresh computation."""
    found = caller.memo.get("authz")
    if found is None:
        found = _CallerAuthz(policy_set(ctx, caller), principal_ref(caller), normalize_context(_principal_keys(caller)))
        caller.memo["authz"] = found
    return found


def _request_context(ctx: RequestContext) -> dict[str, object]:
    """The request's own keys, normalised, computed once per request."""
    found = ctx.condition_keys
    if found is None:
        values = _request_values(ctx)
        if None in values:  # normalize_context drops those
            found = normalize_context(_request_keys(ctx))
        else:  # scalars only: normalising is lower-casing the names, done once above
            found = dict(zip(_REQUEST_KEYS_LC, values, strict=True))
        ctx.condition_keys = found
    return found


def authorize_identity(
    ctx: RequestContext,
    caller: p.Principal,
    action: str,
    resource: str,
    extra: dict[str, Any] | None = None,
    *,
    resource_policies: tuple[Policy, ...] = (),
    resource_account: str | None = None,
    resource_required: bool = False,
) -> AuthzResult | None:
    """None means "allowed without evaluation" (the account root acting in its own account)."""
    same_account = (resource_account or caller.account) == caller.account
    if caller.kind == p.ROOT and caller.session is None and same_account and not resource_required:
        return None
    data = _caller_authz(ctx, caller)
    context = {**data.keys, **_request_context(ctx)}
    if caller.session is not None and caller.session.mfa:
        context.update(normalize_context(_session_age(ctx, caller)))
    if extra:
        merge_context(context, extra)
    request = Request.prepared(action, resource, data.ref, context)
    policies = data.policies
    identity = policies.identity
    if caller.kind == p.ROOT or (caller.kind == p.FEDERATED_USER and caller.user is None):
        # The root, and a session the root federated: its session policies alone bound it.
        identity = (ROOT_ALLOW_ALL,)
    return authorize(
        request,
        identity=identity,
        resource=resource_policies,
        boundary=policies.boundary,
        session=policies.session,
        same_account=same_account,
        resource_required=resource_required,
    )


ROOT_ALLOW_ALL = parse_policy(
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
    PolicyKind.IDENTITY,
)
