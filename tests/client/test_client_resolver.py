"""resolve_endpoint: result fields, explanations and the stsd-only missing-Region policies."""

from __future__ import annotations

import pytest

from stsd.client import EndpointResolutionError, ResolvedEndpoint, resolve_endpoint
from stsd.client.errors import EndpointVariantError, InvalidRegionError, NoRegionError, RulesetError


@pytest.fixture
def resolve(tmp_path):
    """resolve_endpoint with no environment and no shared config files."""

    def run(**kwargs):
        kwargs.setdefault("env", {})
        return resolve_endpoint(
            config_file=tmp_path / "config", credentials_file=tmp_path / "credentials", **kwargs
        )

    return run


def test_regional_default(resolve):
    got = resolve(region="eu-west-1")
    assert got == ResolvedEndpoint(
        url="https://sts.eu-west-1.amazonaws.com",
        signing_region="eu-west-1",
        global_endpoint=False,
        reason=got.reason,
        region="eu-west-1",
        partition="aws",
        sts_regional_endpoints="regional",
        sts_regional_endpoints_source="default",
        endpoint_source="rules",
    )
    assert got.signing_name == "sts"
    assert "regional endpoint of eu-west-1" in got.reason


def test_legacy_mode_only_for_the_16_names(resolve):
    g = resolve(region="eu-west-1", sts_regional_endpoints="legacy")
    assert (g.url, g.signing_region, g.global_endpoint) == (
        "https://sts.amazonaws.com",
        "us-east-1",
        True,
    )
    assert "legacy list" in g.reason
    seoul = resolve(region="ap-northeast-2", sts_regional_endpoints="legacy")
    assert seoul.url == "https://sts.ap-northeast-2.amazonaws.com" and not seoul.global_endpoint
    hk = resolve(region="ap-east-1", sts_regional_endpoints="legacy")
    assert hk.url == "https://sts.ap-east-1.amazonaws.com"


def test_no_region_is_the_global_endpoint_like_botocore(resolve):
    got = resolve(region=None)
    assert (got.url, got.signing_region, got.region) == (
        "https://sts.amazonaws.com",
        "us-east-1",
        "aws-global",
    )
    assert "aws-global" in got.reason


def test_missing_region_policies(resolve):
    with pytest.raises(RulesetError, match=r"^Invalid Configuration: Missing Region$"):
        resolve(region=None, missing_region="error")
    east = resolve(region=None, missing_region="us-east-1")
    assert (east.url, east.signing_region) == ("https://sts.us-east-1.amazonaws.com", "us-east-1")
    # A configured Region makes the policy irrelevant.
    assert (
        resolve(region="eu-west-2", missing_region="error").url
        == "https://sts.eu-west-2.amazonaws.com"
    )
    with pytest.raises(NoRegionError, match=r"^You must specify a region\.$"):
        resolve(region=None, endpoint_url="https://sts.example.test", missing_region="error")


def test_custom_endpoint_signs_with_the_client_region(resolve):
    got = resolve(region="aws-global", endpoint_url="http://127.0.0.1:8080/global/", use_fips=True)
    assert got.url == "http://127.0.0.1:8080/global/"
    assert got.signing_region == "aws-global"  # botocore does not map it to us-east-1 here
    assert (got.partition, got.fips, got.endpoint_source) == (None, False, "parameter")
    assert not got.global_endpoint


def test_fips_pseudo_region(resolve):
    got = resolve(region="us-east-1-fips")
    assert (got.url, got.signing_region, got.region, got.fips) == (
        "https://sts-fips.us-east-1.amazonaws.com",
        "us-east-1",
        "us-east-1",
        True,
    )
    assert "FIPS forced on" in got.reason


def test_errors_are_value_errors_with_sdk_text(resolve):
    with pytest.raises(InvalidRegionError) as bad:
        resolve(region="not_valid")
    assert str(bad.value) == "Provided region_name 'not_valid' doesn't match a supported format."
    assert isinstance(bad.value, EndpointResolutionError) and isinstance(bad.value, ValueError)
    with pytest.raises(EndpointVariantError) as variant:
        resolve(region="us-isof-south-1", use_dualstack=True, use_fips=True)
    assert str(variant.value) == (
        "Unable to construct a modeled endpoint with the following variant(s) "
        "['dualstack', 'fips']: "
    )


@pytest.mark.parametrize(
    ("region", "fips", "dualstack", "url"),
    [
        ("cn-north-1", False, True, "https://sts.cn-north-1.api.amazonwebservices.com.cn"),
        ("us-gov-west-1", True, False, "https://sts.us-gov-west-1.amazonaws.com"),
        ("us-gov-west-1", True, True, "https://sts-fips.us-gov-west-1.api.aws"),
        ("us-iso-east-1", False, True, "https://sts.us-iso-east-1.api.aws.ic.gov"),
        ("eusc-de-east-1", True, True, "https://sts-fips.eusc-de-east-1.api.amazonwebservices.eu"),
        ("aws-global", True, False, "https://sts-fips.aws-global.amazonaws.com"),
        ("moon-base-1", False, False, "https://sts.moon-base-1.amazonaws.com"),
    ],
)
def test_partitions_and_pseudo_regions(resolve, region, fips, dualstack, url):
    got = resolve(region=region, use_fips=fips, use_dualstack=dualstack)
    assert got.url == url
