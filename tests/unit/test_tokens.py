"""Sealed session tokens: round trips, binding to the access key id, key possession (v1/v2),
rotation and purge — against a real SQLite store."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsd import ids
from stsd.store.crypto import Wrapper
from stsd.store.db import make_engine, migrate, session_factory
from stsd.tokens.claims import FEDERATED, ROLE, SessionClaims, encode_claims
from stsd.tokens.keyring import Keyring, TokenError


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    engine = make_engine(f"sqlite:///{tmp_path / 'k.db'}")
    migrate(engine)
    ring = Keyring(session_factory(engine), Wrapper(b"\x01" * 32))
    ring.ensure_keys()
    return ring


def claims(**overrides: object) -> SessionClaims:
    base = dict(kind=ROLE, account="123456789012", name="deployer", principal_id="AROAQETTJUEC7A57KF4FH",
                session_name="ci", issued_at=1_700_000_000, expires_at=1_700_003_600,
                secret=ids.new_secret_access_key(), region="eu-west-1")
    base.update(overrides)
    return SessionClaims(**base)  # type: ignore[arg-type]


def test_round_trip_and_version(keyring: Keyring) -> None:
    akid = ids.new_access_key_id("123456789012", "ASIA")
    original = claims(tags=(("Team", "blue"),), transitive_keys=("Team",), source_identity="alice")
    for version in (1, 2):
        token = keyring.seal(original, akid, version)
        opened, got_version = keyring.open(token, akid)
        assert opened == original
        assert got_version == version


_OPTIONAL = {
    "mfa": True, "chained": True, "source_identity": "alice", "tags": (("Team", "blue"), ("k", "")),
    "transitive_keys": ("Team",), "policy": '{"Version":"2012-10-17"}', "policy_arns": ("arn:aws:iam::aws:policy/x",),
    "role_path": "/ci/", "parent": "bob", "extra": {"idp": "arn:aws:iam::123456789012:oidc-provider/x"},
}


@given(st.sets(st.sampled_from(sorted(_OPTIONAL))), st.sampled_from([ROLE, FEDERATED]))
def test_encoded_claims_are_the_dataclass_with_its_defaults(present: set[str], kind: str) -> None:
    # Minting encodes without building SessionClaims: omitted fields must mean its defaults.
    fields = {"kind": kind, "account": "123456789012", "name": "n", "principal_id": "AROAQETTJUEC7A57KF4FH",
              "session_name": "s", "issued_at": 1, "expires_at": 2, "secret": "x" * 40, "region": "eu-west-1"}
    fields.update({name: _OPTIONAL[name] for name in present})
    expected = SessionClaims(**fields)  # type: ignore[arg-type]
    assert encode_claims(**fields) == expected.to_bytes()  # type: ignore[arg-type]
    assert SessionClaims.from_bytes(encode_claims(**fields)) == expected  # type: ignore[arg-type]


def test_v2_tokens_are_longer_and_committed(keyring: Keyring) -> None:
    akid = ids.new_access_key_id("123456789012", "ASIA")
    v1 = keyring.seal(claims(), akid, 1)
    v2 = keyring.seal(claims(), akid, 2)
    assert len(v2) > len(v1)
    raw = bytearray(base64.b64decode(v2))
    raw[-1] ^= 0x01  # flip a bit of the commitment only: the ciphertext is intact
    with pytest.raises(TokenError):
        keyring.open(base64.b64encode(bytes(raw)).decode(), akid)


def test_plain_assume_role_token_is_shorter_than_awss(keyring: Keyring) -> None:
    akid = ids.new_access_key_id("123456789012", "ASIA")
    token = keyring.seal(claims(name="r" * 64, session_name="s" * 64), akid, 2)
    assert len(token) <= 770


def test_token_only_opens_with_its_access_key_id(keyring: Keyring) -> None:
    akid = ids.new_access_key_id("123456789012", "ASIA")
    token = keyring.seal(claims(), akid, 2)
    with pytest.raises(TokenError):
        keyring.open(token, ids.new_access_key_id("123456789012", "ASIA"))


def test_v1_tokens_do_not_open_where_v1_keys_are_not_held(keyring: Keyring) -> None:
    akid = ids.new_access_key_id("123456789012", "ASIA")
    v1 = keyring.seal(claims(), akid, 1)
    v2 = keyring.seal(claims(), akid, 2)
    with pytest.raises(TokenError):
        keyring.open(v1, akid, holds_v1=False)
    assert keyring.open(v2, akid, holds_v1=False)[1] == 2


def test_rotation_keeps_old_tokens_and_purge_waits_for_expiry(keyring: Keyring) -> None:
    akid = ids.new_access_key_id("123456789012", "ASIA")
    old = keyring.seal(claims(), akid, 2)
    keyring.rotate()
    new = keyring.seal(claims(), akid, 2)
    assert base64.b64decode(old)[2:4] != base64.b64decode(new)[2:4]
    assert keyring.open(old, akid)[0].name == "deployer"
    assert keyring.purge() == 0
    assert keyring.purge(now=datetime.now(UTC) + timedelta(hours=37)) == 2
    with pytest.raises(TokenError):
        keyring.open(old, akid)
    assert keyring.open(new, akid)[0].name == "deployer"


def test_long_session_policies_are_compressed(keyring: Keyring) -> None:
    akid = ids.new_access_key_id("123456789012", "ASIA")
    policy = '{"Version":"2012-10-17","Statement":[' + ",".join(
        f'{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket-{i}/*"}}' for i in range(20)
    ) + "]}"
    token = keyring.seal(claims(policy=policy), akid, 2)
    assert len(token) < len(policy)
    assert keyring.open(token, akid)[0].policy == policy


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_open(keyring_bytes: bytes) -> None:
    # A fresh keyring per example would be slow; garbage never opens under any key anyway.
    ring = _shared_ring()
    akid = "ASIARZPUZDIKAAAAAAAA"
    with pytest.raises(TokenError):
        ring.open(base64.b64encode(keyring_bytes).decode(), akid)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_opens(text: str) -> None:
    with pytest.raises(TokenError):
        _shared_ring().open(text, "ASIARZPUZDIKAAAAAAAA")


_RING: Keyring | None = None


def _shared_ring() -> Keyring:
    global _RING
    if _RING is None:
        engine = make_engine("sqlite://")
        migrate(engine)
        _RING = Keyring(session_factory(engine), Wrapper(b"\x02" * 32))
        _RING.ensure_keys()
    return _RING


def test_remembered_tokens_still_obey_key_possession(keyring: Keyring) -> None:
    # The first open is remembered; the second must still refuse a Region without v1 keys.
    akid = ids.new_access_key_id("123456789012", "ASIA")
    v1 = keyring.seal(claims(), akid, 1)
    assert keyring.open(v1, akid)[1] == 1
    assert keyring.open(v1, akid)[1] == 1
    with pytest.raises(TokenError):
        keyring.open(v1, akid, holds_v1=False)


def test_remembered_tokens_stop_opening_once_their_key_is_purged(keyring: Keyring) -> None:
    akid = ids.new_access_key_id("123456789012", "ASIA")
    token = keyring.seal(claims(), akid, 2)
    first = keyring.open(token, akid)
    assert keyring.open(token, akid) is not None and keyring.open(token, akid)[0] is first[0]  # remembered
    keyring.rotate()
    assert keyring.purge(now=datetime.now(UTC) + timedelta(hours=37)) == 2
    with pytest.raises(TokenError):
        keyring.open(token, akid)


def test_remembered_tokens_are_bound_to_their_access_key_id(keyring: Keyring) -> None:
    akid = ids.new_access_key_id("123456789012", "ASIA")
    token = keyring.seal(claims(), akid, 2)
    keyring.open(token, akid)
    with pytest.raises(TokenError):
        keyring.open(token, ids.new_access_key_id("123456789012", "ASIA"))
