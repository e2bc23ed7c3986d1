"""What a session token carries. The server keeps no row per session: everything needed to
authenticate and authorise the session's later calls is sealed into its token."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import orjson

ROLE = "role"  # AssumeRole*
FEDERATED = "federated"  # GetFederationToken
USER = "user"  # GetSessionToken by an IAM user
ROOT = "root"  # GetSessionToken by the account root

_KINDS = (ROLE, FEDERATED, USER, ROOT)
_FLAG_MFA = 1
_FLAG_CHAINED = 2
_SCHEMA = 1
# ``extra`` key: the IAM OIDC provider ARN of a web identity session (CloudTrail's
# webIdFederationData.federatedProvider, the aws:FederatedProvider condition key).
EXTRA_FEDERATED_PROVIDER = "idp"


@dataclass(frozen=True, slots=True)
class SessionClaims:
    kind: str
    account: str
    name: str  # role name, federated name or IAM user name ("" for root)
    principal_id: str  # role id (AROA…), user id (AIDA…) or the account id for root
    session_name: str  # RoleSessionName ("" unless kind is role)
    issued_at: int  # epoch seconds; aws:TokenIssueTime
    expires_at: int
    secret: str
    region: str  # Region whose endpoint issued the token
    mfa: bool = False
    chained: bool = False  # obtained with session credentials (role chaining)
    source_identity: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    transitive_keys: tuple[str, ...] = ()
    policy: str | None = None  # inline session policy
    policy_arns: tuple[str, ...] = ()
    role_path: str = "/"
    parent: str | None = None  # federated: the IAM user's name whose permissions bound the session
    extra: dict[str, str] = field(default_factory=dict)  # forward-compatible room (e.g. IdP data)

    @property
    def federated_provider(self) -> str | None:
        return self.extra.get(EXTRA_FEDERATED_PROVIDER) if self.extra else None

    def to_bytes(self) -> bytes:
        return encode_claims(
            self.kind, self.account, self.name, self.principal_id, self.session_name, self.issued_at,
            self.expires_at, self.secret, self.region, self.mfa, self.chained, self.source_identity, self.tags,
            self.transitive_keys, self.policy, self.policy_arns, self.role_path, self.parent, self.extra,
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> SessionClaims:
        v = orjson.loads(raw)
        if v[0] != _SCHEMA:
            raise ValueError("unknown claims schema")
        flat = v[12]
        return cls(
            kind=_KINDS[v[1]],
            account=v[2],
            name=v[3],
            principal_id=v[4],
            session_name=v[5],
            issued_at=v[6],
            expires_at=v[7],
            secret=v[8],
            region=v[9],
            mfa=bool(v[10] & _FLAG_MFA),
            chained=bool(v[10] & _FLAG_CHAINED),
            source_identity=v[11],
            tags=tuple(zip(flat[0::2], flat[1::2], strict=True)),
            transitive_keys=tuple(v[13]),
            policy=v[14],
            policy_arns=tuple(v[15]),
            role_path=v[16],
            parent=v[17],
            extra=v[18] or {},
        )


def encode_claims(
    kind: str,
    account: str,
    name: str,
    principal_id: str,
    session_name: str,
    issued_at: int,
    expires_at: int,
    secret: str,
    region: str,
    mfa: bool = False,
    chained: bool = False,
    source_identity: str | None = None,
    tags: tuple[tuple[str, str], ...] = (),
    transitive_keys: tuple[str, ...] = (),
    policy: str | None = None,
    policy_arns: tuple[str, ...] = (),
    role_path: str = "/",
    parent: str | None = None,
    extra: dict[str, str] | None = None,
) -> bytes:
    """The sealed form of a session's claims (the fields and defaults of SessionClaims).

    Minting calls this directly: building the frozen dataclass first cost more than the
    encoding itself, and nothing on that path reads the claims back.
    """
    flags = (_FLAG_MFA if mfa else 0) | (_FLAG_CHAINED if chained else 0)
    return orjson.dumps(
        [
            _SCHEMA,
            _KINDS.index(kind),
            account,
            name,
            principal_id,
            session_name,
            issued_at,
            expires_at,
            secret,
            region,
            flags,
            source_identity,
            [item for pair in tags for item in pair],
            list(transitive_keys),
            policy,
            list(policy_arns),
            role_path,
            parent,
            extra or None,
        ]
    )


def compress(raw: bytes) -> bytes | None:
    """zlib-compressed bytes when that is shorter (long session policies), else None."""
    packed = zlib.compress(raw, 9)
    return packed if len(packed) < len(raw) else None


def decompress(raw: bytes) -> bytes:
    # Bounded: a sealed token was written by us, but never trust sizes blindly.
    d = zlib.decompressobj()
    out = d.decompress(raw, 1 << 20)
    if d.unconsumed_tail:
        raise ValueError("claims too large")
    return out
