"""AssumeRoleWithWebIdentity: role credentials for the bearer of an OpenID Connect ID token,
checked against an IAM OIDC provider of the role's account. Unsigned (any signature is
verified by the pipeline like any other, but it does not change who the caller is).

Order of checks: model constraints → RoleArn syntax → session-policy grammar → the token is a
JWT → an IAM OIDC provider for its ``iss`` in the role's account → ``aud`` is one of the
provider's client ids → signature with the issuer's keys (fetched over HTTPS, cached; see
:mod:`stsd.sts.oidc`) → ``exp``, ``nbf``, ``iat``, ``sub`` → session tags and source identity
from the token → the role exists, STS is active for its account here → trust policy
(sts:AssumeRoleWithWebIdentity for the ``Federated`` provider, then sts:TagSession /
sts:SetSourceIdentity) → duration → packed size. Nothing is stored either way.

AWS's texts (sources in aws-sts-behaviour.md and real-aws-wire-samples.md unless named):

* no provider: InvalidIdentityToken "No OpenIDConnect provider found in your account for <iss>"
  (aws-actions/configure-aws-credentials#280, #721);
* ``aud`` not a client id: InvalidIdentityToken "Incorrect token audience"
  (awslabs/amazon-eks-irsa-cfn#18);
* keys cannot be had from a reachable issuer, or it has no key for the token: InvalidIdentityToken
  "Couldn't retrieve verification key from your identity provider,  please reference
  AssumeRoleWithWebIdentity documentation for requirements" (two spaces; AWS Knowledge Center
  "iam-sts-invalididentitytoken", raw XML in awslabs/aws-sdk-rust#827);
* certificate neither trusted nor pinned: InvalidIdentityToken "OpenIDConnect provider's HTTPS
  certificate doesn't match configured thumbprint" (aws-actions/configure-aws-credentials#357);
* expired: ExpiredTokenException "Token expired: current date/time <now> must be before the
  expiration date/time <exp>" (aws/aws-sdk-java-v2#5709, 2024; 2021 logs lack the last space);
* trust policy denies, or the role does not exist: 403 AccessDenied "Not authorized to perform
  sts:AssumeRoleWithWebIdentity" (aws/aws-sdk-net#744 and others);
* issuer unreachable: IDPCommunicationError (botocore retries it) with the model's description
  of the error — AWS's wire text for it was not found;
* anything else wrong with the token (not a JWT, algorithm, signature, missing ``sub``/``exp``,
  ``nbf``/``iat`` in the future, malformed tags claim, ``ProviderId`` for the OAuth 2.0 providers
  stsd does not reach): InvalidIdentityToken with the model's description of that error (AWS's
  specific texts were not found).

The response's ``Provider`` is the provider's ARN, as STS answers for IAM OIDC providers (many
published outputs); element order follows a captured response (apache/opendal reqsign's
fixture): Audience, AssumedRoleUser, Provider, Credentials, SubjectFromWebIdentityToken; then
PackedPolicySize and SourceIdentity, whose positions were not captured.

Emulator mode: the token must still be a JWT with ``iss`` and ``sub`` (and ``exp``, when present,
in the future), but no provider is needed, nothing is fetched, the signature is not checked and
the role need not exist nor trust the provider.

Blocking (worker thread): fetching an issuer's keys is socket I/O. Cached keys make it a
thread hop per call; the alternative, async fetching on the event loop, would need the
synchronous handler contract and the policy engine split around an await, for a call that is
rare next to signed STS traffic. Unsigned calls are not charged to a request quota (the
pipeline charges signed callers before the handler runs, and the quota buckets are not
reachable from a handler).
"""

from __future__ import annotations

import re
from typing import Any

from stsd import ids
from stsd.actions.base import STS, Action
from stsd.actions.sts.assume_role import (
    MSG_MAX_SESSION,
    SESSION_NAME_PATTERN,
    _emulated_role,
    _find_role,
    _syntax_check,
    role_name_from_arn,
)
from stsd.audit.identity import WEB_IDENTITY_USER
from stsd.auth.authorize import global_context, request_tag_keys
from stsd.auth.principal import Principal
from stsd.errors import (
    AccessDenied,
    ExpiredTokenException,
    IDPCommunicationError,
    InvalidIdentityToken,
    ValidationError,
)
from stsd.policy import PolicyKind, PrincipalRef, Request, authorize, parse_policy
from stsd.protocol.params import Int, Str, tag_chars
from stsd.protocol.render import Node
from stsd.regions.rules import require_sts_active
from stsd.server.context import RequestContext
from stsd.store.directory import OidcProviderView, RoleView
from stsd.sts import oidc, sessions
from stsd.tokens import claims as kinds
from stsd.tokens.claims import EXTRA_FEDERATED_PROVIDER

