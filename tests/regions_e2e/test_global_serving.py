"""Where the global endpoint serves a request (aws-sts-behaviour.md §3.4, 2025 change):
callers in a Region enabled by default are served there, callers in opt-in Regions and
outside AWS in us-east-1; ``legacy`` mode serves everything in us-east-1. Wherever it is
served, ``aws:RequestedRegion`` is us-east-1 on the global endpoint, while Regional
endpoints carry their own Region. ``x-amz-sts-extended-request-id`` names the serving
Region."""

from __future__ import annotations

import time

import pytest

from tests.regions_e2e.conftest import (
    HONG_KONG_SOURCE,
    NORTH_SOURCE,
    SERVING,
    UNMAPPED_SOURCE,
    RawSts,
    Reply,
    World,
    admin_arn,
    extended_request_id,
    make_role,
)

SOURCES = {NORTH_SOURCE: "eu-north-1", HONG_KONG_SOURCE: "us-east-1", UNMAPPED_SOURCE: "us-east-1"}


def check_extended_id(reply: Reply, region: str) -> None:
    served, millis, tail = extended_request_id(reply)
    assert served == region
    assert abs(millis - time.time() * 1000) < 60_000
    assert len(tail) == 8


@pytest.mark.parametrize(("source", "served"), SOURCES.items())
def test_global_endpoint_serves_where_the_caller_is(world: World, raw: RawSts, source: str, served: str) -> None:
    reply = raw.call(world.admin(SERVING), "GetCallerIdentity", endpoint="global", source=source)
    assert reply.status == 200
    assert reply.result("GetCallerIdentity")["Arn"] == admin_arn(SERVING)
    assert reply.serving_region == served
    check_extended_id(reply, served)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("region", ["eu-west-2", "us-east-1", "eu-north-1"])
def test_regional_endpoints_serve_in_their_own_region(world: World, raw: RawSts, source: str, region: str) -> None:
    reply = raw.call(world.admin(SERVING), "GetCallerIdentity", endpoint=region, source=source)
    assert reply.status == 200
    assert reply.serving_region == region
    check_extended_id(reply, region)


def test_extended_request_id_on_errors(world: World, raw: RawSts) -> None:
    reply = raw.call(world.admin(SERVING), "AssumeRole",
                     {"RoleArn": f"arn:aws:iam::{SERVING}:role/missing", "RoleSessionName": "x1"},
                     endpoint="global", source=NORTH_SOURCE)
    assert reply.status == 403
    assert reply.error()["Code"] == "AccessDenied"
    assert reply.serving_region == "eu-north-1"
    check_extended_id(reply, "eu-north-1")


@pytest.fixture(scope="module")
def region_roles(world: World) -> dict[str, str]:
    """Roles whose trust policy requires a given aws:RequestedRegion."""
    return {
        region: make_role(world, SERVING, f"requested-{region}", admin_arn(SERVING),
                          {"StringEquals": {"aws:RequestedRegion": region}})
        for region in ("us-east-1", "eu-north-1", "ap-east-1")
    }


def assume_from(raw: RawSts, world: World, role_arn: str, endpoint: str, source: str) -> Reply:
    return raw.call(world.admin(SERVING), "AssumeRole", {"RoleArn": role_arn, "RoleSessionName": "rr"},
                    endpoint=endpoint, source=source)


def denied_xml_message(role_arn: str) -> str:
    return f"User: {admin_arn(SERVING)} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"


@pytest.mark.parametrize("source", SOURCES)
def test_requested_region_is_us_east_1_on_the_global_endpoint(
    world: World, raw: RawSts, region_roles: dict[str, str], source: str
) -> None:
    us = assume_from(raw, world, region_roles["us-east-1"], "global", source)
    assert us.serving_region == SOURCES[source]
    assert us.result("AssumeRole")["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{SERVING}:assumed-role/requested-us-east-1/rr")
    for other in ("eu-north-1", "ap-east-1"):
        reply = assume_from(raw, world, region_roles[other], "global", source)
        assert reply.error() == {"status": 403, "Type": "Sender", "Code": "AccessDenied",
                                 "Message": denied_xml_message(region_roles[other])}
        assert reply.serving_region == SOURCES[source]


def test_requested_region_is_the_regional_endpoints_own(world: World, raw: RawSts,
                                                        region_roles: dict[str, str]) -> None:
    north = assume_from(raw, world, region_roles["eu-north-1"], "eu-north-1", NORTH_SOURCE)
    assert north.result("AssumeRole")["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{SERVING}:assumed-role/requested-eu-north-1/rr")
    refused = assume_from(raw, world, region_roles["us-east-1"], "eu-north-1", NORTH_SOURCE)
    assert refused.error()["Code"] == "AccessDenied"
    # us-east-1's Regional endpoint is us-east-1 as well.
    regional_us = assume_from(raw, world, region_roles["us-east-1"], "us-east-1", UNMAPPED_SOURCE)
    assert regional_us.status == 200
    # A caller in the eu-north-1 network using another Region's endpoint gets that Region.
    refused = assume_from(raw, world, region_roles["eu-north-1"], "eu-west-1", NORTH_SOURCE)
    assert refused.error() == {"status": 403, "Type": "Sender", "Code": "AccessDenied",
                               "Message": denied_xml_message(region_roles["eu-north-1"])}


@pytest.mark.parametrize("source", SOURCES)
def test_legacy_mode_serves_the_global_endpoint_in_us_east_1(legacy_world: World, source: str) -> None:
    sender = RawSts(legacy_world.server)
    try:
        reply = sender.call(legacy_world.admin(SERVING), "GetCallerIdentity", endpoint="global", source=source)
        assert reply.status == 200
        assert reply.serving_region == "us-east-1"
        check_extended_id(reply, "us-east-1")
        regional = sender.call(legacy_world.admin(SERVING), "GetCallerIdentity", endpoint="eu-north-1", source=source)
        assert regional.serving_region == "eu-north-1"
        check_extended_id(regional, "eu-north-1")
    finally:
        sender.close()
