"""Unit tests (no server): circuit-breaker transitions on a fake clock, error classification,
Region distances, credential metadata and refresh windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore import exceptions as bce
from botocore.parsers import ResponseParserError

from stsd.client.classify import NEVER_FAILOVER_CODES, THROTTLING_CODES, classify
from stsd.client.credentials import _metadata, refreshable_credentials
from stsd.client.health import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, RegionHealth
from stsd.client.nearby import distance_km, fips_capable, nearby_regions


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- circuit breaker --------------------------------------------------------------------------


def test_breaker_transitions():
    clock = FakeClock()
    b = CircuitBreaker("eu-west-1", failure_threshold=3, cooldown=10, clock=clock)
    assert (b.state, b.acquire()) == (CLOSED, CLOSED)
    b.record_failure("read-timeout")
    b.record_failure("read-timeout")
    assert b.state == CLOSED and b.available()
    b.record_success()  # a success resets the count
    for _ in range(3):
        b.record_failure("http-503")
    assert b.state == OPEN and not b.available() and b.acquire() is None
    assert b.retry_in() == 10
    clock.now += 9.9
    assert b.state == OPEN
    clock.now += 0.1
    assert b.state == HALF_OPEN and b.available()
    assert b.acquire() == HALF_OPEN
    assert not b.available() and b.acquire() is None  # one probe at a time
    b.record_failure("read-timeout")  # failed probe: open again, full cool-down
    assert b.state == OPEN and b.retry_in() == 10
    clock.now += 10
    assert b.acquire() == HALF_OPEN
    b.record_success()
    assert b.state == CLOSED and b.snapshot().consecutive_failures == 0


def test_breaker_trip_release_and_force():
    clock = FakeClock()
    b = CircuitBreaker("eu-west-1", failure_threshold=5, cooldown=10, clock=clock)
    b.record_failure("region-disabled", trip=True)
    assert b.state == OPEN and b.snapshot().last_reason == "region-disabled"
    assert b.acquire(force=True) == OPEN
    clock.now += 10
    assert b.acquire() == HALF_OPEN
    b.release()  # the attempt never reached the endpoint: the next one may probe
    assert b.acquire() == HALF_OPEN
    with pytest.raises(ValueError):
        CircuitBreaker("x", failure_threshold=0)


def test_region_health_shares_breakers_by_key():
    health = RegionHealth(failure_threshold=1, cooldown=5, clock=FakeClock())
    health.breaker("eu-west-1").record_failure("x")
    assert health.state("eu-west-1") == OPEN and health.state("eu-west-2") == CLOSED
    assert set(health.snapshot()) == {"eu-west-1", "eu-west-2"}


# --- classification ---------------------------------------------------------------------------


def client_error(code: str, status: int) -> bce.ClientError:
    return bce.ClientError({"Error": {"Code": code, "Message": "m"},
                            "ResponseMetadata": {"HTTPStatusCode": status}}, "AssumeRole")


@pytest.mark.parametrize(
    ("exc", "failover", "reason"),
    [
        (bce.ConnectTimeoutError(endpoint_url="http://x"), True, "connect-timeout"),
        (bce.ReadTimeoutError(endpoint_url="http://x"), True, "read-timeout"),
        (bce.EndpointConnectionError(endpoint_url="http://x"), True, "connection-error"),
        (bce.ConnectionClosedError(endpoint_url="http://x"), True, "connection-closed"),
        (bce.SSLError(endpoint_url="http://x", error="e"), True, "tls-error"),
        (bce.ProxyConnectionError(proxy_url="http://p", error="e"), True, "proxy-error"),
        (ResponseParserError("garbage"), True, "unparsable-response"),
        (client_error("ServiceUnavailable", 503), True, "http-503"),
        (client_error("InternalFailure", 500), True, "http-500"),
        (client_error("SomethingNew", 502), True, "http-502"),
        (client_error("Throttling", 400), True, "throttling"),
        (client_error("IDPCommunicationError", 400), True, "http-400"),
        (client_error("RegionDisabledException", 403), True, "region-disabled"),
        (client_error("AccessDenied", 403), False, "AccessDenied"),
        (client_error("ExpiredToken", 400), False, "ExpiredToken"),
        (client_error("ExpiredTokenException", 400), False, "ExpiredTokenException"),
        (client_error("SomethingNew", 400), False, "SomethingNew"),
        (bce.NoCredentialsError(), False, "NoCredentialsError"),
        (bce.ParamValidationError(report="r"), False, "ParamValidationError"),
        (ValueError("bug"), False, "ValueError"),
    ],
)
def test_classify(exc, failover, reason):
    verdict = classify(exc)
    assert (verdict.failover, verdict.reason) == (failover, reason)
    assert verdict.trip == (reason == "region-disabled")


@pytest.mark.parametrize("code", sorted(NEVER_FAILOVER_CODES))
def test_documented_never_failover_codes(code):
    assert not classify(client_error(code, 400)).failover
    assert not classify(client_error(code, 403)).failover


@pytest.mark.parametrize("code", sorted(THROTTLING_CODES))
def test_every_throttling_code_fails_over(code):
    assert classify(client_error(code, 400)).reason == "throttling"


# --- Regions ----------------------------------------------------------------------------------


def test_distances_rank_neighbours():
    assert distance_km("eu-west-1", "eu-west-1") == 0
    assert 400 < distance_km("eu-west-1", "eu-west-2") < 500
    assert distance_km("eu-west-1", "eu-central-1") < distance_km("eu-west-1", "ap-northeast-1")
    assert distance_km("eu-west-1", "us-iso-east-1") is None


def test_nearby_regions_rules():
    assert nearby_regions("us-west-2", count=1) == ["us-west-1", "us-east-1"]
    assert nearby_regions("us-east-1", count=2) == ["us-east-2", "ca-central-1"]
    assert nearby_regions("eu-west-1", count=0) == ["us-east-1"]  # only the anchor
    assert nearby_regions("eusc-de-east-1") == []  # a one-Region partition has nowhere to go
    assert nearby_regions("us-isob-east-1") == ["us-isob-west-1"]
    assert fips_capable("us-east-2") and fips_capable("us-gov-east-1") and not fips_capable("eu-west-1")


# --- credentials ------------------------------------------------------------------------------


def response(seconds: int = 900) -> dict:
    return {
        "Credentials": {"AccessKeyId": "ASIAX", "SecretAccessKey": "s", "SessionToken": "t",
                        "Expiration": datetime.now(UTC) + timedelta(seconds=seconds)},
        "AssumedRoleUser": {"Arn": "arn:aws:sts::210987654321:assumed-role/r/s"},
    }


def test_metadata_shape():
    m = _metadata(response())
    assert set(m) == {"access_key", "secret_key", "token", "expiry_time", "account_id"}
    assert m["account_id"] == "210987654321"


def test_default_windows_fit_short_sessions():
    calls = []

    def fetch():
        calls.append(1)
        return _metadata(response(900))

    creds = refreshable_credentials(fetch)
    for _ in range(3):
        creds.get_frozen_credentials()
    assert len(calls) == 1  # botocore's 15-minute advisory window would refresh on every use
    assert 440 < creds._advisory_refresh_timeout <= 450 and 290 < creds._mandatory_refresh_timeout <= 300
    hours = refreshable_credentials(lambda: _metadata(response(3600)))
    assert (hours._advisory_refresh_timeout, hours._mandatory_refresh_timeout) == (900, 600)
    explicit = refreshable_credentials(lambda: _metadata(response(900)), advisory_timeout=60, mandatory_timeout=30)
    assert (explicit._advisory_refresh_timeout, explicit._mandatory_refresh_timeout) == (60, 30)
    deferred = refreshable_credentials(fetch, deferred=True)
    assert len(calls) == 1
    deferred.get_frozen_credentials()
    assert len(calls) == 2 and deferred._advisory_refresh_timeout <= 450
