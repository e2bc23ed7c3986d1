"""Shared pieces of the IAM Query API: parameter shapes, authorisation, element builders."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from stsd import ids
from stsd.actions.base import IAM, Action
from stsd.auth import principal as p
from stsd.auth.authorize import authorize_identity, request_tag_keys
from stsd.errors import (
    AccessDenied,
    InvalidInput,
    MalformedPolicyDocument,
    NoSuchEntity,
    ValidationError,
)
from stsd.policy import PolicyKind, parse_policy
from stsd.protocol.params import MSG_DUPLICATE_TAG_KEYS, Int, Param, Str
from stsd.protocol.render import Members, Node
from stsd.server.context import RequestContext
from stsd.store.directory import AccountView, ManagedPolicyView, RoleView, UserView
from stsd.sts.sessions import tags_param

NAME = "[\\w+=,.@-]+"
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


# IAM checks the characters of names and paths itself, after the model's length checks, and
# answers with its own texts (not the model's "Member must satisfy regular expression pattern"):
# "The specified value for userName is invalid. It must contain only alphanumeric characters
# and/or the following: +=,.@_-" (seen from CreateUser, PutUserPolicy, AttachUserPolicy,
# CreatePolicy...), and for paths the text below (CreateUser, CreateRole, CreateVirtualMFADevice,
# ListPolicies). So these specs carry no pattern; :func:`action` runs the checks.
_NAME_RE = re.compile(NAME, re.ASCII)
NAME_MEMBERS = {"UserName": "userName", "RoleName": "roleName", "PolicyName": "policyName"}
MSG_BAD_NAME = (
    "The specified value for {member} is invalid. It must contain only alphanumeric characters "
    "and/or the following: +=,.@_-"
)
MSG_BAD_PATH = (
    "The specified value for path is invalid. It must begin and end with / and contain only "
    "alphanumeric characters and/or / characters."
)
MSG_BAD_PATH_PREFIX = (
    "The specified value for pathPrefix is invalid. It must begin with the / character and "
    "contain only alphanumeric characters and/or / characters."
)


def user_name(required: bool = True, wire: str = "UserName") -> Str:
    return Str(wire, wire[0].lower() + wire[1:], required=required, min=1, max=64)


def role_name() -> Str:
    return Str("RoleName", "roleName", required=True, min=1, max=64)


def path(wire: str = "Path") -> Str:
    return Str(wire, wire[0].lower() + wire[1:], min=1, max=512)


def policy_document(wire: str = "PolicyDocument", required: bool = True) -> Str:
    return Str(wire, wire[0].lower() + wire[1:], required=required, min=1, max=131072, pattern=POLICY_DOC,
               check=_policy_doc_ok)


def policy_name() -> Str:
    return Str("PolicyName", "policyName", required=True, min=1, max=128)


def policy_arn(wire: str = "PolicyArn", required: bool = True) -> Str:
    return Str(wire, wire[0].lower() + wire[1:], required=required, min=20, max=2048)


def description() -> Str:
    return Str("Description", "description", max=1000, pattern=DESCRIPTION, check=_description_ok)


def max_items() -> Int:
    return Int("MaxItems", "maxItems", min=1, max=1000)


def marker() -> Str:
    return Str("Marker", "marker", min=1, max=320, pattern="[\\u0020-\\u00FF]+")


TAGS = tags_param()


def check_names(params: dict[str, Any]) -> None:
    """IAM's own name and path checks (see NAME_MEMBERS), in member order."""
    for wire, value in params.items():
        if wire in NAME_MEMBERS and not _NAME_RE.fullmatch(value):
            raise ValidationError(MSG_BAD_NAME.format(member=NAME_MEMBERS[wire]))
        if wire == "Path" and not _path_ok(value):
            raise ValidationError(MSG_BAD_PATH)
        if wire == "PathPrefix" and not _path_ok(value):
            raise ValidationError(MSG_BAD_PATH_PREFIX)


# IAM refuses two tags whose keys differ only in case (CreateUser, CreateRole, CreatePolicy,
# CreateVirtualMFADevice, CreateOpenIDConnectProvider, ...): 400 InvalidInput with
# MSG_DUPLICATE_TAG_KEYS, after the model's checks and before anything is stored. (STS's
# session tags have their own rule, in stsd.sts.sessions.)


