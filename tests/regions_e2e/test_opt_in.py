"""Opt-in Regions (ap-east-1, Hong Kong) (aws-sts-behaviour.md §3.1, §3.5): an account's
credentials exist there only once the account enabled the Region, and "for Regions that are
manually enabled, you must activate the Region in both the account making the request and
the account where the temporary credentials are generated"."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.regions_e2e.conftest import (
    INVALID_TOKEN,
    OPTIN_A,
    OPTIN_B,
    World,
    error_of,
    eventually,
    make_role,
    region_disabled,
    session_of,
    sts_at,
)

A, B = OPTIN_A, OPTIN_B

HK = "ap-east-1"


@pytest.fixture(scope="module")
def roles(world: World) -> dict[str, str]:
    """role_in[X]: a role in account X trusted by the other account."""
    return {A: make_role(world, A, "from-b", f"arn:aws:iam::{B}:root"),
            B: make_role(world, B, "from-a", f"arn:aws:iam::{A}:root")}


@pytest.fixture
def disabled_again(world: World) -> Iterator[None]:
    """Disable ap-east-1 for both accounts again, and wait until the server has seen it."""
    yield
    for account in (A, B):
        world.runtime.regions.set_opt_status(account, HK, "DISABLED", None)
    for account in (A, B):
        assert eventually(lambda account=account: error_of(sts_at(world, world.admin(account), HK)
                                                           .get_caller_identity)) == INVALID_TOKEN


def whoami(world: World, account: str, endpoint: str = HK) -> dict:
    return sts_at(world, world.admin(account), endpoint).get_caller_identity()


def assume(world: World, caller: str, role_arn: str, endpoint: str = HK, name: str = "hk") -> dict:
    return sts_at(world, world.admin(caller), endpoint).assume_role(RoleArn=role_arn, RoleSessionName=name)


def test_credentials_do_not_exist_in_a_region_the_account_did_not_enable(world: World) -> None:
    for account in (A, B):
        assert error_of(sts_at(world, world.admin(account), HK).get_caller_identity) == INVALID_TOKEN
        assert error_of(sts_at(world, world.admin(account), HK).get_session_token) == INVALID_TOKEN
    # Other opt-in Regions too; Regions enabled by default need nothing.
    assert error_of(sts_at(world, world.admin(A), "af-south-1").get_caller_identity) == INVALID_TOKEN
    assert whoami(world, A, "eu-west-1")["Account"] == A


def test_opt_in_region_enabled_by_one_account(world: World, roles: dict[str, str], disabled_again: None) -> None:
    world.runtime.regions.set_opt_status(B, HK, "ENABLED", None)
    assert eventually(lambda: whoami(world, B))["Arn"] == f"arn:aws:iam::{B}:user/admin"
    # Enabling activates STS there: B generates its own credentials in ap-east-1 ...
    creds = session_of(sts_at(world, world.admin(B), HK).get_session_token(), B)
    assert sts_at(world, creds, HK).get_caller_identity()["Arn"] == f"arn:aws:iam::{B}:user/admin"
    # ... while A's credentials still do not exist there, not even to ask for B's role,
    assert error_of(sts_at(world, world.admin(A), HK).get_caller_identity) == INVALID_TOKEN
    assert error_of(assume, world=world, caller=A, role_arn=roles[B]) == INVALID_TOKEN
    # and B cannot get credentials of A, which did not enable the Region.
    assert error_of(assume, world=world, caller=B, role_arn=roles[A]) == region_disabled(A)
    # A's credentials for B's role, obtained elsewhere, are B's: they work in ap-east-1.
    a_in_b = session_of(assume(world, A, roles[B], endpoint="eu-west-1", name="from-eu"), B)
    assert sts_at(world, a_in_b, HK).get_caller_identity()["Arn"] == f"arn:aws:sts::{B}:assumed-role/from-a/from-eu"


def test_both_accounts_enabled(world: World, roles: dict[str, str], disabled_again: None) -> None:
    regions = world.runtime.regions
    regions.set_opt_status(B, HK, "ENABLED", None)
    regions.set_opt_status(A, HK, "ENABLED", None)
    assert eventually(lambda: whoami(world, A))["Account"] == A
    assert eventually(lambda: whoami(world, B))["Account"] == B

    a_in_b = session_of(assume(world, A, roles[B]), B)
    b_in_a = session_of(assume(world, B, roles[A]), A)
    assert sts_at(world, a_in_b, HK).get_caller_identity()["Arn"] == f"arn:aws:sts::{B}:assumed-role/from-a/hk"
    assert sts_at(world, b_in_a, HK).get_caller_identity()["Arn"] == f"arn:aws:sts::{A}:assumed-role/from-b/hk"
    # Regional tokens from the opt-in Region work in Regions enabled by default, too.
    assert sts_at(world, a_in_b, "eu-west-1").get_caller_identity()["Account"] == B

    # A disables the Region again: its credentials (and sessions) vanish there, and B can no
    # longer have A's credentials generated there.
    regions.set_opt_status(A, HK, "DISABLED", None)
    assert eventually(lambda: error_of(sts_at(world, world.admin(A), HK).get_caller_identity)) == INVALID_TOKEN
    assert error_of(sts_at(world, b_in_a, HK).get_caller_identity) == INVALID_TOKEN
    assert error_of(assume, world=world, caller=B, role_arn=roles[A]) == region_disabled(A)
    # B's side is untouched, and A's session still works where A's credentials exist.
    assert sts_at(world, a_in_b, HK).get_caller_identity()["Account"] == B
    assert sts_at(world, b_in_a, "eu-west-1").get_caller_identity()["Account"] == A


def test_enabling_takes_effect_when_the_transition_settles(world: World, disabled_again: None) -> None:
    """ENABLING is not yet ENABLED: the account's credentials appear only at ``settles_at``."""
    settle = 2.5
    settles_at = datetime.now(UTC) + timedelta(seconds=settle)
    started = time.monotonic()
    world.runtime.regions.set_opt_status(A, HK, "ENABLING", settles_at)
    assert error_of(sts_at(world, world.admin(A), HK).get_caller_identity) == INVALID_TOKEN
    assert eventually(lambda: whoami(world, A), timeout=settle + 4)["Account"] == A
    # The server picks writes up within about a second, so an early success would show here.
    assert time.monotonic() - started >= settle - 0.2
