"""Global-endpoint session token versions (aws-sts-behaviour.md §3.6): the global endpoint
issues the issuing account's GlobalEndpointTokenVersion — v1 by default, "valid only in AWS
Regions that are available by default" — until IAM SetSecurityTokenServicePreferences
selects v2Token ("valid in all Regions ... longer"); Regional endpoints always issue tokens
valid everywhere."""

from __future__ import annotations

import pytest

from stsd.testing import Credentials
from tests.regions_e2e.conftest import (
    INVALID_TOKEN,
    NORTH_SOURCE,
    TOKENS,
    RawSts,
    World,
    error_of,
    eventually,
    iam,
    make_role,
    session_of,
    sts_at,
)

HK = "ap-east-1"
DEFAULT_REGIONS = ("eu-west-1", "us-east-1", "global", "sa-east-1")


@pytest.fixture(scope="module")
def account(world: World) -> str:
    """TOKENS, with ap-east-1 enabled (so only the token version can keep a session out)."""
    world.runtime.regions.set_opt_status(TOKENS, HK, "ENABLED", None)
    eventually(lambda: sts_at(world, world.admin(TOKENS), HK).get_caller_identity())
    return TOKENS


@pytest.fixture(scope="module")
def role(world: World, account: str) -> str:
    return make_role(world, account, "tokens", f"arn:aws:iam::{account}:user/admin")


def set_version(world: World, version: str) -> None:
    iam(world, TOKENS).set_security_token_service_preferences(GlobalEndpointTokenVersion=version)


def summary_version(world: World) -> int:
    return iam(world, TOKENS).get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"]


def global_session(world: World, account: str) -> tuple[str, Credentials]:
    out = sts_at(world, world.admin(account), "global").get_session_token()
    return out["Credentials"]["SessionToken"], session_of(out, account)


def test_v1_global_tokens_are_refused_in_opt_in_regions(world: World, account: str, role: str) -> None:
    set_version(world, "v1Token")
    assert summary_version(world) == 1
    _token, user_session = global_session(world, account)
    role_session = session_of(sts_at(world, world.admin(account), "global")
                              .assume_role(RoleArn=role, RoleSessionName="v1"), account)
    for creds in (user_session, role_session):
        assert error_of(sts_at(world, creds, HK).get_caller_identity) == INVALID_TOKEN
        for endpoint in DEFAULT_REGIONS:
            assert sts_at(world, creds, endpoint).get_caller_identity()["Account"] == account
    # The account's long-term credentials are fine there: only the token is refused.
    assert sts_at(world, world.admin(account), HK).get_caller_identity()["Account"] == account


def test_v1_from_the_global_endpoint_wherever_it_is_served(world: World, raw: RawSts, account: str) -> None:
    """Served in eu-north-1 for a caller there, the global endpoint still issues v1."""
    set_version(world, "v1Token")
    reply = raw.call(world.admin(account), "GetSessionToken", endpoint="global", source=NORTH_SOURCE)
    assert reply.serving_region == "eu-north-1"
    c = reply.result("GetSessionToken")["Credentials"]
    creds = Credentials(account, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert error_of(sts_at(world, creds, HK).get_caller_identity) == INVALID_TOKEN
    assert sts_at(world, creds, "eu-north-1").get_caller_identity()["Account"] == account


def test_v2_preference_makes_global_tokens_valid_everywhere(world: World, account: str, role: str) -> None:
    set_version(world, "v1Token")
    v1_token, v1_session = global_session(world, account)
    try:
        set_version(world, "v2Token")
        assert summary_version(world) == 2
        v2_token, v2_session = global_session(world, account)
        v2_role = session_of(sts_at(world, world.admin(account), "global")
                             .assume_role(RoleArn=role, RoleSessionName="v2"), account)
        for creds in (v2_session, v2_role):
            for endpoint in (HK, *DEFAULT_REGIONS):
                assert sts_at(world, creds, endpoint).get_caller_identity()["Account"] == account
        # Sessions issued before the change keep their version.
        assert error_of(sts_at(world, v1_session, HK).get_caller_identity) == INVALID_TOKEN
        # "version 2 tokens are longer"
        assert len(v2_token) > len(v1_token)
    finally:
        set_version(world, "v1Token")
    assert summary_version(world) == 1
    v1_again, creds = global_session(world, account)
    assert error_of(sts_at(world, creds, HK).get_caller_identity) == INVALID_TOKEN
    assert len(v1_again) < len(v2_token)


def test_regional_tokens_are_valid_everywhere(world: World, account: str, role: str) -> None:
    set_version(world, "v1Token")
    v1_token, _ = global_session(world, account)
    for issuer in ("eu-west-1", "us-east-1", HK):
        out = sts_at(world, world.admin(account), issuer).get_session_token()
        creds = session_of(out, account)
        assumed = session_of(sts_at(world, world.admin(account), issuer)
                             .assume_role(RoleArn=role, RoleSessionName="regional"), account)
        for c in (creds, assumed):
            for endpoint in (HK, *DEFAULT_REGIONS):
                assert sts_at(world, c, endpoint).get_caller_identity()["Account"] == account
        # Regional tokens are the long kind, even at us-east-1 ("us-east-1 (Regional)").
        assert len(out["Credentials"]["SessionToken"]) > len(v1_token)
