"""Managed policies: CreatePolicy, GetPolicy, GetPolicyVersion, ListPolicies, DeletePolicy,
Attach/Detach/ListAttached {Role,User} policies."""

from __future__ import annotations

from typing import Any

from stsd import ids
from stsd.actions.iam.pagination import paginate
from stsd.errors import NoSuchEntity, ValidationError
from stsd.iam import api
from stsd.policy import PolicyKind
from stsd.protocol.params import Bool, Str
from stsd.protocol.render import Node
from stsd.server.context import RequestContext
from stsd.store.directory import AccountView, ManagedPolicyView

SCOPE = Str("Scope", "scope", choices=("All", "AWS", "Local"))
VERSION_ID = Str("VersionId", "versionId", required=True, pattern="v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?")
MSG_NOT_FOUND = "Policy {arn} was not found."
MSG_NOT_ATTACHABLE = "Policy {arn} does not exist or is not attachable."
MSG_NO_VERSION = "Policy {arn} version {version} does not exist or is not attachable."
MSG_BAD_ARN = "ARN {arn} is not valid."


def _visible(ctx: RequestContext, arn: str) -> ManagedPolicyView | None:
    """The policy when it is the caller's own or AWS-managed."""
    policy = ctx.runtime.directory.managed_policy(arn)
    if policy is None or policy.account not in ("aws", ctx.caller().account):
        return None
    return policy


def _shown(arn: str) -> str:
    return f"policy {arn}"


def create_policy(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    name, path = params["PolicyName"], params.get("Path", "/")
    api.authorize(ctx, "iam:CreatePolicy", api.resource_arn(ctx, "policy", name, path), f"policy {name}",
                  request_tags=api.tag_list(params))
    api.check_policy(params["PolicyDocument"], PolicyKind.IDENTITY, managed=True)
    account_id = ctx.caller().account
    arn = ctx.runtime.iam.create_policy(account_id, name, path, params["PolicyDocument"],
                                        params.get("Description"), api.tag_list(params))
    account = ctx.runtime.directory.account(account_id)
    policy = account.policies[arn]
    return [("Policy", api.policy_node(policy, account, api.POLICY_CREATED))]


def get_policy(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    arn = params["PolicyArn"]
    account = api.authorize(ctx, "iam:GetPolicy", arn, _shown(arn))
    policy = _visible(ctx, arn)
    if policy is None:
        raise NoSuchEntity(MSG_NOT_FOUND.format(arn=arn))
    return [("Policy", api.policy_node(policy, account))]


def get_policy_version(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    arn, version = params["PolicyArn"], params["VersionId"]
    api.authorize(ctx, "iam:GetPolicyVersion", arn, _shown(arn))
    policy = _visible(ctx, arn)
    if policy is None or version not in policy.versions:
        raise NoSuchEntity(MSG_NO_VERSION.format(arn=arn, version=version))
    return [("PolicyVersion", [
        ("Document", api.encoded(policy.versions[version])),
        ("VersionId", version),
        ("IsDefaultVersion", version == policy.default_version),
        ("CreateDate", policy.created_at),
    ])]


def list_policies(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    prefix = params.get("PathPrefix", "/")
    account = api.authorize(ctx, "iam:ListPolicies", api.resource_arn(ctx, "policy", "", "/"),
                            f"policy path {prefix}")
    scope = params.get("Scope", "All")
    found: list[ManagedPolicyView] = []
    if scope in ("All", "AWS"):
        found += ctx.runtime.directory.aws_policies().values()
    if scope in ("All", "Local"):
        found += account.policies.values()
    only_attached = params.get("OnlyAttached", False)
    listed = [policy for policy in sorted(found, key=lambda p: p.name.lower())
              if policy.path.startswith(prefix) and (not only_attached or account.attachment_count(policy.arn))]
    page = paginate(ctx, params, "ListPolicies", listed, lambda p: p.arn, scope, str(only_attached), prefix)
    return page.result("Policies", lambda p: api.policy_node(p, account, api.POLICY_LISTED))


def delete_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    arn = params["PolicyArn"]
    api.authorize(ctx, "iam:DeletePolicy", arn, _shown(arn))
    ctx.runtime.iam.delete_policy(ctx.caller().account, arn)


def _check_arn(arn: str) -> None:
    if ids.split_arn(arn) is None:
        raise ValidationError(MSG_BAD_ARN.format(arn=arn))


def _attach(owner_type: str, title: str):
    def handle(ctx: RequestContext, params: dict[str, Any]) -> None:
        name, arn = params[f"{title}Name"], params["PolicyArn"]
        api.authorize(ctx, f"iam:Attach{title}Policy", *api.target(ctx, owner_type, name))
        _check_arn(arn)
        ctx.runtime.iam.attach_policy(ctx.caller().account, owner_type, name, arn)
    return handle


def _detach(owner_type: str, title: str):
    def handle(ctx: RequestContext, params: dict[str, Any]) -> None:
        name, arn = params[f"{title}Name"], params["PolicyArn"]
        api.authorize(ctx, f"iam:Detach{title}Policy", *api.target(ctx, owner_type, name))
        _check_arn(arn)
        ctx.runtime.iam.detach_policy(ctx.caller().account, owner_type, name, arn)
    return handle


def _owner(account: AccountView, owner_type: str, name: str) -> Any:
    return api.require_role(account, name) if owner_type == "role" else api.require_user(account, name)


def _list_attached(owner_type: str, title: str):
    def handle(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
        name = params[f"{title}Name"]
        account = api.authorize(ctx, f"iam:ListAttached{title}Policies", *api.target(ctx, owner_type, name))
        owner = _owner(account, owner_type, name)
        prefix = params.get("PathPrefix", "/")
        policies = [policy for policy in map(ctx.runtime.directory.managed_policy, owner.attached)
                    if policy is not None and policy.path.startswith(prefix)]
        page = paginate(ctx, params, f"ListAttached{title}Policies", policies, lambda p: p.arn,
                        owner.name.lower(), prefix)
        return page.result("AttachedPolicies", lambda p: [("PolicyName", p.name), ("PolicyArn", p.arn)])
    return handle


def _family() -> tuple:
    out = []
    for owner_type, title, name_param in (("role", "Role", api.role_name), ("user", "User", api.user_name)):
        owner = name_param()
        out += [
            api.action(f"Attach{title}Policy", (owner, api.policy_arn()), _attach(owner_type, title), write=True),
            api.action(f"Detach{title}Policy", (owner, api.policy_arn()), _detach(owner_type, title), write=True),
            api.action(f"ListAttached{title}Policies", (owner, api.path("PathPrefix"), api.marker(),
                                                       api.max_items()), _list_attached(owner_type, title)),
        ]
    return tuple(out)


ACTIONS = (
    api.action("CreatePolicy", (api.policy_name(), api.path(), api.policy_document(), api.description(),
                                api.TAGS), create_policy, write=True),
    api.action("GetPolicy", (api.policy_arn(),), get_policy),
    api.action("GetPolicyVersion", (api.policy_arn(), VERSION_ID), get_policy_version),
    api.action("ListPolicies", (SCOPE, Bool("OnlyAttached", "onlyAttached"), api.path("PathPrefix"),
                                api.marker(), api.max_items()), list_policies),
    api.action("DeletePolicy", (api.policy_arn(),), delete_policy, write=True),
    *_family(),
)