PARAMS = (
    Str("RoleArn", "roleArn", required=True, min=20, max=2048, pattern=sessions.ARN_CHARS,
        check=sessions.arn_chars),
    Str("RoleSessionName", "roleSessionName", required=True, min=2, max=64, pattern=SESSION_NAME_PATTERN),
    Str("WebIdentityToken", "webIdentityToken", required=True, min=4, max=20000, sensitive=True),
    Str("ProviderId", "providerId", min=4, max=2048),
    sessions.policy_arns_param(),
    sessions.session_policy_param(2048),
    Int("DurationSeconds", "durationSeconds", min=900, max=43200),
)
DEFAULT_DURATION = 3600
CLOCK_SKEW = 300  # seconds an nbf/iat may lie ahead of our clock
TAGS_CLAIM = "https://aws.amazon.com/tags"
SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity"
MAX_TAGS = 50
_SOURCE_IDENTITY = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)

MSG_NO_PROVIDER = "No OpenIDConnect provider found in your account for {iss}"
MSG_AUDIENCE = "Incorrect token audience"
MSG_NO_KEY = (
    "Couldn't retrieve verification key from your identity provider,  please reference "
    "AssumeRoleWithWebIdentity documentation for requirements"
)
MSG_THUMBPRINT = "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"
MSG_EXPIRED = "Token expired: current date/time {now} must be before the expiration date/time {exp}"
MSG_INVALID = (
    "The web identity token that was passed could not be validated by Amazon Web Services. Get a new "
    "identity token from the identity provider and then retry the request."
)
MSG_IDP_UNREACHABLE = (
    "The request could not be fulfilled because the identity provider (IDP) that was asked to verify the "
    "incoming identity token could not be reached. This is often a transient error caused by network "
    "conditions. Retry the request a limited number of times so that you don't exceed the request rate. "
    "If the error persists, the identity provider might be down or not responding."
)
MSG_DENIED = "Not authorized to perform {action}"
ACTION_NAME = "sts:AssumeRoleWithWebIdentity"


def _invalid() -> Exception:
    return InvalidIdentityToken(MSG_INVALID)


def _verified_key_set(ctx: RequestContext, token: oidc.Token, provider: OidcProviderView) -> str:
    """Check the signature with the issuer's keys; returns how the issuer was verified."""
    if token.alg not in oidc.ALGORITHMS:
        raise _invalid()
    cache = oidc.key_cache(str(ctx.runtime.settings.oidc_ca_file) if ctx.runtime.settings.oidc_ca_file else None)
    try:
        keys, method = cache.keys(provider.url, token.kid, token.alg, provider.thumbprints)
    except oidc.FetchError as error:
        if error.kind == oidc.UNREACHABLE:
            raise IDPCommunicationError(MSG_IDP_UNREACHABLE) from None
        if error.kind == oidc.UNTRUSTED:
            raise InvalidIdentityToken(MSG_THUMBPRINT) from None
        raise InvalidIdentityToken(MSG_NO_KEY) from None
    if not oidc.verify_signature(token, keys):
        raise _invalid()
    return method


def _check_times(ctx: RequestContext, claims: dict[str, Any], *, exp_required: bool) -> None:
    now = int(ctx.now.timestamp())
    exp = oidc.numeric(claims.get("exp"))
    if exp is None:
        if exp_required or "exp" in claims:
            raise _invalid()
    elif exp <= now:
        raise ExpiredTokenException(MSG_EXPIRED.format(now=now, exp=int(exp)))
    for name in ("nbf", "iat"):
        if name in claims:
            moment = oidc.numeric(claims[name])
            if moment is None or moment > now + CLOCK_SKEW:
                raise _invalid()


def _tag_ok(key: Any, value: Any) -> bool:
    return (
        isinstance(key, str) and isinstance(value, str) and 1 <= len(key) <= 128 and len(value) <= 256
        and tag_chars(key) and tag_chars(value) and not key.lower().startswith("aws:")
    )


