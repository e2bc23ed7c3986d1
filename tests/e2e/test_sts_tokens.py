"""Session tokens on the wire: size, and every way a token stops working — swapped between
sessions, tampered with, missing, expired, or issued for a role or user that has since been
deleted (and re-created under the same name) (aws-sts-behaviour.md §6.4, §7)."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import replace

import pytest

from stsd import ids
from stsd.config import Settings
from stsd.store.crypto import Wrapper, load_or_create_master_key
from stsd.store.db import make_engine, session_factory
from stsd.testing import Credentials
from stsd.tokens.claims import ROLE, SessionClaims
from stsd.tokens.keyring import Keyring
from tests.conftest import trust
from tests.e2e.test_sts_helpers import (
    ACCOUNT_A,
    MSG_EXPIRED_TOKEN,
    MSG_INVALID_TOKEN,
    aws_error,
    error_of,
    iam_client,
    role_id,
    role_name,
    session_credentials,
    sts_client,
    unique,
    user_arn,
)

INVALID = aws_error(403, "InvalidClientTokenId", MSG_INVALID_TOKEN)
EXPIRED = aws_error(403, "ExpiredToken", MSG_EXPIRED_TOKEN)
MISMATCH = aws_error(403, "SignatureDoesNotMatch",
                     "The request signature we calculated does not match the signature you provided. "
                     "Check your AWS Secret Access Key and signing method. "
                     "Consult the service documentation for details.")


@pytest.fixture
def role_session(server, make_user, make_role):
    """Factory: (role ARN, session credentials) for a fresh role trusting a fresh user."""

    def _make(session_name: str = "tok", **extra) -> tuple[str, Credentials]:
        user = make_user()
        role = make_role(trust({"AWS": user_arn(user)}), **extra)
        out = sts_client(server, user).assume_role(RoleArn=role, RoleSessionName=session_name)
        return role, session_credentials(out, ACCOUNT_A)

    return _make


def whoami(server, creds: Credentials) -> dict:
    return error_of(sts_client(server, creds).get_caller_identity)


def test_plain_assume_role_token_size(role_session):
    _role, creds = role_session()
    assert 200 <= len(creds.session_token) <= 770
    assert re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", creds.session_token)
    # Longest session name and a long path do not push it over either.
    _role, creds = role_session("s" * 64, Path="/" + "p" * 100 + "/")
    assert 200 <= len(creds.session_token) <= 770


def test_swapped_tokens_are_invalid(server, role_session):
    _r1, one = role_session()
    _r2, two = role_session()
    assert whoami(server, replace(one, session_token=two.session_token)) == INVALID
    assert whoami(server, replace(two, session_token=one.session_token)) == INVALID


def test_tokens_of_the_same_role_are_not_interchangeable(server, make_user, make_role):
    user = make_user()
    role = make_role(trust({"AWS": user_arn(user)}))
    sts = sts_client(server, user)
    one = session_credentials(sts.assume_role(RoleArn=role, RoleSessionName="same"), ACCOUNT_A)
    two = session_credentials(sts.assume_role(RoleArn=role, RoleSessionName="same"), ACCOUNT_A)
    assert whoami(server, replace(one, session_token=two.session_token)) == INVALID
    # The other session's secret with its own token and this key id: also invalid.
    assert whoami(server, replace(two, access_key_id=one.access_key_id)) == INVALID


def test_tampered_tokens_are_invalid(server, role_session):
    _role, creds = role_session()
    token = creds.session_token
    raw = bytearray(base64.b64decode(token))
    variants = []
    for index in (0, 3, len(raw) // 2, len(raw) - 1):
        flipped = bytearray(raw)
        flipped[index] ^= 0x01
        variants.append(base64.b64encode(bytes(flipped)).decode())
    variants += [token[:-8], token[:40], token + "AAAA", "not-base64!", "AAAA", token.replace("A", "B", 1)]
    for variant in variants:
        assert variant != token
        assert whoami(server, replace(creds, session_token=variant)) == INVALID, variant


def test_session_key_without_token_is_invalid(server, role_session):
    _role, creds = role_session()
    assert whoami(server, replace(creds, session_token=None)) == INVALID


def test_long_term_key_with_a_token_is_invalid(server, make_user, role_session):
    _role, creds = role_session()
    user = make_user()
    assert whoami(server, replace(user, session_token=creds.session_token)) == INVALID


def test_valid_token_with_wrong_secret_is_a_signature_mismatch(server, role_session):
    _role, creds = role_session()
    assert whoami(server, replace(creds, secret_access_key="x" * 40)) == MISMATCH


def test_deleted_role_invalidates_its_sessions(server, role_session):
    role, creds = role_session()
    sts_client(server, creds).get_caller_identity()
    iam_client(server).delete_role(RoleName=role_name(role))
    assert whoami(server, creds) == INVALID


def test_recreated_role_does_not_revive_old_sessions(server, make_user, make_role):
    user = make_user()
    name = unique("role")
    role = make_role(trust({"AWS": user_arn(user)}), name=name)
    sts = sts_client(server, user)
    old = session_credentials(sts.assume_role(RoleArn=role, RoleSessionName="old"), ACCOUNT_A)
    old_id = role_id(server, role)
    iam = iam_client(server)
    iam.delete_role(RoleName=name)
    assert make_role(trust({"AWS": user_arn(user)}), name=name) == role
    assert role_id(server, role) != old_id
    assert whoami(server, old) == INVALID
    new = session_credentials(sts.assume_role(RoleArn=role, RoleSessionName="new"), ACCOUNT_A)
    assert sts_client(server, new).get_caller_identity()["UserId"] == f"{role_id(server, role)}:new"
    assert whoami(server, old) == INVALID


def test_recreated_user_does_not_revive_old_session_tokens(server, make_user):
    iam = iam_client(server)
    user = make_user()
    session = session_credentials(sts_client(server, user).get_session_token(DurationSeconds=900), ACCOUNT_A)
    sts_client(server, session).get_caller_identity()
    iam.delete_access_key(UserName=user.user_name, AccessKeyId=user.access_key_id)
    iam.delete_user(UserName=user.user_name)
    assert whoami(server, session) == INVALID
    iam.create_user(UserName=user.user_name)
    assert whoami(server, session) == INVALID


# --- expiry -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyring(server):
    """The server's own sealing keys (read from its data directory), to mint a token that has
    already expired without waiting 15 minutes."""
    engine = make_engine(Settings(data_dir=server.data_dir).resolved_database_url())
    ring = Keyring(session_factory(engine), Wrapper(load_or_create_master_key(server.data_dir)))
    ring.reload()
    yield ring
    engine.dispose()


def sealed_session(server, keyring, role: str, *, expires_in: int) -> Credentials:
    now = int(time.time())
    key_id = ids.new_access_key_id(ACCOUNT_A, ids.SESSION_KEY_PREFIX)
    claims = SessionClaims(kind=ROLE, account=ACCOUNT_A, name=role_name(role), principal_id=role_id(server, role),
                           session_name="sealed", issued_at=now - 3600, expires_at=now + expires_in,
                           secret=ids.new_secret_access_key(), region="us-east-1")
    return Credentials(ACCOUNT_A, key_id, claims.secret, keyring.seal(claims, key_id, 2))


def test_expired_token(server, keyring, role_session):
    role, _creds = role_session()
    live = sealed_session(server, keyring, role, expires_in=600)
    assert sts_client(server, live).get_caller_identity()["Arn"] == (
        f"arn:aws:sts::{ACCOUNT_A}:assumed-role/{role_name(role)}/sealed")
    expired = sealed_session(server, keyring, role, expires_in=-1)
    assert whoami(server, expired) == EXPIRED
    # Expiry is reported whatever the signature.
    assert whoami(server, replace(expired, secret_access_key="x" * 40)) == EXPIRED
    assert error_of(sts_client(server, expired).assume_role, RoleArn=role, RoleSessionName="late") == EXPIRED
