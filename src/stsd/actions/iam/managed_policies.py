"""Managed policies: CreatePolicy, GetPolicy, GetPolicyVersion, ListPolicies, DeletePolicy,
Attach/Detach/ListAttached {Role,User} policies."""

from __future__ import annotations

from typing import Any

from stsd.actions.base import IAM, Action
from stsd.errors import NoSuchEntity
from stsd.iam import api
from stsd.policy import PolicyKind
from stsd.protocol.params import Bool, Str
from stsd.protocol.render import Members, Node
from stsd.server.context import RequestContext
from stsd.store.directory import ManagedPolicyView

SCOPE = Str("Scope", "scope", choices=("All", "AWS", "Local"))
VERSION_ID = Str("VersionId", "versionId", required=True, pattern="v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?")


def _policy(ctx: RequestContext, arn: str) -> ManagedPolicyView:
    policy = ctx.runtime.directory.managed_policy(arn)
    if policy is None:
        raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
    return policy


def _attachments(ctx: RequestContext, policy: ManagedPolicyView) -> int:
    account = ctx.runtime.directory.account(ctx.caller().account)
    return account.attachment_count(policy.arn) if account else 0


def create_policy(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    name, path = params["PolicyName"], params.get("Path", "/")
    api.authorize(ctx, "iam:CreatePolicy", api.resource_arn(ctx, "policy", name, path))
    api.check_policy(params["PolicyDocument"], PolicyKind.IDENTITY)
    arn = ctx.runtime.iam.create_policy(ctx.caller().account, name, path, params["PolicyDocument"],
                                        params.get("Description"))
    return [("Policy", api.policy_node(_policy(ctx, arn), 0))]


def get_policy(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    arn = params["PolicyArn"]
    api.authorize(ctx, "iam:GetPolicy", arn)
    policy = _policy(ctx, arn)
    return [("Policy", api.policy_node(policy, _attachments(ctx, policy)))]


def get_policy_version(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    arn, version = params["PolicyArn"], params["VersionId"]
    api.authorize(ctx, "iam:GetPolicyVersion", arn)
    policy = _policy(ctx, arn)
    if version not in policy.versions:
        raise NoSuchEntity(f"Policy {arn} version {version} does not exist or is not attachable.")
    return [("PolicyVersion", [
        ("Document", api.encoded(policy.versions[version])),
        ("VersionId", version),
        ("IsDefaultVersion", version == policy.default_version),
        ("CreateDate", policy.created_at),
    ])]


def list_policies(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    account = api.authorize(ctx, "iam:ListPolicies", api.resource_arn(ctx, "policy", ""))
    scope = params.get("Scope", "All")
    found: list[ManagedPolicyView] = []
    if scope in ("All", "AWS"):
        found += ctx.runtime.directory.aws_policies().values()
    if scope in ("All", "Local"):
        found += account.policies.values()
    prefix = params.get("PathPrefix", "/")
    rows = []
    for policy in sorted(found, key=lambda p: p.name.lower()):
        count = account.attachment_count(policy.arn)
        if policy.path.startswith(prefix) and (count or not params.get("OnlyAttached", False)):
            rows.append(api.policy_node(policy, count))
    return api.list_result("Policies", rows)


def delete_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    arn = params["PolicyArn"]
    api.authorize(ctx, "iam:DeletePolicy", arn)
    ctx.runtime.iam.delete_policy(ctx.caller().account, arn)


def _attach(owner_type: str, title: str):
    def handle(ctx: RequestContext, params: dict[str, Any]) -> None:
        name = params[f"{title}Name"]
        api.authorize(ctx, f"iam:Attach{title}Policy", api.resource_arn(ctx, owner_type, name))
        ctx.runtime.iam.attach_policy(ctx.caller().account, owner_type, name, params["PolicyArn"])
    return handle


def _detach(owner_type: str, title: str):
    def handle(ctx: RequestContext, params: dict[str, Any]) -> None:
        name = params[f"{title}Name"]
        api.authorize(ctx, f"iam:Detach{title}Policy", api.resource_arn(ctx, owner_type, name))
        ctx.runtime.iam.detach_policy(ctx.caller().account, owner_type, name, params["PolicyArn"])
    return handle


def _list_attached(owner_type: str, title: str):
    def handle(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
        name = params[f"{title}Name"]
        account = api.authorize(ctx, f"iam:ListAttached{title}Policies", api.resource_arn(ctx, owner_type, name))
        owner = api.require_role(account, name) if owner_type == "role" else api.require_user(account, name)
        rows = []
        for arn in owner.attached:
            policy = ctx.runtime.directory.managed_policy(arn)
            if policy is not None:
                rows.append([("PolicyName", policy.name), ("PolicyArn", arn)])
        return [("AttachedPolicies", Members(rows)), ("IsTruncated", False)]
    return handle


def _family() -> tuple[Action, ...]:
    out = []
    for owner_type, title, name_param in (("role", "Role", api.role_name), ("user", "User", api.user_name)):
        owner = name_param()
        out += [
            Action(f"Attach{title}Policy", IAM, (owner, api.policy_arn()), _attach(owner_type, title),
                   blocking=True, read_only=False),
            Action(f"Detach{title}Policy", IAM, (owner, api.policy_arn()), _detach(owner_type, title),
                   blocking=True, read_only=False),
            Action(f"ListAttached{title}Policies", IAM, (owner, api.path("PathPrefix"), api.marker(),
                                                          api.max_items()), _list_attached(owner_type, title)),
        ]
    return tuple(out)


ACTIONS = (
    Action("CreatePolicy", IAM, (api.policy_name(), api.path(), api.policy_document(), api.description(),
                                 api.TAGS), create_policy, blocking=True, read_only=False),
    Action("GetPolicy", IAM, (api.policy_arn(),), get_policy),
    Action("GetPolicyVersion", IAM, (api.policy_arn(), VERSION_ID), get_policy_version),
    Action("ListPolicies", IAM, (SCOPE, Bool("OnlyAttached", "onlyAttached"), api.path("PathPrefix"),
                                 api.marker(), api.max_items()), list_policies),
    Action("DeletePolicy", IAM, (api.policy_arn(),), delete_policy, blocking=True, read_only=False),
    *_family(),
)
