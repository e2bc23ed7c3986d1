"""RegionalSTS against a real stsd whose Regions fail on command: which endpoints were tried,
in which order, signed for which Region, with what outcome, and how long it all took."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from stsd.client import AllRegionsFailedError, DeadlineExceededError, RegionalSTS
from stsd.testing import free_port

ACCOUNT = "123456789012"


def tried(sts: RegionalSTS) -> list[tuple[str, str, str, str]]:
    """(endpoint key, signing Region, outcome, reason) of the last call's attempts; each went to
    that Region's own endpoint (stsd's path prefix ``/<region>/``)."""
    assert sts.last_call is not None
    assert [urlsplit(a.endpoint).path for a in sts.last_call.attempts] == [
        f"/{a.region}/" for a in sts.last_call.attempts]
    return [(a.region, a.signing_region, a.outcome, a.reason) for a in sts.last_call.attempts]


def timed(fn, *args, **kwargs):
    start = time.monotonic()
    result = fn(*args, **kwargs)
    return result, time.monotonic() - start


def test_healthy_primary_takes_one_attempt(stsd_regional_sts, stsd_endpoint_template):
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2"])
    identity = sts.get_caller_identity()
    assert identity["Account"] == ACCOUNT
    assert tried(sts) == [("eu-west-1", "eu-west-1", "success", "ok")]
    attempt = sts.last_call.attempts[0]
    assert attempt.endpoint == stsd_endpoint_template.format(region="eu-west-1")
    assert (attempt.serving_region, attempt.http_status, attempt.breaker) == ("eu-west-1", 200, "closed")


def test_region_down_fails_over_to_next_region_within_deadline(stsd_regional_sts, stsd_region_fault, role_arn):
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2", "eu-central-1"], per_attempt_timeout=0.5, deadline=3.0)
    sts.prepare()  # clients built up front: the timings below are the network's only
    with stsd_region_fault("eu-west-1", "down", delay_ms=1500):
        response, elapsed = timed(sts.assume_role, RoleArn=role_arn, RoleSessionName="failover",
                                  DurationSeconds=900)
    assert tried(sts) == [
        ("eu-west-1", "eu-west-1", "failover", "read-timeout"),
        ("eu-west-2", "eu-west-2", "success", "ok"),
    ]
    first, second = sts.last_call.attempts
    assert 0.45 <= first.duration < 1.2  # the per-attempt timeout, not the server's 1.5 s hold
    assert second.serving_region == "eu-west-2" and second.started >= first.duration
    assert elapsed < 3.0 and sts.last_call.outcome == "success"
    assert response["AssumedRoleUser"]["Arn"].endswith(":assumed-role/" + role_arn.rsplit("/", 1)[1] + "/failover")


def test_slow_region_within_timeout_is_waited_for_beyond_it_is_left(stsd_regional_sts, stsd_region_fault):
    patient = stsd_regional_sts("eu-west-1", ["eu-west-2"], per_attempt_timeout=1.5, deadline=4.0)
    hasty = stsd_regional_sts("eu-west-1", ["eu-west-2"], per_attempt_timeout=0.3, deadline=4.0)
    with stsd_region_fault("eu-west-1", "slow", delay_ms=600):
        patient.get_caller_identity()
        hasty.get_caller_identity()
    assert tried(patient) == [("eu-west-1", "eu-west-1", "success", "ok")]
    assert patient.last_call.attempts[0].duration >= 0.55
    assert patient.last_call.elapsed < 1.5 and hasty.last_call.elapsed < 1.5  # deadline 4.0
    assert tried(hasty) == [
        ("eu-west-1", "eu-west-1", "failover", "read-timeout"),
        ("eu-west-2", "eu-west-2", "success", "ok"),
    ]


@pytest.mark.parametrize(
    ("mode", "reason", "code", "status"),
    [("error5xx", "http-503", "ServiceUnavailable", 503), ("throttle", "throttling", "Throttling", 400)],
)
def test_5xx_and_throttling_fail_over(stsd_regional_sts, stsd_region_fault, mode, reason, code, status):
    sts = stsd_regional_sts("ap-northeast-1", ["ap-northeast-3", "ap-northeast-2"])
    with stsd_region_fault("ap-northeast-1", mode):
        _, elapsed = timed(sts.get_session_token, DurationSeconds=900)
    assert tried(sts) == [
        ("ap-northeast-1", "ap-northeast-1", "failover", reason),
        ("ap-northeast-3", "ap-northeast-3", "success", "ok"),
    ]
    failed = sts.last_call.attempts[0]
    assert (failed.error_code, failed.http_status) == (code, status)
    assert elapsed < 2.0


def test_two_regions_failing_differently_end_in_the_third(stsd_regional_sts, stsd_regions, role_arn):
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2", "eu-central-1"], per_attempt_timeout=0.4, deadline=3.0)
    with stsd_regions.faults({"eu-west-1": ("down", 1500), "eu-west-2": "error5xx"}):
        sts.assume_role(RoleArn=role_arn, RoleSessionName="third")
    assert tried(sts) == [
        ("eu-west-1", "eu-west-1", "failover", "read-timeout"),
        ("eu-west-2", "eu-west-2", "failover", "http-503"),
        ("eu-central-1", "eu-central-1", "success", "ok"),
    ]


def test_region_deactivated_for_the_account_fails_over_and_trips_its_breaker(
    stsd_regional_sts, stsd_region_disabled
):
    sts = stsd_regional_sts("eu-west-3", ["eu-north-1"])
    with stsd_region_disabled("eu-west-3"):
        _, elapsed = timed(sts.get_session_token, DurationSeconds=900)
        assert elapsed < sts.deadline
        assert tried(sts) == [
            ("eu-west-3", "eu-west-3", "failover", "region-disabled"),
            ("eu-north-1", "eu-north-1", "success", "ok"),
        ]
        assert (sts.last_call.attempts[0].error_code, sts.last_call.attempts[0].http_status) == (
            "RegionDisabledException", 403)
        # A deactivated Region will stay so: its breaker opened at once, the next call skips it.
        assert sts.health.state("eu-west-3") == "open"
        sts.get_session_token(DurationSeconds=900)
        assert tried(sts) == [("eu-north-1", "eu-north-1", "success", "ok")]
        assert sts.last_call.skipped[0][0] == "eu-west-3"


def test_connection_refused_fails_over_at_once(stsd_server):
    dead = f"http://127.0.0.1:{free_port()}/eu-west-1/"  # nothing listens there

    def template(region: str) -> str:
        return dead if region == "eu-west-1" else f"{stsd_server.endpoint_url}/{region}/"

    sts = RegionalSTS("eu-west-1", ["eu-west-2"], credentials=stsd_server.admins[ACCOUNT],
                      endpoint_url_template=template, per_attempt_timeout=1.0)
    _, elapsed = timed(sts.get_caller_identity)
    assert tried(sts) == [
        ("eu-west-1", "eu-west-1", "failover", "connection-error"),
        ("eu-west-2", "eu-west-2", "success", "ok"),
    ]
    assert sts.last_call.attempts[0].endpoint == dead
    assert elapsed < 1.5


def test_every_region_failing_raises_with_the_full_history(stsd_regional_sts, stsd_regions):
    sts = stsd_regional_sts("sa-east-1", ["us-east-2"])
    with stsd_regions.faults({"sa-east-1": "error5xx", "us-east-2": "throttle"}), \
            pytest.raises(AllRegionsFailedError) as failed:
        sts.get_caller_identity()
    assert [(a.region, a.reason) for a in failed.value.attempts] == [
        ("sa-east-1", "http-503"), ("us-east-2", "throttling")]
    assert failed.value.response["Error"]["Code"] == "Throttling"
    assert isinstance(failed.value.last_error, ClientError)
    assert sts.last_call.outcome == "all-failed"


def test_overall_deadline_shrinks_attempts_and_is_never_exceeded(stsd_regional_sts, stsd_regions):
    sts = stsd_regional_sts("us-west-1", ["us-west-2", "us-east-2"], per_attempt_timeout=1.0, deadline=1.6)
    sts.prepare()
    with stsd_regions.faults({"us-west-1": ("slow", 2000), "us-west-2": ("slow", 2000)}):
        start = time.monotonic()
        with pytest.raises(DeadlineExceededError) as exceeded:
            sts.get_caller_identity()
        elapsed = time.monotonic() - start
    first, second = exceeded.value.attempts
    assert (first.region, first.timeout) == ("us-west-1", 1.0)
    assert second.region == "us-west-2" and second.timeout < 0.65  # what was left of the 1.6 s
    assert second.reason in ("read-timeout", "deadline")
    assert elapsed < 1.6 + 0.3  # the deadline, plus scheduling noise on a loaded machine
    assert "us-east-2" not in sts.last_call.regions  # never started: no time left
    assert sts.last_call.outcome == "deadline"


def test_opt_in_fallback_the_account_has_not_enabled_is_passed_over(stsd_regional_sts, stsd_region_fault):
    # ap-east-1 is opt-in and not enabled for the account: stsd, like AWS, rejects every key there.
    sts = stsd_regional_sts("eu-west-1", ["ap-east-1", "eu-west-2"], deadline=3.0)
    with stsd_region_fault("eu-west-1", "error5xx"):
        _, elapsed = timed(sts.get_caller_identity)
        assert tried(sts) == [
            ("eu-west-1", "eu-west-1", "failover", "http-503"),
            ("ap-east-1", "ap-east-1", "failover", "opt-in-region-rejected"),
            ("eu-west-2", "eu-west-2", "success", "ok"),
        ]
        rejected = sts.last_call.attempts[1]
        assert (rejected.error_code, rejected.http_status) == ("InvalidClientTokenId", 403)
        assert elapsed < 3.0
        # It will stay so: its breaker opened at once, the next call passes it over.
        assert sts.health.state("ap-east-1") == "open"
        sts.get_caller_identity()
        assert tried(sts) == [
            ("eu-west-1", "eu-west-1", "failover", "http-503"),
            ("eu-west-2", "eu-west-2", "success", "ok"),
        ]
        assert [key for key, _ in sts.last_call.skipped] == ["ap-east-1"]


def test_opt_in_preferred_region_rejecting_the_key_reaches_the_caller(stsd_regional_sts):
    # As the preferred Region, a rejection means the caller's setup is wrong: no failover.
    sts = stsd_regional_sts("ap-east-1", ["ap-southeast-1"])
    with pytest.raises(ClientError) as rejected:
        sts.get_caller_identity()
    assert rejected.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert tried(sts) == [("ap-east-1", "ap-east-1", "error", "InvalidClientTokenId")]