def _token_tags(claims: dict[str, Any]) -> tuple[list[dict[str, str]], list[str]]:
    """Session tags from the ``https://aws.amazon.com/tags`` claim:
    ``{"principal_tags": {"Key": ["Value"]}, "transitive_tag_keys": ["Key"]}``."""
    raw = claims.get(TAGS_CLAIM)
    if raw is None:
        return [], []
    if not isinstance(raw, dict):
        raise _invalid()
    principal_tags = raw.get("principal_tags", {})
    transitive = raw.get("transitive_tag_keys", [])
    if not isinstance(principal_tags, dict) or not isinstance(transitive, list):
        raise _invalid()
    tags: list[dict[str, str]] = []
    for key, values in principal_tags.items():
        value = values[0] if isinstance(values, list) and len(values) == 1 else values
        if not _tag_ok(key, value):
            raise _invalid()
        tags.append({"Key": key, "Value": value})
    if len(tags) > MAX_TAGS or not all(isinstance(k, str) for k in transitive):
        raise _invalid()
    return tags, transitive


def _source_identity(claims: dict[str, Any]) -> str | None:
    value = claims.get(SOURCE_IDENTITY_CLAIM)
    if value is None:
        return None
    if not isinstance(value, str) or value.lower().startswith("aws:"):
        raise _invalid()
    if not _SOURCE_IDENTITY.fullmatch(value):
        raise _invalid()
    return value


def _claim_keys(prefix: str, claims: dict[str, Any], audience: str | None, sub: str) -> dict[str, Any]:
    """The provider's condition keys: ``<host/path>:aud`` (the client id that matched),
    ``:sub``, and ``:amr`` / ``:azp`` when the token carries them."""
    keys: dict[str, Any] = {f"{prefix}:sub": sub}
    if audience is not None:
        keys[f"{prefix}:aud"] = audience
    amr = claims.get("amr")
    if isinstance(amr, str) or (isinstance(amr, list) and all(isinstance(a, str) for a in amr)):
        keys[f"{prefix}:amr"] = amr
    azp = claims.get("azp")
    if isinstance(azp, str):
        keys[f"{prefix}:azp"] = azp
    return keys


def _authorize_trust(
    ctx: RequestContext, role: RoleView, provider_arn: str, keys: dict[str, Any], *, tagged: bool,
    source_identity: str | None,
) -> None:
    context = global_context(ctx, None)
    context.update(keys)
    for key, value in role.tags:
        context[f"aws:ResourceTag/{key}"] = value
    trust = (parse_policy(role.trust_policy, PolicyKind.TRUST),)
    ref = PrincipalRef(account=role.account, arns=frozenset(), federated=provider_arn)
    wanted = [ACTION_NAME]
    if tagged:
        wanted.append("sts:TagSession")
    if source_identity is not None:
        wanted.append("sts:SetSourceIdentity")
    for action in wanted:
        request = Request(action=action, resource=role.arn, principal=ref, context=context)
        verdict = authorize(request, identity=(), resource=trust, same_account=True, resource_required=True)
        if not verdict.allowed:
            raise AccessDenied(MSG_DENIED.format(action=action))