# "You cannot create a tag key or value that begins with the text aws:. This tag prefix is
# reserved for AWS internal use." (IAM User Guide, "Rules for tagging in IAM and AWS STS"), for
# every IAM call that sets tags. NOTE: IAM's code and text for it are not from a recorded
# response; 400 InvalidInput (the code IAM's Tag* calls declare for bad tags) with this text
# is stsd's choice. Any case of the prefix is refused ("AWS:" is reserved as well).
MSG_RESERVED_TAG_PREFIX = "Tag keys and values cannot begin with the reserved prefix aws:."


def check_tags(params: dict[str, Any]) -> None:
    seen: set[str] = set()
    for tag in params.get("Tags", ()):
        key = tag["Key"].lower()
        if key in seen:
            raise InvalidInput(MSG_DUPLICATE_TAG_KEYS)
        seen.add(key)
    for tag in params.get("Tags", ()):
        if tag["Key"].lower().startswith("aws:") or tag["Value"].lower().startswith("aws:"):
            raise InvalidInput(MSG_RESERVED_TAG_PREFIX)


Handler = Callable[[RequestContext, dict[str, Any]], Sequence[Node] | None]
ModelCheck = Callable[[dict[str, Any]], None]


def action(name: str, params: tuple[Param, ...], handler: Handler, *, write: bool = False,
           model_check: ModelCheck | None = None) -> Action:
    """An IAM action whose handler first runs IAM's name/path and tag-key checks. ``write`` marks the
    actions that touch the database (worker thread, CloudTrail readOnly=false). ``model_check``
    runs model validation the declarations cannot express (e.g. a list's combined member
    clause), before IAM's own checks as AWS orders them."""

    @functools.wraps(handler)
    def checked(ctx: RequestContext, values: dict[str, Any]) -> Sequence[Node] | None:
        if model_check is not None:
            model_check(values)
        check_names(values)
        if "Tags" in values:
            check_tags(values)
        return handler(ctx, values)

    return Action(name, IAM, params, checked, blocking=write, read_only=not write)


# --- authorisation ----------------------------------------------------------------------
def authorize(ctx: RequestContext, action: str, resource: str, shown: str | None = None, *,
              request_tags: list[dict[str, str]] | None = None, tag_keys: list[str] | None = None) -> AccountView:
    """Allow the caller's ``iam:<action>`` on ``resource`` in its own account, or raise
    AccessDenied with AWS's text; returns the caller's account snapshot.

    ``shown`` is how the message names the resource: IAM writes ``role NAME``, ``user NAME``
    or ``policy ARN`` for existing entities and the ARN for the ones being created.
    ``request_tags`` (calls that set tags) and ``tag_keys`` (UntagX) become aws:RequestTag/… and
    aws:TagKeys; an existing resource's own tags are aws:ResourceTag/… (and iam:ResourceTag/…
    for roles and users), as IAM's tag-based access control has them."""
    caller = ctx.caller()
    if caller.kind == p.FEDERATED_USER:
        # GetFederationToken sessions cannot call IAM at all.
        raise _denied(caller, action, shown or resource,
                      f"because no identity-based policy allows the {action} action")
    resource_account = _account_of(resource)
    extra = _tag_keys(ctx, resource, request_tags, tag_keys)
    verdict = authorize_identity(ctx, caller, action, resource, extra, resource_account=resource_account)
    if verdict is not None and not verdict.allowed:
        raise _denied(caller, action, shown or resource, verdict.explanation(action) or "")
    account = ctx.runtime.directory.account(caller.account)
    assert account is not None
    return account


def _tag_keys(ctx: RequestContext, resource: str, request_tags: list[dict[str, str]] | None,
              tag_keys: list[str] | None) -> dict[str, Any] | None:
    keys: dict[str, Any] = {}
    resource_tags, iam_key = _resource_tags(ctx, resource)
    for key, value in resource_tags:
        keys[f"aws:ResourceTag/{key}"] = value
        if iam_key:
            keys[f"iam:ResourceTag/{key}"] = value
    if request_tags:
        keys.update(request_tag_keys(request_tags))
    if tag_keys is not None:
        keys["aws:TagKeys"] = list(tag_keys)
    return keys or None


