"""IAM users: CreateUser, GetUser, ListUsers, DeleteUser."""

from __future__ import annotations

from typing import Any

from stsd.actions.iam.pagination import paginate
from stsd.auth import principal as p
from stsd.iam import api
from stsd.protocol.render import Node
from stsd.server.context import RequestContext


def create_user(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    name, path = params["UserName"], params.get("Path", "/")
    arn = api.resource_arn(ctx, "user", name, path)
    api.authorize(ctx, "iam:CreateUser", arn, request_tags=api.tag_list(params))
    boundary = params.get("PermissionsBoundary")
    api.check_boundary(ctx, boundary)
    account_id = ctx.caller().account
    ctx.runtime.iam.create_user(account_id, name, path, api.tag_list(params), boundary)
    user = api.require_user(ctx.runtime.directory.account(account_id), name)
    return [("User", api.user_node(user))]


def get_user(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    caller = ctx.caller()
    if params.get("UserName") is None and caller.kind == p.ROOT:
        # The root user describes itself: its account id, root ARN and the account's
        # creation time (no Path or UserName), as `aws iam get-user` shows with root keys.
        account = ctx.runtime.directory.account(caller.account)
        created = account.created_at if account is not None else ctx.now
        return [("User", [("UserId", caller.account), ("Arn", caller.arn), ("CreateDate", created)])]
    name = api.caller_user_name(ctx, params.get("UserName"))
    account = api.authorize(ctx, "iam:GetUser", *api.target(ctx, "user", name))
    return [("User", api.user_node(api.require_user(account, name)))]


def list_users(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    account = api.authorize(ctx, "iam:ListUsers", api.resource_arn(ctx, "user", "", "/"))
    prefix = params.get("PathPrefix", "/")
    users = sorted((u for u in account.users.values() if u.path.startswith(prefix)), key=lambda u: u.name.lower())
    page = paginate(ctx, params, "ListUsers", users, lambda u: u.name.lower(), prefix)
    return page.result("Users", lambda u: api.user_node(u, listing=True))


def delete_user(ctx: RequestContext, params: dict[str, Any]) -> None:
    name = params["UserName"]
    api.authorize(ctx, "iam:DeleteUser", *api.target(ctx, "user", name))
    ctx.runtime.iam.delete_user(ctx.caller().account, name)


ACTIONS = (
    api.action("CreateUser", (api.path(), api.user_name(), api.policy_arn("PermissionsBoundary", False), api.TAGS),
               create_user, write=True),
    api.action("GetUser", (api.user_name(required=False),), get_user),
    api.action("ListUsers", (api.path("PathPrefix"), api.marker(), api.max_items()), list_users),
    api.action("DeleteUser", (api.user_name(),), delete_user, write=True),
)
