"""IAM roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateAssumeRolePolicy, DeleteRole."""

from __future__ import annotations

from typing import Any

from stsd.actions.iam.pagination import paginate
from stsd.iam import api
from stsd.policy import PolicyKind
from stsd.protocol.params import Int
from stsd.protocol.render import Node
from stsd.server.context import RequestContext

MAX_SESSION = Int("MaxSessionDuration", "maxSessionDuration", min=3600, max=43200)


def _trust(ctx: RequestContext, document: str) -> None:
    api.check_policy(document, PolicyKind.TRUST)
    api.check_trust_actions(document)
    api.check_trust_principals(ctx, document)


def create_role(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    name, path = params["RoleName"], params.get("Path", "/")
    api.authorize(ctx, "iam:CreateRole", api.resource_arn(ctx, "role", name, path),
                  request_tags=api.tag_list(params))
    document = params["AssumeRolePolicyDocument"]
    _trust(ctx, document)
    boundary = params.get("PermissionsBoundary")
    api.check_boundary(ctx, boundary)
    account_id = ctx.caller().account
    ctx.runtime.iam.create_role(
        account_id, name, path, document, params.get("Description"), params.get("MaxSessionDuration", 3600),
        boundary, api.tag_list(params),
    )
    role = api.require_role(ctx.runtime.directory.account(account_id), name)
    return [("Role", api.role_node(role, api.ROLE_CREATED))]


def get_role(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    name = params["RoleName"]
    account = api.authorize(ctx, "iam:GetRole", *api.target(ctx, "role", name))
    return [("Role", api.role_node(api.require_role(account, name)))]


def list_roles(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    account = api.authorize(ctx, "iam:ListRoles", api.resource_arn(ctx, "role", "", "/"))
    prefix = params.get("PathPrefix", "/")
    roles = sorted((r for r in account.roles.values() if r.path.startswith(prefix)), key=lambda r: r.name.lower())
    page = paginate(ctx, params, "ListRoles", roles, lambda r: r.name.lower(), prefix)
    return page.result("Roles", lambda r: api.role_node(r, api.ROLE_LISTED))


def update_role(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    name = params["RoleName"]
    api.authorize(ctx, "iam:UpdateRole", *api.target(ctx, "role", name))
    ctx.runtime.iam.update_role(ctx.caller().account, name, params.get("Description"),
                                params.get("MaxSessionDuration"))
    return []


def update_assume_role_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["RoleName"]
    api.authorize(ctx, "iam:UpdateAssumeRolePolicy", *api.target(ctx, "role", name))
    document = params["PolicyDocument"]
    _trust(ctx, document)
    ctx.runtime.iam.update_trust_policy(ctx.caller().account, name, document)


def delete_role(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["RoleName"]
    api.authorize(ctx, "iam:DeleteRole", *api.target(ctx, "role", name))
    ctx.runtime.iam.delete_role(ctx.caller().account, name)


ACTIONS = (
    api.action("CreateRole", (api.path(), api.role_name(), api.policy_document("AssumeRolePolicyDocument"),
                              api.description(), MAX_SESSION, api.policy_arn("PermissionsBoundary", False),
                              api.TAGS), create_role, write=True),
    api.action("GetRole", (api.role_name(),), get_role),
    api.action("ListRoles", (api.path("PathPrefix"), api.marker(), api.max_items()), list_roles),
    api.action("UpdateRole", (api.role_name(), api.description(), MAX_SESSION), update_role, write=True),
    api.action("UpdateAssumeRolePolicy", (api.role_name(), api.policy_document()), update_assume_role_policy,
               write=True),
    api.action("DeleteRole", (api.role_name(),), delete_role, write=True),
)
