"""GetFederationToken: temporary credentials for a federated user, on behalf of an IAM user
(or the account root) calling with its long-term access key.

The session's ARN is ``arn:aws:sts::<account>:federated-user/<Name>`` and its UserId
``<account>:<Name>``. Its permissions are the intersection of the calling user's identity
policies and the session policies passed here (none passed: no permissions at all); it cannot
call IAM, nor any STS action but GetCallerIdentity (aws-sts-behaviour.md §1.4, §2.1).

Durations: 900..129600 s (default 43200); a root caller's session lasts at most one hour,
longer requests silently becoming 3600 (§1.5). Session credentials cannot call it (403
AccessDenied "Cannot call GetFederationToken with session credentials", §1.5).

Order of checks (as AssumeRole's): model constraints → session-policy grammar → PolicyArns
count → tag rules → caller kind → STS activation → authorisation (sts:GetFederationToken on
the federated user's ARN, then sts:TagSession when tags are passed: "In addition to the action
that matches the API operation, you must have ... sts:TagSession", IAM User Guide, "Passing
session tags in AWS STS") → packed size. Nothing is stored either way.
"""

from __future__ import annotations

from typing import Any

from stsd import ids
from stsd.actions.base import STS, Action
from stsd.auth import principal as p
from stsd.auth.authorize import authorize_identity, request_tag_keys
from stsd.errors import AccessDenied
from stsd.protocol.params import Int, Str
from stsd.protocol.render import Node
from stsd.regions.rules import require_sts_active
from stsd.server.context import RequestContext
from stsd.sts import sessions
from stsd.tokens import claims as kinds

PARAMS = (  # botocore model member order: Name, Policy, PolicyArns, DurationSeconds, Tags
    Str("Name", "name", required=True, min=2, max=32, pattern="[\\w+=,.@-]*"),
    sessions.session_policy_param(sessions.MAX_SESSION_POLICY_PLAINTEXT),  # 1..2048 in this model
    sessions.policy_arns_param(),
    Int("DurationSeconds", "durationSeconds", min=900, max=129600),
    sessions.tags_param(),
)
USER_DEFAULT = 43200
ROOT_MAX = 3600
MSG_SESSION_CREDENTIALS = "Cannot call GetFederationToken with session credentials"


def handle(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    name: str = params["Name"]
    policy, policy_arns = sessions.session_policies(params)
    caller = ctx.caller()
    requested_tags = params.get("Tags", [])
    tags, _ = sessions.session_tags(requested_tags, (), None)  # never transitive, nothing inherited
    if caller.is_session:
        raise AccessDenied(MSG_SESSION_CREDENTIALS)
    require_sts_active(ctx, issuing_account=caller.account, caller_account=caller.account)

    federated_arn = ids.federated_user_arn(caller.account, name, caller.partition)
    if not ctx.runtime.settings.emulator:
        context = request_tag_keys(requested_tags)
        wanted = ["sts:GetFederationToken"] + (["sts:TagSession"] if requested_tags else [])
        for action in wanted:
            verdict = authorize_identity(ctx, caller, action, federated_arn, context)
            if verdict is not None and not verdict.allowed:
                # AssumeRole's recorded form of the text ("User: … is not authorized to perform:
                # … on resource: …"); AWS's exact wording for this action was not recorded.
                raise sessions.not_authorized(caller, action, federated_arn)

    if caller.kind == p.ROOT:
        duration = min(params.get("DurationSeconds", ROOT_MAX), ROOT_MAX)
        parent, principal_id = "", caller.account  # "" marks a session the root federated
    else:
        assert caller.user is not None
        duration = params.get("DurationSeconds", USER_DEFAULT)
        parent, principal_id = caller.user.name, caller.user.id

    # Always present, 0 without policies or tags (recorded from AWS: real-aws-wire-samples.md
    # §2.2), unlike AssumeRole's.
    packed = sessions.packed_size(policy, policy_arns, tags)
    credentials = sessions.mint(
        ctx,
        {
            "kind": kinds.FEDERATED,
            "account": caller.account,
            "name": name,
            "principal_id": principal_id,
            "session_name": "",
            "tags": tags,
            "policy": policy,
            "policy_arns": policy_arns,
            "parent": parent,
        },
        duration,
    )
    # Model member order (Credentials, FederatedUser, PackedPolicySize); the live element order
    # of this action's XML was not recorded (AssumeRole's differs from its model's).
    return [
        ("Credentials", credentials),
        ("FederatedUser", [
            ("FederatedUserId", f"{caller.account}:{name}"),
            ("Arn", federated_arn),
        ]),
        ("PackedPolicySize", packed),
    ]


ACTION = Action("GetFederationToken", STS, PARAMS, handle)