def _resource_tags(ctx: RequestContext, resource: str) -> tuple[tuple[tuple[str, str], ...], bool]:
    """The tags of the caller's own role, user, managed policy or OIDC provider named by
    ``resource`` (none for anything else or a resource that does not exist), and whether IAM
    also offers them as iam:ResourceTag (roles and users)."""
    parts = ids.split_arn(resource)
    if parts is None or parts[1] != "iam" or parts[3] != ctx.caller().account:
        return (), False
    account = ctx.runtime.directory.account(parts[3])
    if account is None:
        return (), False
    kind, _, rest = parts[4].partition("/")
    if kind in ("role", "user"):
        name = rest.rsplit("/", 1)[-1]
        entity = account.role(name) if kind == "role" else account.user(name)
        return (entity.tags, True) if entity is not None else ((), False)
    if kind == "policy":
        policy = account.policies.get(resource)
        return (policy.tags, False) if policy is not None else ((), False)
    if kind == "oidc-provider":
        provider = account.oidc_provider(rest)
        return (provider.tags, False) if provider is not None else ((), False)
    return (), False


def _account_of(resource: str) -> str | None:
    """The account named by an IAM ARN when it is another real account (AWS-managed policies,
    ``arn:aws:iam::aws:...``, belong to everyone)."""
    parts = ids.split_arn(resource)
    if parts is None or not ids.is_account_id(parts[3]):
        return None
    return parts[3]


def _denied(caller: p.Principal, action: str, shown: str, explanation: str) -> Exception:
    return AccessDenied(f"User: {caller.arn} is not authorized to perform: {action} on resource: {shown} {explanation}")


def resource_arn(ctx: RequestContext, kind: str, name: str, path_: str | None = None) -> str:
    """The ARN IAM authorises against. Without ``path_`` an existing user or role contributes
    its own path (a policy for ``user/division/*`` must match ``user/division/bob``)."""
    caller = ctx.caller()
    if path_ is None:
        path_ = "/"
        account = ctx.runtime.directory.account(caller.account)
        entity = None
        if account is not None and kind == "user":
            entity = account.user(name)
        elif account is not None and kind == "role":
            entity = account.role(name)
        if entity is not None:
            path_ = entity.path
    return ids.iam_arn(caller.partition, caller.account, f"{kind}{path_}{name}")


def target(ctx: RequestContext, kind: str, name: str) -> tuple[str, str]:
    """(ARN to authorise, how AccessDenied names it) for an existing user or role."""
    return resource_arn(ctx, kind, name), f"{kind} {name}"


# --- documents --------------------------------------------------------------------------
def check_policy(document: str, kind: PolicyKind, *, managed: bool = False) -> None:
    parse_policy(document, kind, managed=managed)


# Actions a role trust policy may name (IAM refuses anything else).
TRUST_ACTIONS = frozenset(a.lower() for a in (
    "sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity", "sts:TagSession",
    "sts:SetSourceIdentity", "sts:SetContext",
))
MSG_TRUST_ACTIONS = "AssumeRole policy may only specify STS AssumeRole actions."


def check_trust_actions(document: str) -> None:
    """MalformedPolicyDocument unless every Action of the (already parsed) trust policy is an
    STS AssumeRole action, ``*`` or a wildcard that only matches such actions."""
    import orjson

    statements = orjson.loads(document).get("Statement", [])
    for st in [statements] if isinstance(statements, dict) else statements:
        actions = st.get("Action", [])
        for act in [actions] if isinstance(actions, str) else actions:
            if act == "*" or act.lower() in TRUST_ACTIONS:
                continue
            pattern = re.compile(re.escape(act.lower()).replace("\\*", ".*").replace("\\?", "."))
            if act.lower().startswith("sts:") and any(pattern.fullmatch(a) for a in TRUST_ACTIONS):
                continue
            raise MalformedPolicyDocument(MSG_TRUST_ACTIONS)


MSG_BOUNDARY_MISSING = "Scope ARN: {arn} does not exist or is not attachable."


def check_boundary(ctx: RequestContext, arn: str | None) -> None:
    """A permissions boundary must be a managed policy of the caller's account or AWS's."""
    if arn is None:
        return
    policy = ctx.runtime.directory.managed_policy(arn)
    if policy is None or policy.account not in ("aws", ctx.caller().account):
        raise NoSuchEntity(MSG_BOUNDARY_MISSING.format(arn=arn))


