"""Simulated Region failures (``RegionStore.set_fault``), for exercising client failover:
``error5xx`` → 503 ServiceUnavailable, ``throttle`` → 400 Throttling, ``slow`` → the answer
comes after ``delay_ms``, ``down`` → no answer. A fault hits the Region that *serves* the
request — including the global endpoint where it is served locally — and nothing else."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.regions_e2e.conftest import (
    FAULTS,
    MSG_RATE_EXCEEDED,
    NORTH_SOURCE,
    UNMAPPED_SOURCE,
    RawSts,
    Reply,
    World,
    admin_arn,
    eventually,
    exact_error_xml,
)

MSG_UNAVAILABLE = "Service is unavailable. Please try again later."
DELAY_MS = 1500
CLIENT_TIMEOUT = 0.5


@pytest.fixture
def clear_faults(world: World, raw: RawSts) -> Iterator[None]:
    """No fault before or after a test (waiting until the server has seen the clearing)."""
    world.runtime.regions.clear_fault()
    yield
    world.runtime.regions.clear_fault()
    eventually(lambda: assert_healthy(raw, world, "eu-west-1", "eu-north-1"))


def whoami(raw: RawSts, world: World, endpoint: str, source: str | None = None, timeout: float = 10.0) -> Reply:
    return raw.call(world.admin(FAULTS), "GetCallerIdentity", endpoint=endpoint, source=source, timeout=timeout)


def timed(raw: RawSts, world: World, endpoint: str, timeout: float = 10.0) -> tuple[float, Reply]:
    started = time.monotonic()
    reply = whoami(raw, world, endpoint, timeout=timeout)
    return time.monotonic() - started, reply


def assert_healthy(raw: RawSts, world: World, *endpoints: str) -> None:
    for endpoint in endpoints:
        try:
            elapsed, reply = timed(raw, world, endpoint, timeout=2.0)
        except httpx.TimeoutException as exc:  # a "down" Region the server has not yet seen cleared
            raise AssertionError(f"{endpoint} did not answer") from exc
        assert reply.status == 200, reply.text
        assert reply.result("GetCallerIdentity")["Arn"] == admin_arn(FAULTS)
        assert elapsed < 1.0


def no_answer(raw: RawSts, world: World) -> None:
    """The eu-west-1 endpoint does not answer within CLIENT_TIMEOUT."""
    started = time.monotonic()
    try:
        reply = whoami(raw, world, "eu-west-1", timeout=CLIENT_TIMEOUT)
    except httpx.TimeoutException:
        assert time.monotonic() - started < DELAY_MS / 1000
        return
    raise AssertionError(f"answered {reply.status}")


def test_error5xx(world: World, raw: RawSts, clear_faults: None) -> None:
    world.runtime.regions.set_fault("eu-west-1", "error5xx")

    def unavailable() -> Reply:
        reply = whoami(raw, world, "eu-west-1")
        assert reply.status == 503
        return reply

    reply = eventually(unavailable)
    assert reply.body == exact_error_xml(reply, "ServiceUnavailable", MSG_UNAVAILABLE, "Receiver")
    assert reply.serving_region == "eu-west-1"
    assert_healthy(raw, world, "eu-west-2", "global", "us-east-1")
    world.runtime.regions.clear_fault("eu-west-1")
    eventually(lambda: assert_healthy(raw, world, "eu-west-1"))


def test_throttle(world: World, raw: RawSts, clear_faults: None) -> None:
    world.runtime.regions.set_fault("eu-west-1", "throttle")

    def throttled() -> Reply:
        reply = whoami(raw, world, "eu-west-1")
        assert reply.status == 400
        return reply

    reply = eventually(throttled)
    assert reply.body == exact_error_xml(reply, "Throttling", MSG_RATE_EXCEEDED)
    assert_healthy(raw, world, "eu-west-2", "global")
    world.runtime.regions.clear_fault("eu-west-1")
    eventually(lambda: assert_healthy(raw, world, "eu-west-1"))


def test_slow(world: World, raw: RawSts, clear_faults: None) -> None:
    world.runtime.regions.set_fault("eu-west-1", "slow", DELAY_MS)

    def slow() -> Reply:
        elapsed, reply = timed(raw, world, "eu-west-1")
        assert elapsed >= DELAY_MS / 1000
        return reply

    reply = eventually(slow)
    assert reply.status == 200  # slow, not failed
    assert reply.result("GetCallerIdentity")["Arn"] == admin_arn(FAULTS)
    assert_healthy(raw, world, "eu-west-2", "global")
    world.runtime.regions.clear_fault("eu-west-1")
    eventually(lambda: assert_healthy(raw, world, "eu-west-1"))


def test_down(world: World, raw: RawSts, clear_faults: None) -> None:
    world.runtime.regions.set_fault("eu-west-1", "down", DELAY_MS)

    eventually(lambda: no_answer(raw, world))
    # Failover works: the other Regions and the global endpoint answer at once.
    assert_healthy(raw, world, "eu-west-2", "global", "us-east-1")
    world.runtime.regions.clear_fault("eu-west-1")
    eventually(lambda: assert_healthy(raw, world, "eu-west-1"))


def test_down_never_answers_even_a_patient_client(world: World, raw: RawSts, clear_faults: None) -> None:
    world.runtime.regions.set_fault("eu-west-1", "down", DELAY_MS)
    eventually(lambda: no_answer(raw, world))
    # A client that waits longer than the hold sees the connection closed, never a response.
    with pytest.raises(httpx.TransportError):
        reply = whoami(raw, world, "eu-west-1", timeout=DELAY_MS / 1000 + 3)
        pytest.fail(f"'down' answered {reply.status}: {reply.text}")


def test_global_endpoint_fails_with_the_region_that_serves_it(world: World, raw: RawSts, clear_faults: None) -> None:
    """Served locally in eu-north-1, the global endpoint shares that Region's failure;
    callers served in us-east-1 do not."""
    world.runtime.regions.set_fault("eu-north-1", "error5xx")

    def unavailable() -> Reply:
        reply = whoami(raw, world, "global", source=NORTH_SOURCE)
        assert reply.status == 503
        return reply

    reply = eventually(unavailable)
    assert reply.serving_region == "eu-north-1"
    assert reply.body == exact_error_xml(reply, "ServiceUnavailable", MSG_UNAVAILABLE, "Receiver")
    healthy = whoami(raw, world, "global", source=UNMAPPED_SOURCE)
    assert healthy.status == 200
    assert healthy.serving_region == "us-east-1"
    world.runtime.regions.clear_fault()
    eventually(lambda: assert_healthy(raw, world, "eu-north-1"))
    assert whoami(raw, world, "global", source=NORTH_SOURCE).status == 200
