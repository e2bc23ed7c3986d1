"""IAM access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey.

Without ``UserName`` these act on the caller's own keys (the root's, for root callers)."""

from __future__ import annotations

from typing import Any

from stsd.actions.iam.pagination import paginate
from stsd.auth import principal as p
from stsd.iam import api
from stsd.protocol.params import Str
from stsd.protocol.render import Node
from stsd.server.context import RequestContext

KEY_ID = Str("AccessKeyId", "accessKeyId", required=True, min=16, max=128, pattern="[\\w]+")
STATUS = Str("Status", "status", required=True, choices=("Active", "Inactive", "Expired"))


def _owner(ctx: RequestContext, given: str | None) -> str | None:
    """The key owner's user name; None for the account root acting on its own keys."""
    if given is not None:
        return given
    caller = ctx.caller()
    return None if caller.kind == p.ROOT else api.caller_user_name(ctx, None)


def _target(ctx: RequestContext, owner: str | None) -> tuple[str, str]:
    if owner is None:
        arn = ctx.caller().arn
        return arn, arn
    return api.target(ctx, "user", owner)


def create_access_key(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    owner = _owner(ctx, params.get("UserName"))
    api.authorize(ctx, "iam:CreateAccessKey", *_target(ctx, owner))
    account_id = ctx.caller().account
    key_id, secret = ctx.runtime.iam.create_access_key(account_id, owner)
    key = ctx.runtime.directory.account(account_id).keys[key_id]
    return [("AccessKey", [
        ("UserName", key.user_name),
        ("AccessKeyId", key_id),
        ("Status", key.status),
        ("SecretAccessKey", secret),
        ("CreateDate", key.created_at),
    ])]


def list_access_keys(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    owner = _owner(ctx, params.get("UserName"))
    account = api.authorize(ctx, "iam:ListAccessKeys", *_target(ctx, owner))
    if owner is not None:
        owner = api.require_user(account, owner).name
    page = paginate(ctx, params, "ListAccessKeys", account.user_keys(owner), lambda k: k.id,
                    "" if owner is None else owner.lower())
    return page.result("AccessKeyMetadata", lambda k: [
        ("UserName", k.user_name), ("AccessKeyId", k.id), ("Status", k.status), ("CreateDate", k.created_at),
    ])


def update_access_key(ctx: RequestContext, params: dict[str, Any]) -> None:
    owner = _owner(ctx, params.get("UserName"))
    api.authorize(ctx, "iam:UpdateAccessKey", *_target(ctx, owner))
    ctx.runtime.iam.update_access_key(ctx.caller().account, params["AccessKeyId"], owner, params["Status"])


def delete_access_key(ctx: RequestContext, params: dict[str, Any]) -> None:
    owner = _owner(ctx, params.get("UserName"))
    api.authorize(ctx, "iam:DeleteAccessKey", *_target(ctx, owner))
    ctx.runtime.iam.delete_access_key(ctx.caller().account, params["AccessKeyId"], owner)


ACTIONS = (
    api.action("CreateAccessKey", (api.user_name(False),), create_access_key, write=True),
    api.action("ListAccessKeys", (api.user_name(False), api.marker(), api.max_items()), list_access_keys),
    api.action("UpdateAccessKey", (api.user_name(False), KEY_ID, STATUS), update_access_key, write=True),
    api.action("DeleteAccessKey", (api.user_name(False), KEY_ID), delete_access_key, write=True),
)
