"""Request-rate quotas (aws-sts-behaviour.md §5, §3.4): token buckets per account, Region
and endpoint type — the global endpoint "do[es] not share a requests per second quota with
Regional AWS STS endpoints" — answered with 400 ``Throttling`` "Rate exceeded"."""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from tests.regions_e2e.conftest import (
    MSG_RATE_EXCEEDED,
    QUOTA_A,
    QUOTA_B,
    QUOTA_BURST,
    QUOTA_C,
    QUOTA_RATE,
    RawSts,
    Reply,
    World,
    eventually,
    exact_error_xml,
    extended_request_id,
)

A, B = QUOTA_A, QUOTA_B
RATE, BURST = QUOTA_RATE, QUOTA_BURST
MAX_CALLS = 4 * BURST  # bound on any burst loop


@pytest.fixture
def quota_raw(quota_world: World) -> Iterator[RawSts]:
    sender = RawSts(quota_world.server)
    yield sender
    sender.close()


def whoami(raw: RawSts, world: World, account: str, endpoint: str, source: str | None = None) -> Reply:
    return raw.call(world.admin(account), "GetCallerIdentity", endpoint=endpoint, source=source)


def burst_until_throttled(raw: RawSts, world: World, account: str, endpoint: str,
                          source: str | None = None) -> tuple[int, Reply]:
    """Call as fast as possible until throttled (at most MAX_CALLS); (successes, the throttled reply)."""
    for successes in range(MAX_CALLS):
        reply = whoami(raw, world, account, endpoint, source)
        if reply.status != 200:
            return successes, reply
    raise AssertionError(f"{MAX_CALLS} calls to {endpoint} were not throttled")


def assert_throttled(reply: Reply) -> None:
    assert reply.status == 400
    assert reply.headers["content-type"] == "text/xml"
    assert reply.body == exact_error_xml(reply, "Throttling", MSG_RATE_EXCEEDED)
    assert reply.error() == {"status": 400, "Type": "Sender", "Code": "Throttling", "Message": "Rate exceeded"}
    assert reply.headers["x-amzn-requestid"]
    assert extended_request_id(reply)[0] == reply.serving_region


def throttled_count(world: World, account: str, region: str, endpoint_type: str) -> float:
    text = httpx.get(f"{world.server.endpoint_url}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        if family.name == "stsd_throttled":
            for sample in family.samples:
                if sample.name == "stsd_throttled_total" and sample.labels == {
                    "service": "sts", "account": account, "region": region, "endpoint_type": endpoint_type
                }:
                    return sample.value
    return 0.0


def test_burst_is_throttled_and_other_buckets_are_not(quota_world: World, quota_raw: RawSts) -> None:
    world = quota_world
    time.sleep(1.2)  # full buckets
    successes, reply = burst_until_throttled(quota_raw, world, A, "eu-west-1")
    assert BURST <= successes <= BURST + 3  # refill while bursting adds at most a few
    assert_throttled(reply)
    assert reply.serving_region == "eu-west-1"
    # The same bucket stays empty for the next immediate call ...
    assert whoami(quota_raw, world, A, "eu-west-1").status == 400
    # ... while the global endpoint, another Region and the other account have their own.
    assert whoami(quota_raw, world, A, "global").status == 200
    assert whoami(quota_raw, world, A, "eu-west-2").status == 200
    assert whoami(quota_raw, world, A, "us-east-1").status == 200
    assert whoami(quota_raw, world, B, "eu-west-1").status == 200
    # After a second the bucket has refilled.
    time.sleep(1.1)
    assert whoami(quota_raw, world, A, "eu-west-1").status == 200


def test_global_endpoint_has_its_own_bucket_per_serving_region(quota_world: World, quota_raw: RawSts) -> None:
    world = quota_world
    time.sleep(1.2)
    successes, reply = burst_until_throttled(quota_raw, world, B, "global")
    assert BURST <= successes <= BURST + 3
    assert_throttled(reply)
    assert reply.serving_region == "us-east-1"
    # us-east-1's Regional endpoint is not the global endpoint: separate quota.
    assert whoami(quota_raw, world, B, "us-east-1").status == 200


def test_metrics_count_throttled_requests(quota_world: World, quota_raw: RawSts) -> None:
    world = quota_world
    before = throttled_count(world, A, "eu-central-1", "regional")
    time.sleep(1.2)
    burst_until_throttled(quota_raw, world, A, "eu-central-1")
    assert whoami(quota_raw, world, A, "eu-central-1").status == 400
    assert throttled_count(world, A, "eu-central-1", "regional") == before + 2
    # The global endpoint's counter is labelled by its type and serving Region.
    before_global = throttled_count(world, A, "us-east-1", "global")
    burst_until_throttled(quota_raw, world, A, "global")
    assert throttled_count(world, A, "us-east-1", "global") == before_global + 1
    assert throttled_count(world, B, "eu-central-1", "regional") == 0.0


def test_store_overrides_per_account_region_and_endpoint_type(quota_world: World, quota_raw: RawSts) -> None:
    """Quota overrides (RegionStore.set_quota): the most specific key wins; rate 0 is unlimited."""
    world = quota_world
    regions = world.runtime.regions
    regions.set_quota(A, "eu-west-3", "regional", 2, 2)
    regions.set_quota(A, "*", "*", 0, 0)
    try:
        _check_overrides(world, quota_raw)
    finally:  # the store has no delete: put the server defaults back explicitly
        regions.set_quota(A, "eu-west-3", "regional", RATE, BURST)
        regions.set_quota(A, "*", "*", RATE, BURST)


def _check_overrides(world: World, raw: RawSts) -> None:

    def burst_of_two() -> None:
        time.sleep(1.0)
        successes, reply = burst_until_throttled(raw, world, A, "eu-west-3")
        assert successes in (2, 3)
        assert_throttled(reply)

    eventually(burst_of_two, timeout=8)
    # Everywhere else the account is now unlimited ("*", "*" → rate 0) ...
    for endpoint in ("eu-west-1", "global"):
        for _ in range(MAX_CALLS):
            assert whoami(raw, world, A, endpoint).status == 200
    # ... and the other account keeps the server default.
    time.sleep(1.2)
    successes, reply = burst_until_throttled(raw, world, B, "eu-west-3")
    assert BURST <= successes <= BURST + 3
    assert_throttled(reply)


def test_iam_calls_do_not_use_the_sts_quota(quota_world: World, quota_raw: RawSts) -> None:
    """"IAM and AWS STS independently implement a token bucket algorithm" (§5)."""
    world = quota_world
    # One token a second, so "empty" lasts long enough to look at it.
    world.runtime.regions.set_quota(QUOTA_C, "us-east-1", "*", 1, 1)
    creds = world.admin(QUOTA_C)
    iam = boto3.client("iam", endpoint_url=world.server.endpoint_url, region_name="us-east-1",
                       config=Config(retries={"total_max_attempts": 1}), **creds.as_boto())

    def iam_throttled() -> None:
        for _ in range(MAX_CALLS):
            try:
                iam.get_user()
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "Throttling"
                return
        raise AssertionError("IAM was not throttled")

    eventually(iam_throttled, timeout=8)  # IAM runs out of its own tokens (the override applies)
    reply = whoami(quota_raw, world, QUOTA_C, "us-east-1")
    assert reply.status == 200, reply.text
