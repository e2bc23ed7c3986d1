"""GetSessionToken: temporary credentials for an IAM user or the root, optionally with MFA.

Durations: users 900..129600 s (default 43200); root 900..3600 (default 3600, longer requests
silently capped). Session credentials cannot call it. No permission is required.
"""

from __future__ import annotations

from typing import Any

from stsd.actions.base import STS, Action
from stsd.auth import principal as p
from stsd.errors import AccessDenied
from stsd.protocol.params import Int, Str
from stsd.protocol.render import Node
from stsd.regions.rules import require_sts_active
from stsd.server.context import RequestContext
from stsd.sts.sessions import check_mfa, mint
from stsd.tokens import claims as kinds

PARAMS = (
    Int("DurationSeconds", "durationSeconds", min=900, max=129600),
    Str("SerialNumber", "serialNumber", min=9, max=256, pattern="[\\w+=/:,.@-]*"),
    Str("TokenCode", "tokenCode", min=6, max=6, pattern="[\\d]*"),
)
ROOT_MAX = 3600
USER_DEFAULT = 43200


def handle(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    caller = ctx.caller()
    if caller.is_session:
        raise AccessDenied("Cannot call GetSessionToken with session credentials")
    require_sts_active(ctx, issuing_account=caller.account, caller_account=caller.account)
    mfa = check_mfa(ctx, caller, params.get("SerialNumber"), params.get("TokenCode"))
    if caller.kind == p.ROOT:
        duration = min(params.get("DurationSeconds", ROOT_MAX), ROOT_MAX)
        claims = {"kind": kinds.ROOT, "account": caller.account, "name": "", "principal_id": caller.account}
    else:
        assert caller.user is not None
        duration = params.get("DurationSeconds", USER_DEFAULT)
        claims = {"kind": kinds.USER, "account": caller.account, "name": caller.user.name,
                  "principal_id": caller.user.id}
    credentials = mint(ctx, {**claims, "session_name": "", "mfa": mfa}, duration)
    return [("Credentials", credentials)]


ACTION = Action("GetSessionToken", STS, PARAMS, handle)
