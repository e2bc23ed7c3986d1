"""GetCallerIdentity: who the credentials belong to. Needs no permission — AWS answers even
under an explicit deny — and works for every credential stsd issues."""

from __future__ import annotations

from typing import Any

from stsd.actions.base import STS, Action
from stsd.protocol.render import Node
from stsd.server.context import RequestContext


def handle(ctx: RequestContext, _params: dict[str, Any]) -> list[Node]:
    caller = ctx.caller()
    # Live element order is Arn, UserId, Account (the model lists UserId first).
    return [("Arn", caller.arn), ("UserId", caller.user_id), ("Account", caller.account)]


ACTION = Action("GetCallerIdentity", STS, (), handle)
