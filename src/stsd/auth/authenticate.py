"""Who is calling: SigV4 → a long-term access key or a sealed session token → Principal.

The order of checks reproduces AWS's observed precedence (aws-sts-behaviour.md §6.4):
scope errors first (even with a bad or missing token), then the credential (an expired
token is ExpiredToken whatever the signature; an unknown key or a token that does not open
is InvalidClientTokenId), then the clock, then the signature itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from stsd import ids
from stsd.auth import principal as p
from stsd.auth import sigv4
from stsd.auth.principal_cache import PRINCIPALS
from stsd.errors import (
    MSG_EXPIRED_TOKEN,
    MSG_IAM_INVALID_TOKEN,
    MSG_INVALID_TOKEN,
    MSG_SIGNATURE_MISMATCH,
    AwsError,
    ExpiredToken,
    InvalidClientTokenId,
    SignatureDoesNotMatch,
)
from stsd.tokens import claims as kinds
from stsd.tokens.claims import SessionClaims
from stsd.tokens.keyring import TokenError

MAX_CACHED_TOKEN_CHARS = 4096  # ours are under 1,000; longer ones are not worth the memory


@dataclass(slots=True)  # per request, never shared: frozen would only slow its construction
class RawRequest:
    method: str
    raw_path: bytes
    raw_query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes


def authenticate(
    runtime,  # stsd.server.runtime.Runtime (untyped here to avoid an import cycle)
    signed: sigv4.SigV4Request,
    request: RawRequest,
    *,
    signing_region: str | None,
    service: str,
    now: datetime,
    holds_v1: bool = True,
) -> p.Principal:
    """``signing_region=None`` accepts any Region in the scope (custom endpoint for IAM)."""
    try:
        principal = _authenticate(runtime, signed, request, signing_region, service, now, holds_v1)
    except AwsError as error:
        if service == "iam" and error.spec is InvalidClientTokenId:
            raise InvalidClientTokenId(MSG_IAM_INVALID_TOKEN) from None
        raise
    if service == "iam" and principal.kind in (p.USER, p.ROOT) and principal.session is not None \
            and not principal.mfa:
        # GetSessionToken credentials reach IAM only with MFA; without it IAM refuses the
        # credentials themselves (aws-vault#15/#328).
        raise InvalidClientTokenId(MSG_IAM_INVALID_TOKEN)
    return principal


def _authenticate(
    runtime,
    signed: sigv4.SigV4Request,
    request: RawRequest,
    signing_region: str | None,
    service: str,
    now: datetime,
    holds_v1: bool,
) -> p.Principal:
    if signing_region is not None:
        sigv4.check_scope(signed, region=signing_region, service=service)
    else:
        sigv4.check_scope(signed, region=signed.region, service=service)

    if runtime.settings.emulator:
        principal = _emulated(runtime, signed, now, holds_v1)
        sigv4.check_time(signed, now)
        return principal

    principal, secret = _credential(runtime, signed, now, holds_v1)
    sigv4.check_time(signed, now)
    ok = sigv4.verify(
        signed,
        secret,
        method=request.method,
        raw_path=request.raw_path,
        raw_query=request.raw_query,
        headers=request.headers,
        body=request.body,
    )
    if not ok:
        raise SignatureDoesNotMatch(MSG_SIGNATURE_MISMATCH)
    return principal


def _credential(runtime, signed: sigv4.SigV4Request, now: datetime, holds_v1: bool) -> tuple[p.Principal, str]:
    akid = signed.access_key_id
    if signed.security_token is not None or akid.startswith(ids.SESSION_KEY_PREFIX):
        if signed.security_token is None or not akid.startswith(ids.SESSION_KEY_PREFIX):
            raise InvalidClientTokenId(MSG_INVALID_TOKEN)
        claims, version = _open(runtime, signed.security_token, akid, holds_v1)
        if claims.expires_at <= now.timestamp():
            raise ExpiredToken(MSG_EXPIRED_TOKEN)
        account = runtime.directory.account(claims.account)
        cache_key = (signed.security_token, akid, version)
        principal = PRINCIPALS.get(cache_key, account) if account is not None else None
        if principal is None:
            principal = session_principal(runtime, claims, version, akid)
            if principal is None:
                raise InvalidClientTokenId(MSG_INVALID_TOKEN)
            if account is not None and len(signed.security_token) <= MAX_CACHED_TOKEN_CHARS:
                PRINCIPALS.put(cache_key, account, principal)
        return principal, claims.secret
    found = runtime.directory.access_key(akid)
    if found is None or found[1].status != "Active":
        raise InvalidClientTokenId(MSG_INVALID_TOKEN)
    account, key = found
    principal = PRINCIPALS.get(akid, account)
    if principal is None:
        if key.user_name is None:
            principal = p.root(account.id, account.partition, akid)
        else:
            user = account.user(key.user_name)
            if user is None:
                raise InvalidClientTokenId(MSG_INVALID_TOKEN)
            principal = p.iam_user(user, account.partition, akid)
        PRINCIPALS.put(akid, account, principal)
    return principal, key.secret


def _open(runtime, token: str, akid: str, holds_v1: bool) -> tuple[SessionClaims, int]:
    try:
        return runtime.keyring.open(token, akid, holds_v1=holds_v1)
    except TokenError:
        raise InvalidClientTokenId(MSG_INVALID_TOKEN) from None


def session_principal(runtime, claims: SessionClaims, version: int, akid: str) -> p.Principal | None:
    """The principal behind a session, or None when its issuer no longer exists as it was
    (a deleted, or deleted and re-created, role or user invalidates its sessions on AWS)."""
    account = runtime.directory.account(claims.account)
    if account is None:
        return None
    if claims.kind == kinds.ROLE:
        role = account.role(claims.name)
        if role is None or role.id != claims.principal_id:
            if runtime.settings.emulator:
                return p.assumed_role(claims, None, account.partition, akid, version)
            return None
        return p.assumed_role(claims, role, account.partition, akid, version)
    if claims.kind == kinds.ROOT:
        return p.root(account.id, account.partition, akid, session=claims, token_version=version)
    if claims.kind == kinds.FEDERATED and not claims.parent:  # federated by the account root
        return p.federated_user(claims, None, account.partition, akid, version)
    user = account.user(claims.parent or claims.name)
    if user is None or user.id != claims.principal_id:
        return None
    if claims.kind == kinds.FEDERATED:
        return p.federated_user(claims, user, account.partition, akid, version)
    return p.iam_user(user, account.partition, akid, session=claims, token_version=version)


def _emulated(runtime, signed: sigv4.SigV4Request, now: datetime, holds_v1: bool) -> p.Principal:
    """Emulator mode: any credentials work. Our own session tokens still resolve to their
    session; known keys to their user; a 12-digit key id selects that account's root."""
    akid = signed.access_key_id
    if signed.security_token is not None and akid.startswith(ids.SESSION_KEY_PREFIX):
        try:
            claims, version = runtime.keyring.open(signed.security_token, akid, holds_v1=holds_v1)
        except TokenError:
            claims = None
        if claims is not None:
            if claims.expires_at <= now.timestamp():
                raise ExpiredToken(MSG_EXPIRED_TOKEN)
            principal = session_principal(runtime, claims, version, akid)
            if principal is not None:
                return principal
    found = runtime.directory.access_key(akid)
    if found is not None:
        account, key = found
        user = account.user(key.user_name) if key.user_name else None
        if user is not None:
            return p.iam_user(user, account.partition, akid)
    if ids.is_account_id(akid):
        account_id = akid
    else:
        account_id = ids.account_from_access_key_id(akid) or runtime.settings.default_account
    runtime.ensure_account(account_id)
    return p.root(account_id, "aws", akid)
