"""The authenticated caller, in the shapes AWS uses for ARNs and user ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stsd import ids
from stsd.store.directory import RoleView, UserView
from stsd.tokens import claims as kinds
from stsd.tokens.claims import SessionClaims

ROOT = "root"
USER = "user"
ASSUMED_ROLE = "assumed-role"
FEDERATED_USER = "federated-user"


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # ROOT | USER | ASSUMED_ROLE | FEDERATED_USER
    account: str
    partition: str
    arn: str
    user_id: str  # GetCallerIdentity UserId / aws:userid
    access_key_id: str
    name: str = ""  # user, role or federated-user name
    session: SessionClaims | None = None
    token_version: int | None = None
    user: UserView | None = None  # IAM user behind a USER principal (also GetSessionToken)
    role: RoleView | None = None  # role behind an ASSUMED_ROLE principal
    # What authorisation derives from this principal alone (its policies, its policy-engine
    # identity, its condition keys), computed on first use. Principals are cached per
    # directory snapshot, so this is computed once per caller, not once per request.
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_session(self) -> bool:
        return self.session is not None

    @property
    def mfa(self) -> bool:
        return bool(self.session and self.session.mfa)

    def match_arns(self) -> frozenset[str]:
        """Every ARN by which a Principal element of a resource policy can name this caller."""
        if self.kind == ASSUMED_ROLE and self.role is not None:
            return frozenset({self.arn, self.role.arn})
        return frozenset({self.arn})

    @property
    def unique_id(self) -> str:
        if self.kind == ASSUMED_ROLE and self.role is not None:
            return self.role.id
        return self.user_id.split(":", 1)[0]


def root(account: str, partition: str, access_key_id: str, session: SessionClaims | None = None,
         token_version: int | None = None) -> Principal:
    return Principal(ROOT, account, partition, ids.root_arn(account, partition), account,
                     access_key_id, session=session, token_version=token_version)


def iam_user(user: UserView, partition: str, access_key_id: str, session: SessionClaims | None = None,
             token_version: int | None = None) -> Principal:
    return Principal(USER, user.account, partition, user.arn, user.id, access_key_id, user.name,
                     session=session, token_version=token_version, user=user)


def assumed_role(claims: SessionClaims, role: RoleView | None, partition: str, access_key_id: str,
                 token_version: int) -> Principal:
    return Principal(
        ASSUMED_ROLE,
        claims.account,
        partition,
        ids.assumed_role_arn(claims.account, claims.name, claims.session_name, partition),
        f"{claims.principal_id}:{claims.session_name}",
        access_key_id,
        claims.name,
        session=claims,
        token_version=token_version,
        role=role,
    )


def federated_user(claims: SessionClaims, parent: UserView | None, partition: str, access_key_id: str,
                   token_version: int) -> Principal:
    return Principal(
        FEDERATED_USER,
        claims.account,
        partition,
        ids.federated_user_arn(claims.account, claims.name, partition),
        f"{claims.account}:{claims.name}",
        access_key_id,
        claims.name,
        session=claims,
        token_version=token_version,
        user=parent,
    )


SESSION_KINDS = {kinds.ROLE: ASSUMED_ROLE, kinds.FEDERATED: FEDERATED_USER, kinds.USER: USER, kinds.ROOT: ROOT}
