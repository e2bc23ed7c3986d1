"""IAM roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateAssumeRolePolicy, DeleteRole."""

from __future__ import annotations

from typing import Any

from stsd.actions.base import IAM, Action
from stsd.iam import api
from stsd.policy import PolicyKind
from stsd.protocol.params import Int
from stsd.protocol.render import Node
from stsd.server.context import RequestContext

MAX_SESSION = Int("MaxSessionDuration", "maxSessionDuration", min=3600, max=43200)


def _trust(ctx: RequestContext, document: str) -> None:
    api.check_policy(document, PolicyKind.TRUST)
    api.check_trust_principals(ctx, document)


def create_role(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    name, path = params["RoleName"], params.get("Path", "/")
    api.authorize(ctx, "iam:CreateRole", api.resource_arn(ctx, "role", name, path))
    document = params["AssumeRolePolicyDocument"]
    _trust(ctx, document)
    account_id = ctx.caller().account
    ctx.runtime.iam.create_role(
        account_id, name, path, document, params.get("Description"), params.get("MaxSessionDuration", 3600),
        params.get("PermissionsBoundary"), api.tag_list(params),
    )
    return [("Role", api.role_node(api.require_role(ctx.runtime.directory.account(account_id), name)))]


def get_role(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    name = params["RoleName"]
    account = api.authorize(ctx, "iam:GetRole", api.resource_arn(ctx, "role", name))
    return [("Role", api.role_node(api.require_role(account, name)))]


def list_roles(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    account = api.authorize(ctx, "iam:ListRoles", api.resource_arn(ctx, "role", ""))
    prefix = params.get("PathPrefix", "/")
    roles = sorted((r for r in account.roles.values() if r.path.startswith(prefix)), key=lambda r: r.name.lower())
    return api.list_result("Roles", [api.role_node(r) for r in roles])


def update_role(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    name = params["RoleName"]
    api.authorize(ctx, "iam:UpdateRole", api.resource_arn(ctx, "role", name))
    ctx.runtime.iam.update_role(ctx.caller().account, name, params.get("Description"),
                                params.get("MaxSessionDuration"))
    return []


def update_assume_role_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["RoleName"]
    api.authorize(ctx, "iam:UpdateAssumeRolePolicy", api.resource_arn(ctx, "role", name))
    document = params["PolicyDocument"]
    _trust(ctx, document)
    ctx.runtime.iam.update_trust_policy(ctx.caller().account, name, document)


def delete_role(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["RoleName"]
    api.authorize(ctx, "iam:DeleteRole", api.resource_arn(ctx, "role", name))
    ctx.runtime.iam.delete_role(ctx.caller().account, name)


ACTIONS = (
    Action("CreateRole", IAM, (api.path(), api.role_name(), api.policy_document("AssumeRolePolicyDocument"),
                               api.description(), MAX_SESSION, api.policy_arn("PermissionsBoundary", False),
                               api.TAGS), create_role, blocking=True, read_only=False),
    Action("GetRole", IAM, (api.role_name(),), get_role),
    Action("ListRoles", IAM, (api.path("PathPrefix"), api.marker(), api.max_items()), list_roles),
    Action("UpdateRole", IAM, (api.role_name(), api.description(), MAX_SESSION), update_role, blocking=True,
           read_only=False),
    Action("UpdateAssumeRolePolicy", IAM, (api.role_name(), api.policy_document()), update_assume_role_policy,
           blocking=True, read_only=False),
    Action("DeleteRole", IAM, (api.role_name(),), delete_role, blocking=True, read_only=False),
)
