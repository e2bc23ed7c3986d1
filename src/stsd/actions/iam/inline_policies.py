"""Inline policies of roles and users: Put/Get/Delete/List {Role,User}Policy."""

from __future__ import annotations

from typing import Any

from stsd.actions.base import Action
from stsd.actions.iam.pagination import paginate
from stsd.errors import NoSuchEntity
from stsd.iam import api
from stsd.policy import PolicyKind
from stsd.protocol.render import Node
from stsd.server.context import RequestContext

OWNERS = {"role": ("Role", api.role_name), "user": ("User", api.user_name)}


def _owner_name(owner_type: str, params: dict[str, Any]) -> str:
    return params["RoleName" if owner_type == "role" else "UserName"]


def _owner(ctx: RequestContext, owner_type: str, account: Any, name: str) -> Any:
    return api.require_role(account, name) if owner_type == "role" else api.require_user(account, name)


def _put(owner_type: str):
    def handle(ctx: RequestContext, params: dict[str, Any]) -> None:
        name = _owner_name(owner_type, params)
        api.authorize(ctx, f"iam:Put{OWNERS[owner_type][0]}Policy", *api.target(ctx, owner_type, name))
        api.check_policy(params["PolicyDocument"], PolicyKind.IDENTITY)
        ctx.runtime.iam.put_inline_policy(ctx.caller().account, owner_type, name, params["PolicyName"],
                                          params["PolicyDocument"])
    return handle


def _get(owner_type: str):
    def handle(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
        name, policy_name = _owner_name(owner_type, params), params["PolicyName"]
        title = OWNERS[owner_type][0]
        account = api.authorize(ctx, f"iam:Get{title}Policy", *api.target(ctx, owner_type, name))
        owner = _owner(ctx, owner_type, account, name)
        for stored_name, document in owner.inline_policies.items():
            if stored_name.lower() == policy_name.lower():
                return [(f"{title}Name", owner.name), ("PolicyName", stored_name),
                        ("PolicyDocument", api.encoded(document))]
        raise NoSuchEntity(f"The {owner_type} policy with name {policy_name} cannot be found.")
    return handle


def _delete(owner_type: str):
    def handle(ctx: RequestContext, params: dict[str, Any]) -> None:
        name = _owner_name(owner_type, params)
        api.authorize(ctx, f"iam:Delete{OWNERS[owner_type][0]}Policy", *api.target(ctx, owner_type, name))
        ctx.runtime.iam.delete_inline_policy(ctx.caller().account, owner_type, name, params["PolicyName"])
    return handle


def _list(owner_type: str):
    def handle(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
        name = _owner_name(owner_type, params)
        account = api.authorize(ctx, f"iam:List{OWNERS[owner_type][0]}Policies",
                                *api.target(ctx, owner_type, name))
        owner = _owner(ctx, owner_type, account, name)
        names = sorted(owner.inline_policies, key=str.lower)
        page = paginate(ctx, params, f"List{OWNERS[owner_type][0]}Policies", names, str.lower, owner.name.lower())
        return page.result("PolicyNames")
    return handle


def _actions() -> tuple[Action, ...]:
    out = []
    for owner_type, (title, name_param) in OWNERS.items():
        owner = name_param()
        pname = api.policy_name()
        out += [
            api.action(f"Put{title}Policy", (owner, pname, api.policy_document()), _put(owner_type), write=True),
            api.action(f"Get{title}Policy", (owner, pname), _get(owner_type)),
            api.action(f"Delete{title}Policy", (owner, pname), _delete(owner_type), write=True),
            api.action(f"List{title}Policies", (owner, api.marker(), api.max_items()), _list(owner_type)),
        ]
    return tuple(out)


ACTIONS = _actions()
