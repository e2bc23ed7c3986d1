"""Candidate Regions: same partition only, nearby by default, the global endpoint only on
request (with a warning about v1 tokens), Regional endpoints resolved like the SDKs."""

from __future__ import annotations

import logging

import pytest

from stsd.client import AllRegionsFailedError, CrossPartitionError, RegionalSTS
from stsd.client.errors import FailoverConfigError, InvalidFailoverRegionError


def test_fallbacks_from_another_partition_are_refused():
    with pytest.raises(CrossPartitionError) as refused:
        RegionalSTS("eu-west-1", ["eu-west-2", "cn-north-1"])
    message = str(refused.value)
    assert "cn-north-1" in message and "aws-cn" in message and "never cross partitions" in message
    with pytest.raises(CrossPartitionError):
        RegionalSTS("us-gov-west-1", ["us-east-1"])


def test_no_global_endpoint_outside_the_aws_partition():
    with pytest.raises(CrossPartitionError, match="only global STS endpoint"):
        RegionalSTS("cn-north-1", allow_global=True)


@pytest.mark.parametrize("name", ["aws-global", "us-east-1-fips", "aws-cn-global", "EU-WEST-1", ""])
def test_pseudo_regions_and_bad_names_are_refused(name):
    with pytest.raises(InvalidFailoverRegionError):
        RegionalSTS(name)
    with pytest.raises(InvalidFailoverRegionError):
        RegionalSTS("eu-west-1", [name])


def test_default_fallbacks_are_nearby_default_enabled_regions_of_the_partition():
    assert RegionalSTS("eu-west-1").regions == ["eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "us-east-1"]
    # An opt-in primary falls back to nearby Regions enabled by default, then us-east-1.
    assert RegionalSTS("ap-east-1").regions == [
        "ap-east-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "us-east-1"]
    assert RegionalSTS("ap-east-1", include_opt_in=True, max_fallbacks=2).regions == [
        "ap-east-1", "ap-east-2", "ap-southeast-7", "us-east-1"]
    assert RegionalSTS("cn-north-1").regions == ["cn-north-1", "cn-northwest-1"]
    assert RegionalSTS("us-gov-east-1").regions == ["us-gov-east-1", "us-gov-west-1"]
    assert "global" not in RegionalSTS("us-east-1").regions


def test_endpoints_are_resolved_like_the_sdks_and_ignore_configured_urls(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "https://proxy.example.test")
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")
    sts = RegionalSTS("eu-west-1", ["us-east-1"], allow_global=True)
    assert [(c.key, c.url, c.signing_region) for c in sts.candidates] == [
        ("eu-west-1", "https://sts.eu-west-1.amazonaws.com", "eu-west-1"),
        ("us-east-1", "https://sts.us-east-1.amazonaws.com", "us-east-1"),
        ("global", "https://sts.amazonaws.com", "us-east-1"),
    ]
    fips = RegionalSTS("us-east-1", use_fips=True)
    assert [(c.key, c.url) for c in fips.candidates] == [
        ("us-east-1", "https://sts-fips.us-east-1.amazonaws.com"),
        ("us-east-2", "https://sts-fips.us-east-2.amazonaws.com"),
        ("us-west-2", "https://sts-fips.us-west-2.amazonaws.com"),
        ("us-west-1", "https://sts-fips.us-west-1.amazonaws.com"),
    ]
    gov = RegionalSTS("us-gov-west-1", use_fips=True)
    assert [c.url for c in gov.candidates] == [
        "https://sts.us-gov-west-1.amazonaws.com", "https://sts.us-gov-east-1.amazonaws.com"]
    with pytest.raises(FailoverConfigError, match="no FIPS"):
        RegionalSTS("us-east-1", use_fips=True, allow_global=True)


def test_global_endpoint_only_with_allow_global_and_with_a_warning(stsd_regional_sts, stsd_region_fault, caplog):
    strict = stsd_regional_sts("eu-west-1", [], per_attempt_timeout=0.4)
    lenient = stsd_regional_sts("eu-west-1", [], per_attempt_timeout=0.4, allow_global=True)
    assert strict.regions == ["eu-west-1"] and lenient.regions == ["eu-west-1", "global"]
    with stsd_region_fault("eu-west-1", "error5xx"):
        with pytest.raises(AllRegionsFailedError):
            strict.get_caller_identity()
        assert [a.region for a in strict.last_call.attempts] == ["eu-west-1"]
        caplog.set_level(logging.WARNING, logger="stsd.client.failover")
        identity = lenient.get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert [(a.region, a.signing_region, a.outcome, a.serving_region) for a in lenient.last_call.attempts] == [
        ("eu-west-1", "eu-west-1", "failover", "eu-west-1"),
        ("global", "us-east-1", "success", "us-east-1"),
    ]
    assert lenient.last_call.attempts[1].endpoint.endswith("/global/")
    warnings = [r for r in caplog.records if getattr(r, "event", None) == "global"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "v1 tokens are NOT valid in opt-in Regions" in warnings[0].getMessage()


def test_decisions_are_logged_with_structured_fields(stsd_regional_sts, stsd_region_fault, caplog):
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2"])
    caplog.set_level(logging.INFO, logger="stsd.client.failover")
    with stsd_region_fault("eu-west-1", "throttle"):
        sts.get_caller_identity()
    events = [(r.event, r.region, r.reason) for r in caplog.records if r.name == "stsd.client.failover"]
    assert events == [("failover", "eu-west-1", "throttling"), ("success", "eu-west-2", "ok")]
    failover = next(r for r in caplog.records if getattr(r, "event", None) == "failover")
    assert failover.endpoint.endswith("/eu-west-1/") and failover.signing_region == "eu-west-1"
    assert failover.operation == "GetCallerIdentity" and 0 <= failover.elapsed < 2