def handle(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    role_arn: str = params["RoleArn"]
    session_name: str = params["RoleSessionName"]
    _syntax_check(role_arn)
    parsed = role_name_from_arn(role_arn)
    partition = role_arn.split(":", 2)[1]
    if parsed is not None:
        ctx.audit["resources"] = [{"accountId": parsed[0], "type": "AWS::IAM::Role", "ARN": role_arn}]
    policy, policy_arns = sessions.session_policies(params)
    if params.get("ProviderId") is not None:
        raise _invalid()  # OAuth 2.0 access tokens of www.amazon.com / graph.facebook.com: not modelled
    try:
        token = oidc.parse_token(params["WebIdentityToken"])
    except oidc.TokenError:
        raise _invalid() from None
    claims = token.claims
    iss = claims.get("iss")
    if not isinstance(iss, str) or not iss:
        raise _invalid()
    if parsed is None:  # not a role ARN: there is no account to look in, and no role
        raise AccessDenied(MSG_DENIED.format(action=ACTION_NAME))
    role_account = parsed[0]
    issuer = oidc.issuer_key(iss)
    emulator = ctx.runtime.settings.emulator

    account = ctx.runtime.directory.account(role_account)
    provider = account.oidc_provider(issuer) if account is not None else None
    audience: str | None
    method: str | None = None
    if emulator:
        audience = next(iter(oidc.audiences(claims)), None)
    else:
        if provider is None:
            raise InvalidIdentityToken(MSG_NO_PROVIDER.format(iss=iss))
        audience = next((a for a in oidc.audiences(claims) if a in provider.client_ids), None)
        if audience is None:
            raise InvalidIdentityToken(MSG_AUDIENCE)
        method = _verified_key_set(ctx, token, provider)
    _check_times(ctx, claims, exp_required=not emulator)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise _invalid()

    # The caller is known from here on: CloudTrail records the call as this web identity user.
    provider_arn = provider.arn if provider is not None else ids.iam_arn(
        partition, role_account, f"oidc-provider/{issuer}")
    ctx.principal = Principal(
        WEB_IDENTITY_USER, role_account, partition, provider_arn, f"{provider_arn}:{audience or ''}:{sub}", "",
        sub,
    )
    if method is not None:
        ctx.audit["additionalEventData"] = {"identityProviderConnectionVerificationMethod": method}

    requested_tags, transitive_keys = _token_tags(claims)
    source_identity = _source_identity(claims)
    tags, transitive = sessions.session_tags(requested_tags, transitive_keys, None)
    extra_parameters: dict[str, Any] = {}
    if source_identity is not None:
        extra_parameters["sourceIdentity"] = source_identity
    if requested_tags:
        extra_parameters["principalTags"] = {t["Key"]: t["Value"] for t in requested_tags}
    if transitive_keys:
        extra_parameters["transitiveTagKeys"] = list(transitive_keys)
    if extra_parameters:  # CloudTrail shows the token's tags and source identity as request parameters
        ctx.audit["requestParameters"] = extra_parameters

    role = _find_role(ctx, role_arn) or (_emulated_role(ctx, role_arn) if emulator else None)
    if role is None:
        raise AccessDenied(MSG_DENIED.format(action=ACTION_NAME))
    require_sts_active(ctx, issuing_account=role.account, caller_account=None)

    if not emulator:
        keys = _claim_keys(issuer, claims, audience, sub)
        keys["sts:RoleSessionName"] = session_name
        keys["aws:FederatedProvider"] = provider_arn
        if source_identity is not None:
            keys["sts:SourceIdentity"] = source_identity
        if requested_tags:
            keys.update(request_tag_keys(requested_tags))
            keys["sts:TransitiveTagKeys"] = list(transitive_keys)
        _authorize_trust(ctx, role, provider_arn, keys, tagged=bool(requested_tags),
                         source_identity=source_identity)

    duration = params.get("DurationSeconds", DEFAULT_DURATION)
    if duration > role.max_session_duration:
        raise ValidationError(MSG_MAX_SESSION)
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
            "mfa": False,
            "chained": False,
            "source_identity": source_identity,
            "tags": tags,
            "transitive_keys": transitive,
            "policy": policy,
            "policy_arns": policy_arns,
            "role_path": role.path,
            "extra": {EXTRA_FEDERATED_PROVIDER: provider_arn},
        },
        duration,
    )
    ctx.audit["resources"] = [{"accountId": role.account, "type": "AWS::IAM::Role", "ARN": role.arn}]
    return [
        ("Audience", audience),
        ("AssumedRoleUser", [
            ("AssumedRoleId", f"{role.id}:{session_name}"),
            ("Arn", ids.assumed_role_arn(role.account, role.name, session_name, partition)),
        ]),
        ("Provider", provider_arn),
        ("Credentials", credentials),
        ("SubjectFromWebIdentityToken", sub),
        ("PackedPolicySize", packed if sent_policies_or_tags else None),
        ("SourceIdentity", source_identity),
    ]


def _role_account(params: dict[str, str]) -> str | None:
    parsed = role_name_from_arn(params.get("RoleArn", ""))
    return parsed[0] if parsed is not None else None


ACTION = Action("AssumeRoleWithWebIdentity", STS, PARAMS, handle, unsigned=True, blocking=True,
                quota_account=_role_account)
