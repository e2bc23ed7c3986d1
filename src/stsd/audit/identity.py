"""``userIdentity``: who made the call, in CloudTrail's shapes.

Built field by field from the principal (never by dumping it: session claims carry the
session's secret key).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stsd import ids
from stsd.audit.timefmt import iso
from stsd.auth import principal as p
from stsd.tokens.claims import SessionClaims

TYPES = {p.USER: "IAMUser", p.ASSUMED_ROLE: "AssumedRole", p.ROOT: "Root", p.FEDERATED_USER: "FederatedUser"}
# The caller of AssumeRoleWithWebIdentity once its token checked out: a Principal of this kind
# carries the provider's ARN as ``arn``, ``<provider>:<aud>:<sub>`` as ``user_id`` and the
# subject as ``name`` (it only ever exists for that one call's audit record).
WEB_IDENTITY_USER = "web-identity-user"


def _attributes(principal: p.Principal) -> dict[str, str]:
    assert principal.session is not None
    created = datetime.fromtimestamp(principal.session.issued_at, UTC)
    return {"creationDate": iso(created), "mfaAuthenticated": "true" if principal.session.mfa else "false"}


def _issuer(principal: p.Principal) -> dict[str, str]:
    """``sessionIssuer``: the role behind a role session, the user behind a federated one."""
    claims = principal.session
    assert claims is not None
    if principal.kind == p.ASSUMED_ROLE:
        role = principal.role
        arn = role.arn if role is not None else ids.role_arn(claims.account, claims.role_path, claims.name,
                                                            principal.partition)
        return {"type": "Role", "principalId": claims.principal_id, "arn": arn, "accountId": claims.account,
                "userName": claims.name}
    if principal.kind == p.FEDERATED_USER and principal.user is not None:
        user = principal.user
        return {"type": "IAMUser", "principalId": user.id, "arn": user.arn, "accountId": user.account,
                "userName": user.name}
    if principal.kind == p.FEDERATED_USER:
        # Federated by the account root: CloudTrail names "Root" among sessionIssuer's types
        # (userIdentity reference); the fields are the root's as in its own records (no sample
        # of this exact case was recorded).
        return {"type": "Root", "principalId": claims.account,
                "arn": ids.root_arn(claims.account, principal.partition), "accountId": claims.account}
    return {}


def web_identity_user(principal: p.Principal) -> dict[str, Any]:
    """CloudTrail's ``WebIdentityUser`` (IAM User Guide, "Logging IAM and AWS STS API calls with
    AWS CloudTrail", AssumeRoleWithWebIdentity example): no ARN, account or access key."""
    return {
        "type": "WebIdentityUser",
        "principalId": principal.user_id,
        "userName": principal.name,
        "identityProvider": principal.arn,
    }


def user_identity(principal: p.Principal) -> dict[str, Any]:
    """CloudTrail's ``userIdentity`` of a caller, built once per principal object (records
    only read it)."""
    found = principal.memo.get("trail_identity")
    if found is None:
        found = principal.memo["trail_identity"] = _user_identity(principal)
    return found


def _user_identity(principal: p.Principal) -> dict[str, Any]:
    if principal.kind == WEB_IDENTITY_USER:
        return web_identity_user(principal)
    out: dict[str, Any] = {
        "type": TYPES[principal.kind],
        "principalId": principal.user_id,
        "arn": principal.arn,
        "accountId": principal.account,
        "accessKeyId": principal.access_key_id,
    }
    if principal.kind == p.USER:
        out["userName"] = principal.name
    if principal.session is not None:
        context: dict[str, Any] = {"sessionIssuer": _issuer(principal),
                                   "webIdFederationData": _web_id_federation_data(principal.session),
                                   "attributes": _attributes(principal)}
        if principal.session.source_identity is not None:
            context["sourceIdentity"] = principal.session.source_identity
        out["sessionContext"] = context
    return out


def _web_id_federation_data(session: SessionClaims) -> dict[str, Any]:
    """The IdP of a web identity session (its provider's ARN), empty for every other session."""
    provider = session.federated_provider
    return {"federatedProvider": provider, "attributes": {}} if provider else {}


def account_view(principal: p.Principal) -> dict[str, str]:
    """How the other account of a cross-account call sees the caller."""
    return {"type": "AWSAccount", "principalId": principal.user_id, "accountId": principal.account}


def unknown_identity(access_key_id: str | None, account: str | None) -> dict[str, str]:
    """A caller that did not authenticate (bad signature, unknown or expired credentials,
    or no signature at all)."""
    out = {"type": "Unknown"}
    if account:
        out["accountId"] = account
    if access_key_id:
        out["accessKeyId"] = access_key_id
    return out
