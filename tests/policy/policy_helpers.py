"""Builders shared by the policy tests (a uniquely named module, not conftest, so imports
cannot collide with other test packages)."""

from __future__ import annotations

import json
from typing import Any

from stsd.policy import PolicyKind, PrincipalRef, parse_policy

ACCOUNT = "111122223333"
OTHER = "444455556666"


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> str:
    body: dict[str, Any] = {}
    if version is not None:
        body["Version"] = version
    body["Statement"] = list(statements)
    return json.dumps(body)


def identity(*statements: dict[str, Any], version: str | None = "2012-10-17"):
    return parse_policy(doc(*statements, version=version), PolicyKind.IDENTITY)


def trust(*statements: dict[str, Any], version: str | None = "2012-10-17"):
    return parse_policy(doc(*statements, version=version), PolicyKind.TRUST)


def resource_policy(*statements: dict[str, Any]):
    return parse_policy(doc(*statements), PolicyKind.RESOURCE)


def user(name: str = "alice", account: str = ACCOUNT, path: str = "/") -> PrincipalRef:
    return PrincipalRef(account, frozenset({f"arn:aws:iam::{account}:user{path}{name}"}))


def role_session(role: str = "R", session: str = "sess", account: str = ACCOUNT, path: str = "/"):
    return PrincipalRef(
        account,
        frozenset(
            {
                f"arn:aws:iam::{account}:role{path}{role}",
                f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
            }
        ),
        unique_id=f"AROAEXAMPLEROLEID{role.upper()}:{session}",
    )
