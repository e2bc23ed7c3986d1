"""Request-rate quotas shared through a real Redis (``stsd serve --redis``): two stsd nodes of one
deployment (one SQLite store, one master key) with ``--quota-rate 5 --quota-burst 5`` allow 5
requests per second per account, Region and endpoint type between them, not 5 each, and answer
the rest with 400 Throttling "Rate exceeded"; other Regions have their own quota.

The Redis limiter counts fixed one-second windows that open at the first request of a key, so
each test uses Regions no other test touches and judges only the requests that completed
within one second of its first request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import redis
from botocore.config import Config
from botocore.exceptions import ClientError

from stsd.quotas.buckets import REDIS_RETRY_SECONDS
from stsd.testing_backends import DatabaseStsdServer, new_master_key
from tests.backends.conftest import RedisService

pytestmark = pytest.mark.timeout(120)

ACCOUNT = "123456789012"
RATE = 5
WINDOW = 1.0  # seconds
MAX_REQUESTS = 2000  # bounds every loop, whatever the timing (and every loop has a time limit)
THROTTLED = ("Throttling", 400, "Rate exceeded")


@dataclass(frozen=True)
class Result:
    node: int
    started: float
    ended: float
    outcome: tuple[str, int, str] | None  # None: answered 200

    @property
    def ok(self) -> bool:
        return self.outcome is None


@pytest.fixture(scope="module")
def nodes(redis_service: RedisService, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[DatabaseStsdServer]]:
    store = tmp_path_factory.mktemp("shared-store") / "stsd.db"
    quota = ("--redis", redis_service.url, "--quota-rate", str(RATE), "--quota-burst", str(RATE))
    first = DatabaseStsdServer(database=f"sqlite:///{store}", accounts=(ACCOUNT,), extra_args=quota,
                               env={"STSD_MASTER_KEY": new_master_key()})
    second = None
    try:
        first.start()
        second = first.joining(extra_args=quota)
        second.start()
        yield [first, second]
    finally:
        if second is not None:
            second.cleanup()
        first.cleanup()


def sts(node: DatabaseStsdServer, region: str) -> Any:
    """An STS client that never retries (botocore retries Throttling by default)."""
    return boto3.client("sts", endpoint_url=node.endpoint_url, region_name=region,
                        config=Config(retries={"total_max_attempts": 1}),
                        **node.admins[ACCOUNT].as_boto())


def call(clients: list[Any], index: int, origin: float) -> Result:
    node = index % len(clients)
    started = time.monotonic() - origin
    try:
        clients[node].get_caller_identity()
        outcome = None
    except ClientError as error:
        response = error.response
        outcome = (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"],
                   response["Error"].get("Message", ""))
    return Result(node, started, time.monotonic() - origin, outcome)


def alternate(clients: list[Any], *, count: int = MAX_REQUESTS, seconds: float = 5.0) -> tuple[float, list[Result]]:
    """Requests alternating between the nodes, as fast as they answer: at most ``count`` of them
    and none started after ``seconds``. Returns the monotonic time of the first request's start
    and the results, with times relative to it."""
    origin = time.monotonic()
    results: list[Result] = []
    for index in range(min(count, MAX_REQUESTS)):
        if time.monotonic() - origin > seconds:
            break
        results.append(call(clients, index, origin))
    return origin, results


def first_window(results: list[Result]) -> list[Result]:
    """The requests answered within one second of the first request's start: all of them were
    counted in the window the first request opened."""
    return [r for r in results if r.ended < WINDOW]


def test_two_nodes_share_one_quota_per_region(nodes, redis_service):
    for node in nodes:  # both nodes know the account and are warm (us-east-1: a quota of its own)
        sts(node, "us-east-1").get_caller_identity()
    clients = [sts(node, "us-east-2") for node in nodes]
    origin, results = alternate(clients, count=14)
    window = first_window(results)
    assert len(window) >= RATE + 2, f"too slow to judge: {len(window)} requests answered in the first second"

    # In the first second exactly RATE requests pass between both nodes, not RATE per node:
    # the first RATE (alternating A, B, A, B, A), then only throttling, on both nodes.
    assert [r.ok for r in window] == [True] * RATE + [False] * (len(window) - RATE)
    assert {r.outcome for r in window if not r.ok} == {THROTTLED}
    for node in (0, 1):
        mine = [r for r in window if r.node == node]
        assert any(r.ok for r in mine) and any(not r.ok for r in mine), f"node {node}: {mine}"

    # Another Region has its own quota, on both nodes, at the same moment.
    others = [sts(node, "us-west-2") for node in nodes]
    assert all(r.ok for r in alternate(others, count=4)[1])
    # The throttled Region is still throttled while its window lasts...
    if time.monotonic() - origin < WINDOW * 0.8:
        assert call(clients, 1, origin).outcome == THROTTLED
    # ...and allows requests again once it has passed.
    time.sleep(max(0.0, origin + WINDOW + 0.1 - time.monotonic()))
    assert call(clients, 0, origin).ok

    # The counters live in Redis, keyed by account, Region and endpoint type.
    client = redis.Redis.from_url(redis_service.url, socket_timeout=5)
    try:
        keys = [k.decode() for k in client.keys("*")]
    finally:
        client.close()
    assert any(ACCOUNT in k and "us-east-2" in k and "regional" in k for k in keys), keys
    throttled = sum(not r.ok for r in results)
    print(f"\nburst of {len(results)} requests over both nodes in {results[-1].ended:.2f}s: "
          f"{len(results) - throttled} allowed, {throttled} throttled "
          f"({len(window)} in the first second, {RATE} of them allowed)")


def test_sustained_load_over_two_nodes_gets_one_rate(nodes):
    """Two seconds of requests as fast as both nodes answer: about RATE per second in all."""
    clients = [sts(node, "eu-west-1") for node in nodes]
    _, results = alternate(clients, seconds=2.0)
    span = results[-1].ended
    allowed = [r for r in results if r.ok]
    assert {r.outcome for r in results if not r.ok} <= {THROTTLED}
    # A fixed window opens at the first request after the previous one closed: over ``span``
    # seconds at most int(span) + 1 windows opened, each allowing RATE (unshared quotas would
    # allow each node its burst plus RATE per second: 30 over two seconds).
    assert RATE * max(1, int(span)) <= len(allowed) <= RATE * (int(span) + 1), (len(allowed), span)
    assert len(results) > len(allowed) * 2  # the load really was above the quota
    print(f"\nsustained: {len(results)} requests in {span:.2f}s over both nodes, {len(allowed)} allowed "
          f"({len(allowed) / span:.1f}/s with a quota of {RATE}/s shared), {len(results) - len(allowed)} throttled")


def test_a_redis_outage_falls_back_to_each_nodes_own_quota(nodes, redis_service):
    """Redis down: every node enforces the quota on its own (no 500s); Redis back on the same
    port: the nodes share the quota again within a second or so."""
    redis_service.stop()
    _, results = alternate([sts(node, "ap-southeast-2") for node in nodes], count=14)
    assert {r.outcome for r in results if not r.ok} <= {THROTTLED}  # no InternalFailure
    for node in (0, 1):  # each node has its own burst now
        assert sum(r.ok for r in results if r.node == node) >= RATE
    for node in nodes:
        assert "Redis quota store unavailable" in node.log_text()

    redis_service.start()
    time.sleep(REDIS_RETRY_SECONDS + 0.2)
    _, results = alternate([sts(node, "sa-east-1") for node in nodes], count=14)
    window = first_window(results)
    assert len(window) >= RATE + 2, f"too slow to judge: {len(window)} requests answered in the first second"
    assert [r.ok for r in window] == [True] * RATE + [False] * (len(window) - RATE)
    for node in nodes:
        assert "Redis quota store available again" in node.log_text()
