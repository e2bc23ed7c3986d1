"""GetAccessKeyInfo: the account that owns an access key id, decoded from the id itself
(so it answers for deleted and foreign keys too, as AWS does)."""

from __future__ import annotations

from typing import Any

from stsd import ids
from stsd.actions.base import STS, Action
from stsd.auth import principal as p
from stsd.auth.authorize import authorize_identity
from stsd.errors import InvalidParameterValue
from stsd.protocol.params import Str
from stsd.protocol.render import Node
from stsd.server.context import RequestContext
from stsd.sts.sessions import not_authorized

PARAMS = (Str("AccessKeyId", "accessKeyId", required=True, min=16, max=128, pattern="[\\w]*"),)


def handle(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    caller = ctx.caller()
    if caller.session is not None and caller.kind in (p.USER, p.ROOT, p.FEDERATED_USER):
        # GetSessionToken credentials may call only AssumeRole and GetCallerIdentity in STS,
        # GetFederationToken credentials only GetCallerIdentity, whatever their policies say.
        raise not_authorized(caller, "sts:GetAccessKeyInfo")
    verdict = authorize_identity(ctx, caller, "sts:GetAccessKeyInfo", "*")
    if verdict is not None and not verdict.allowed:
        raise not_authorized(caller, "sts:GetAccessKeyInfo")
    key_id = params["AccessKeyId"]
    account = ids.account_from_access_key_id(key_id)
    if account is None:
        # Legacy AKIAI…/AKIAJ… ids carry no account; stsd never issued one.
        raise InvalidParameterValue(f"The access key ID {key_id} is not valid.")
    return [("Account", account)]


ACTION = Action("GetAccessKeyInfo", STS, PARAMS, handle)
