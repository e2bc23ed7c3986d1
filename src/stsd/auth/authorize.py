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
    keys: dict[str, Any] = {
        "aws:CurrentTime": ctx.now,
        "aws:EpochTime": int(ctx.now.timestamp()),
        "aws:SourceIp": ctx.source_ip,
        "aws:RequestedRegion": ctx.requested_region,
        "aws:SecureTransport": ctx.secure,
        "aws:UserAgent": ctx.user_agent,
        "aws:ViaAWSService": False,
    }
    if caller is None:
        return keys
    keys["aws:PrincipalAccount"] = caller.account
    keys["aws:PrincipalArn"] = caller.role.arn if caller.role is not None else caller.arn
    keys["aws:PrincipalType"] = {
        p.ROOT: "Account",
        p.USER: "User",
        p.ASSUMED_ROLE: "AssumedRole",
        p.FEDERATED_USER: "FederatedUser",
    }[caller.kind]
    keys["aws:userid"] = caller.user_id
    if caller.kind == p.USER:
        keys["aws:username"] = caller.name
    for key, value in principal_tags(caller).items():
        keys[f"aws:PrincipalTag/{key}"] = value
    session = caller.session
    if session is not None:
        keys["aws:TokenIssueTime"] = datetime.fromtimestamp(session.issued_at, UTC)
        keys["aws:MultiFactorAuthPresent"] = session.mfa
        if session.mfa:
            keys["aws:MultiFactorAuthAge"] = int(ctx.now.timestamp()) - session.issued_at
        if session.source_identity:
            keys["aws:SourceIdentity"] = session.source_identity
    return keys


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
    policies = policy_set(ctx, caller)
    context = global_context(ctx, caller)
    if extra:
        context.update(extra)
    request = Request(action=action, resource=resource, principal=principal_ref(caller), context=context)
    identity = policies.identity
    if caller.kind == p.ROOT:
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