def check_trust_principals(ctx: RequestContext, document: str) -> None:
    """IAM refuses trust policies that name principals that do not exist (in accounts this
    server hosts); bare accounts, ``*``, services, federated providers and federated users
    are accepted."""
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
        elif service == "sts" and resource.startswith("federated-user/") and ids.is_account_id(account_id):
            # Federated users exist only as sessions: IAM takes their ARN as a principal
            # (AWS knowledge center, "Invalid principal in policy": user, role, assumed-role
            # and federated-user ARNs are the valid forms).
            exists = len(resource) > len("federated-user/")
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


def user_node(user: UserView, *, listing: bool = False) -> list[Node]:
    """A ``User``; ListUsers leaves out PermissionsBoundary and Tags (API reference)."""
    node: list[Node] = [
        ("Path", user.path),
        ("UserName", user.name),
        ("UserId", user.id),
        ("Arn", user.arn),
        ("CreateDate", user.created_at),
    ]
    if not listing:
        node += [("PermissionsBoundary", _boundary(user.permissions_boundary)), ("Tags", tags_node(user.tags))]
    return node


ROLE_CREATED, ROLE_FULL, ROLE_LISTED = "created", "full", "listed"


def role_node(role: RoleView, shape: str = ROLE_FULL) -> list[Node]:
    """A ``Role`` as IAM returns it: CreateRole answers without Description and
    MaxSessionDuration; ListRoles without PermissionsBoundary, Tags and RoleLastUsed;
    GetRole with everything (an empty RoleLastUsed until the role is used)."""
    node: list[Node] = [
        ("Path", role.path),
        ("RoleName", role.name),
        ("RoleId", role.id),
        ("Arn", role.arn),
        ("CreateDate", role.created_at),
        ("AssumeRolePolicyDocument", encoded(role.trust_policy)),
    ]
    if shape != ROLE_CREATED:
        node += [("Description", role.description), ("MaxSessionDuration", role.max_session_duration)]
    if shape != ROLE_LISTED:
        node += [("PermissionsBoundary", _boundary(role.permissions_boundary)), ("Tags", tags_node(role.tags))]
    if shape == ROLE_FULL:
        node.append(("RoleLastUsed", []))
    return node


def _boundary(arn: str | None) -> list[Node] | None:
    if arn is None:
        return None
    return [("PermissionsBoundaryType", "Policy"), ("PermissionsBoundaryArn", arn)]


POLICY_CREATED, POLICY_FULL, POLICY_LISTED = "created", "full", "listed"


def policy_node(policy: ManagedPolicyView, account: AccountView | None, shape: str = POLICY_FULL) -> list[Node]:
    """A ``Policy``: GetPolicy adds Description and Tags (empty when none); CreatePolicy and
    ListPolicies answer without Description, CreatePolicy with Tags only when it has some."""
    node: list[Node] = [
        ("PolicyName", policy.name),
        ("PolicyId", policy.id),
        ("Arn", policy.arn),
        ("Path", policy.path),
        ("DefaultVersionId", policy.default_version),
        ("AttachmentCount", account.attachment_count(policy.arn) if account else 0),
        ("PermissionsBoundaryUsageCount", account.boundary_count(policy.arn) if account else 0),
        ("IsAttachable", True),
    ]
    if shape == POLICY_FULL:
        node.append(("Description", policy.description))
    node += [("CreateDate", policy.created_at), ("UpdateDate", policy.updated_at)]
    if shape == POLICY_FULL:
        node.append(("Tags", Members([[("Key", k), ("Value", v)] for k, v in policy.tags])))
    elif shape == POLICY_CREATED:
        node.append(("Tags", tags_node(policy.tags)))
    return node


def require_user(account: AccountView, name: str) -> UserView:
    user = account.user(name)
    if user is None:
        raise NoSuchEntity(f"The user with name {name} cannot be found.")
    return user


def require_role(account: AccountView, name: str) -> RoleView:
    role = account.role(name)
    if role is None:
        raise NoSuchEntity(f"The role with name {name} cannot be found.")
    return role


def tag_list(params: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": t["Value"]} for t in params.get("Tags", [])]


def caller_user_name(ctx: RequestContext, given: str | None) -> str:
    """IAM's implicit ``UserName``: the calling user's own name."""
    if given is not None:
        return given
    caller = ctx.caller()
    if caller.kind == p.USER and caller.user is not None:
        return caller.user.name
    raise ValidationError("Must specify userName when calling with non-User credentials")
