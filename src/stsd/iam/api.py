"""Shared pieces of the IAM Query API: parameter shapes, authorisation, element builders."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from stsd import ids
from stsd.auth import principal as p
from stsd.auth.authorize import authorize_identity
from stsd.errors import AccessDenied, MalformedPolicyDocument, ValidationError
from stsd.policy import PolicyKind, parse_policy
from stsd.protocol.params import Int, Str
from stsd.protocol.render import Members, Node
from stsd.server.context import RequestContext
from stsd.store.directory import AccountView, ManagedPolicyView, RoleView, UserView
from stsd.sts.sessions import tags_param

NAME = "[\\w+=,.@-]+"
PATH = "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
POLICY_DOC = "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
DESCRIPTION = "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*"


def _path_ok(value: str) -> bool:
    return value == "/" or (
        len(value) >= 2 and value[0] == "/" and value[-1] == "/" and all("\x21" <= c <= "\x7e" for c in value)
    )


def _policy_doc_ok(value: str) -> bool:
    return bool(value) and all(c in "\t\n\r" or "\x20" <= c <= "\xff" for c in value)


def _description_ok(value: str) -> bool:
    return all(c in "\t\n\r" or "\x20" <= c <= "\x7e" or "\xa1" <= c <= "\xff" for c in value)


def user_name(required: bool = True, wire: str = "UserName") -> Str:
    return Str(wire, wire[0].lower() + wire[1:], required=required, min=1, max=64, pattern=NAME)


def role_name() -> Str:
    return Str("RoleName", "roleName", required=True, min=1, max=64, pattern=NAME)


def path(wire: str = "Path") -> Str:
    return Str(wire, wire[0].lower() + wire[1:], min=1, max=512, pattern=PATH, check=_path_ok)


def policy_document(wire: str = "PolicyDocument", required: bool = True) -> Str:
    return Str(wire, wire[0].lower() + wire[1:], required=required, min=1, max=131072, pattern=POLICY_DOC,
               check=_policy_doc_ok)


def policy_name() -> Str:
    return Str("PolicyName", "policyName", required=True, min=1, max=128, pattern=NAME)


def policy_arn(wire: str = "PolicyArn", required: bool = True) -> Str:
    return Str(wire, wire[0].lower() + wire[1:], required=required, min=20, max=2048)


def description() -> Str:
    return Str("Description", "description", max=1000, pattern=DESCRIPTION, check=_description_ok)


def max_items() -> Int:
    return Int("MaxItems", "maxItems", min=1, max=1000)


def marker() -> Str:
    return Str("Marker", "marker", min=1, max=320, pattern="[\\u0020-\\u00FF]+")


TAGS = tags_param()


# --- authorisation ----------------------------------------------------------------------
def authorize(ctx: RequestContext, action: str, resource: str) -> AccountView:
    """Allow the caller's ``iam:<action>`` on ``resource`` in its own account, or raise
    AccessDenied with AWS's text; returns the caller's account snapshot."""
    caller = ctx.caller()
    if caller.kind == p.FEDERATED_USER or (caller.session is not None and caller.kind in (p.USER, p.ROOT)
                                           and not caller.session.mfa):
        # GetSessionToken credentials reach IAM only with MFA; federated sessions never.
        raise _denied(caller, action, resource, explicit=False)
    verdict = authorize_identity(ctx, caller, action, resource)
    if verdict is not None and not verdict.allowed:
        raise _denied(caller, action, resource, explicit=verdict.decision.name == "DENY")
    account = ctx.runtime.directory.account(caller.account)
    assert account is not None
    return account


def _denied(caller: p.Principal, action: str, resource: str, *, explicit: bool) -> Exception:
    reason = (
        " with an explicit deny in an identity-based policy"
        if explicit
        else f" because no identity-based policy allows the {action} action"
    )
    return AccessDenied(f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}{reason}")


def resource_arn(ctx: RequestContext, kind: str, name: str, path_: str = "/") -> str:
    caller = ctx.caller()
    return ids.iam_arn(caller.partition, caller.account, f"{kind}{path_}{name}")


# --- documents --------------------------------------------------------------------------
def check_policy(document: str, kind: PolicyKind) -> None:
    parse_policy(document, kind)


def check_trust_principals(ctx: RequestContext, document: str) -> None:
    """IAM refuses trust policies that name principals that do not exist (in accounts this
    server hosts); bare accounts, ``*``, services and federated providers are accepted."""
    if ctx.runtime.settings.emulator:
        return
    policy = parse_policy(document, PolicyKind.TRUST)
    for kind, value in policy.principals():
        if kind != "AWS" or value == "*" or ids.is_account_id(value):
            continue
        parts = ids.split_arn(value)
        if parts is None:
            raise MalformedPolicyDocument(f'Invalid principal in policy: "AWS":"{value}"')
        _partition, service, _region, account_id, resource = parts
        if resource == "root" and ids.is_account_id(account_id):
            continue
        account = ctx.runtime.directory.account(account_id)
        exists = False
        if account is not None and service == "iam":
            kind_, _, rest = resource.partition("/")
            name = rest.rpartition("/")[2]
            if kind_ == "user":
                entity = account.user(name)
                exists = entity is not None and entity.arn == value
            elif kind_ == "role":
                role = account.role(name)
                exists = role is not None and role.arn == value
        elif account is not None and service == "sts" and resource.startswith("assumed-role/"):
            exists = account.role(resource.split("/")[1]) is not None
        if not exists:
            raise MalformedPolicyDocument(f'Invalid principal in policy: "AWS":"{value}"')


def encoded(document: str) -> str:
    """IAM returns policy documents URL-encoded (botocore decodes them)."""
    return quote(document, safe="")


# --- element builders -------------------------------------------------------------------
def tags_node(tags: tuple[tuple[str, str], ...]) -> Members | None:
    if not tags:
        return None
    return Members([[("Key", k), ("Value", v)] for k, v in tags])


def user_node(user: UserView) -> list[Node]:
    return [
        ("Path", user.path),
        ("UserName", user.name),
        ("UserId", user.id),
        ("Arn", user.arn),
        ("CreateDate", user.created_at),
        ("PermissionsBoundary", _boundary(user.permissions_boundary)),
        ("Tags", tags_node(user.tags)),
    ]


def role_node(role: RoleView) -> list[Node]:
    return [
        ("Path", role.path),
        ("RoleName", role.name),
        ("RoleId", role.id),
        ("Arn", role.arn),
        ("CreateDate", role.created_at),
        ("AssumeRolePolicyDocument", encoded(role.trust_policy)),
        ("Description", role.description),
        ("MaxSessionDuration", role.max_session_duration),
        ("PermissionsBoundary", _boundary(role.permissions_boundary)),
        ("Tags", tags_node(role.tags)),
    ]


def _boundary(arn: str | None) -> list[Node] | None:
    if arn is None:
        return None
    return [("PermissionsBoundaryType", "Policy"), ("PermissionsBoundaryArn", arn)]


def policy_node(policy: ManagedPolicyView, attachments: int) -> list[Node]:
    return [
        ("PolicyName", policy.name),
        ("PolicyId", policy.id),
        ("Arn", policy.arn),
        ("Path", policy.path),
        ("DefaultVersionId", policy.default_version),
        ("AttachmentCount", attachments),
        ("PermissionsBoundaryUsageCount", 0),
        ("IsAttachable", True),
        ("Description", policy.description),
        ("CreateDate", policy.created_at),
        ("UpdateDate", policy.updated_at),
    ]


def require_user(account: AccountView, name: str) -> UserView:
    from stsd.errors import NoSuchEntity

    user = account.user(name)
    if user is None:
        raise NoSuchEntity(f"The user with name {name} cannot be found.")
    return user


def require_role(account: AccountView, name: str) -> RoleView:
    from stsd.errors import NoSuchEntity

    role = account.role(name)
    if role is None:
        raise NoSuchEntity(f"The role with name {name} cannot be found.")
    return role


def tag_list(params: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": t["Value"]} for t in params.get("Tags", [])]


def list_result(name: str, items: list[Any]) -> list[Node]:
    return [(name, Members(items)), ("IsTruncated", False)]


def caller_user_name(ctx: RequestContext, given: str | None) -> str:
    """IAM's implicit ``UserName``: the calling user's own name."""
    if given is not None:
        return given
    caller = ctx.caller()
    if caller.kind == p.USER and caller.user is not None:
        return caller.user.name
    raise ValidationError("Must specify userName when calling with non-User credentials")
