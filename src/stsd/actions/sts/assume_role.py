"""AssumeRole: temporary credentials for a role, same- or cross-account, with session
policies, session tags, source identity, ExternalId and MFA.

Order of checks (what AWS reports first wins): model constraints → RoleArn syntax →
source identity prefix → session-policy size/grammar → tag rules → caller kind → MFA →
source identity immutability → authorisation (trust ∧ identity, then sts:TagSession /
sts:SetSourceIdentity) → duration limits → packed size. Every failure happens before
anything is minted; nothing is stored either way.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from stsd import ids
from stsd.actions.base import STS, Action
from stsd.auth import principal as p
from stsd.auth.authorize import authorize_identity, request_tag_keys
from stsd.errors import AccessDenied, ValidationError
from stsd.policy import PolicyKind, parse_policy
from stsd.protocol.params import Int, Str, StructList, single_validation_error
from stsd.protocol.render import Node
from stsd.regions.rules import require_sts_active
from stsd.server.context import RequestContext
from stsd.store.directory import RoleView
from stsd.sts import sessions
from stsd.tokens import claims as kinds

SESSION_NAME_PATTERN = "[\\w+=,.@-]*"
PARAMS = (
    Str("RoleArn", "roleArn", required=True, min=20, max=2048, pattern=sessions.ARN_CHARS,
        check=sessions.arn_chars),
    Str("RoleSessionName", "roleSessionName", required=True, min=2, max=64, pattern=SESSION_NAME_PATTERN),
    sessions.policy_arns_param(),
    sessions.session_policy_param(None),  # unbounded in the model since 2023-10; 2,048 checked below
    Int("DurationSeconds", "durationSeconds", min=900, max=43200),
    sessions.tags_param(),
    sessions.transitive_keys_param(),
    Str("ExternalId", "externalId", min=2, max=1224, pattern="[\\w+=,.@:\\/-]*"),
    Str("SerialNumber", "serialNumber", min=9, max=256, pattern="[\\w+=/:,.@-]*"),
    Str("TokenCode", "tokenCode", min=6, max=6, pattern="[\\d]*"),
    Str("SourceIdentity", "sourceIdentity", min=2, max=64, pattern=SESSION_NAME_PATTERN),
    StructList(
        "ProvidedContexts",
        "providedContexts",
        (
            Str("ProviderArn", "providerArn", min=20, max=2048, pattern=sessions.ARN_CHARS,
                check=sessions.arn_chars),
            Str("ContextAssertion", "contextAssertion", min=4, max=2048),
        ),
        min_items=1,  # ProvidedContextsListType is 1..5
        max_items=5,
    ),
)
DEFAULT_DURATION = 3600
CHAINED_MAX = 3600
IDENTITY_CENTER_PROVIDER = "arn:aws:iam::aws:contextProvider/IdentityCenter"
MSG_MAX_SESSION = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
MSG_CHAINED = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
)
MSG_SOURCE_IDENTITY_SET = "The source identity is already set for this assume role session"


@lru_cache(maxsize=1024)  # a few roles are assumed over and over; bounded against hostile ARNs
def role_name_from_arn(role_arn: str) -> tuple[str, str, str] | None:
    """(account, path, name) for an IAM role ARN, None for anything else."""
    parts = ids.split_arn(role_arn)
    if parts is None:
        return None
    _partition, service, _region, account, resource = parts
    if service != "iam" or not resource.startswith("role/") or not ids.is_account_id(account):
        return None
    path, _, name = resource[4:].rpartition("/")
    return account, path + "/", name


def _syntax_check(role_arn: str) -> None:
    parts = ids.split_arn(role_arn)
    if parts is None or not parts[0] or not parts[1] or not parts[4]:
        raise ValidationError(f"{role_arn} is invalid")


def _find_role(ctx: RequestContext, role_arn: str) -> RoleView | None:
    parsed = role_name_from_arn(role_arn)
    if parsed is None:
        return None
    account_id, _path, name = parsed
    account = ctx.runtime.directory.account(account_id)
    role = account.role(name) if account else None
    if role is None or role.arn != role_arn:  # the path and partition must match too
        return None
    return role


def _emulated_role(ctx: RequestContext, role_arn: str) -> RoleView | None:
    """Emulator mode: a role that does not exist is assumed as if it did."""
    parsed = role_name_from_arn(role_arn)
    if parsed is None:
        return None
    account_id, path, name = parsed
    ctx.runtime.ensure_account(account_id)
    return RoleView(
        id="AROA" + ids.new_unique_id("")[:17], account=account_id, name=name, path=path, arn=role_arn,
        trust_policy="", description=None, max_session_duration=43200, created_at=ctx.now,
        permissions_boundary=None, tags=(), inline_policies={}, attached=(),
    )


def handle(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    role_arn: str = params["RoleArn"]
    session_name: str = params["RoleSessionName"]
    _syntax_check(role_arn)
    source_identity = params.get("SourceIdentity")
    if source_identity is not None and source_identity.lower().startswith("aws:"):
        raise single_validation_error(
            source_identity, "sourceIdentity", f"Member must satisfy regular expression pattern: {SESSION_NAME_PATTERN}"
        )
    policy_text = params.get("Policy")
    if policy_text is not None and len(policy_text) > sessions.MAX_SESSION_POLICY_PLAINTEXT:
        raise single_validation_error(policy_text, "policy", "Member must have length less than or equal to 2048")
    policy, policy_arns = sessions.session_policies(params)
    caller = ctx.caller()
    requested_tags = params.get("Tags", [])
    tags, transitive = sessions.session_tags(requested_tags, params.get("TransitiveTagKeys", []), caller)
    if params.get("ProvidedContexts"):
        for item in params["ProvidedContexts"]:
            if item.get("ProviderArn") != IDENTITY_CENTER_PROVIDER:
                raise sessions.not_authorized(caller, "sts:SetContext", item.get("ProviderArn"))
        raise sessions.not_authorized(caller, "sts:SetContext", IDENTITY_CENTER_PROVIDER)

    if caller.kind == p.ROOT and not ctx.runtime.settings.emulator:
        # Emulator mode maps unknown credentials to the account root (as LocalStack does),
        # so there the root may assume roles.
        raise AccessDenied("Roles may not be assumed by root accounts.")
    if caller.kind == p.FEDERATED_USER:
        raise sessions.not_authorized(caller, "sts:AssumeRole", role_arn)
    mfa_now = sessions.check_mfa(ctx, caller, params.get("SerialNumber"), params.get("TokenCode"))
    mfa = mfa_now or caller.mfa

    inherited_source = caller.session.source_identity if caller.session else None
    if inherited_source is not None and source_identity is not None and source_identity != inherited_source:
        raise ValidationError(MSG_SOURCE_IDENTITY_SET)
    source_identity = source_identity or inherited_source

    emulator = ctx.runtime.settings.emulator
    role = _find_role(ctx, role_arn) or (_emulated_role(ctx, role_arn) if emulator else None)
    if role is None:
        raise sessions.not_authorized(caller, "sts:AssumeRole", role_arn)
    # The role's account generates the credentials: it must have STS active here.
    require_sts_active(ctx, issuing_account=role.account, caller_account=caller.account)

    if not emulator:
        context: dict[str, Any] = {
            "sts:RoleSessionName": session_name,
            "aws:MultiFactorAuthPresent": mfa,
        }
        if mfa_now:
            context["aws:MultiFactorAuthAge"] = 0
        if "ExternalId" in params:
            context["sts:ExternalId"] = params["ExternalId"]
        if source_identity is not None:
            context["sts:SourceIdentity"] = source_identity
        for key, value in role.tags:
            context[f"aws:ResourceTag/{key}"] = value
        if requested_tags:
            context.update(request_tag_keys(requested_tags))
            context["sts:TransitiveTagKeys"] = list(params.get("TransitiveTagKeys", []))
        trust = (parse_policy(role.trust_policy, PolicyKind.TRUST),)
        wanted = ["sts:AssumeRole"]
        if requested_tags:
            wanted.append("sts:TagSession")
        if source_identity is not None:  # set now or carried along a role chain
            wanted.append("sts:SetSourceIdentity")
        for action in wanted:
            verdict = authorize_identity(
                ctx, caller, action, role.arn, context,
                resource_policies=trust, resource_account=role.account, resource_required=True,
            )
            if verdict is not None and not verdict.allowed:
                raise sessions.not_authorized(caller, action, role_arn)

    chained = caller.kind == p.ASSUMED_ROLE
    duration = params.get("DurationSeconds", DEFAULT_DURATION)
    if duration > role.max_session_duration:
        raise ValidationError(MSG_MAX_SESSION)
    if chained and duration > CHAINED_MAX:
        raise ValidationError(MSG_CHAINED)

    sent_policies_or_tags = policy is not None or bool(policy_arns) or bool(requested_tags)
    packed = sessions.packed_size(policy, policy_arns, tags)

    credentials = sessions.mint(
        ctx,
        {
            "kind": kinds.ROLE,
            "account": role.account,
            "name": role.name,
            "principal_id": role.id,
            "session_name": session_name,
            "mfa": mfa,
            "chained": chained,
            "source_identity": source_identity,
            "tags": tags,
            "transitive_keys": transitive,
            "policy": policy,
            "policy_arns": policy_arns,
            "role_path": role.path,
        },
        duration,
    )
    ctx.audit["resources"] = [{"accountId": role.account, "type": "AWS::IAM::Role", "ARN": role.arn}]
    return [
        ("AssumedRoleUser", [
            ("AssumedRoleId", f"{role.id}:{session_name}"),
            ("Arn", ids.assumed_role_arn(role.account, role.name, session_name, caller.partition)),
        ]),
        ("Credentials", credentials),
        ("PackedPolicySize", packed if sent_policies_or_tags else None),
        ("SourceIdentity", source_identity),
    ]


ACTION = Action("AssumeRole", STS, PARAMS, handle)
