"""Real STS host names in the ``Host`` header (aws-sts-behaviour.md §3.1, §3.4, §6.4): the
host picks the endpoint, and the SigV4 scope must be that endpoint's Region —
``sts.amazonaws.com`` only accepts us-east-1 — or STS answers 403 SignatureDoesNotMatch
"Credential should be scoped to a valid region. "."""

from __future__ import annotations

import pytest

from tests.regions_e2e.conftest import (
    HOSTS,
    MSG_SCOPE_REGION,
    NORTH_SOURCE,
    UNMAPPED_SOURCE,
    RawSts,
    Reply,
    World,
    admin_arn,
    exact_error_xml,
    extended_request_id,
)


def whoami(raw: RawSts, world: World, host: str, sign_region: str, source: str | None = None) -> Reply:
    return raw.call(world.admin(HOSTS), "GetCallerIdentity", endpoint=None, host=host,
                    sign_region=sign_region, source=source)


def assert_scope_error(reply: Reply) -> None:
    assert reply.status == 403
    assert reply.body == exact_error_xml(reply, "SignatureDoesNotMatch", MSG_SCOPE_REGION)


@pytest.mark.parametrize(("host", "region"), [
    ("sts.eu-west-1.amazonaws.com", "eu-west-1"),
    ("sts.eu-north-1.amazonaws.com", "eu-north-1"),
    ("sts.us-east-1.amazonaws.com", "us-east-1"),
    ("STS.EU-WEST-1.AMAZONAWS.COM", "eu-west-1"),
    ("sts.eu-west-1.amazonaws.com.", "eu-west-1"),
    ("sts-fips.us-east-2.amazonaws.com", "us-east-2"),
    ("sts.eu-west-1.api.aws", "eu-west-1"),
    ("vpce-0abc1234-5678efgh.sts.eu-west-1.vpce.amazonaws.com", "eu-west-1"),
])
def test_regional_host_is_served_in_its_region(world: World, raw: RawSts, host: str, region: str) -> None:
    for source in (UNMAPPED_SOURCE, NORTH_SOURCE):  # where the caller is does not matter
        reply = whoami(raw, world, host, region, source)
        assert reply.status == 200, reply.text
        assert reply.result("GetCallerIdentity")["Arn"] == admin_arn(HOSTS)
        assert reply.serving_region == region
        assert extended_request_id(reply)[0] == region


@pytest.mark.parametrize("wrong", ["us-east-1", "eu-west-2", "aws-global"])
def test_regional_host_needs_its_own_signing_region(world: World, raw: RawSts, wrong: str) -> None:
    reply = whoami(raw, world, "sts.eu-west-1.amazonaws.com", wrong)
    assert_scope_error(reply)
    assert reply.serving_region == "eu-west-1"


def test_global_host(world: World, raw: RawSts) -> None:
    here = whoami(raw, world, "sts.amazonaws.com", "us-east-1", UNMAPPED_SOURCE)
    assert here.status == 200
    assert here.serving_region == "us-east-1"
    north = whoami(raw, world, "sts.amazonaws.com", "us-east-1", NORTH_SOURCE)
    assert north.status == 200
    assert north.serving_region == "eu-north-1"  # served locally, still signed for us-east-1
    assert extended_request_id(north)[0] == "eu-north-1"
    for wrong in ("eu-north-1", "eu-west-1"):
        assert_scope_error(whoami(raw, world, "sts.amazonaws.com", wrong, NORTH_SOURCE))


@pytest.mark.parametrize("host", [
    "sts.nowhere-9.amazonaws.com",
    "sts.aws-global.amazonaws.com",
    "sts.moon-base-1.amazonaws.com",
    "s3.eu-west-1.amazonaws.com",
])
def test_unknown_sts_host_is_refused(world: World, raw: RawSts, host: str) -> None:
    reply = whoami(raw, world, host, "us-east-1")
    assert reply.status == 400
    assert reply.text == (f"stsd does not serve {host}: not an STS or IAM endpoint name of any AWS partition\n")
    assert "x-stsd-serving-region" not in reply.headers
