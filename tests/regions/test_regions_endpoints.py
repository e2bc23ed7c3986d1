"""stsd.regions.endpoints: every SDK-produced STS URL parses back to its endpoint."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from stsd.regions import (
    Endpoint,
    global_endpoint,
    parse_host,
    parse_path_prefix,
    partition_of,
    region,
    regional_endpoint,
    regions,
)

DATA = Path(__file__).resolve().parents[1] / "client" / "data"
VECTORS = json.loads((DATA / "sts-endpoint-tests.json").read_text())["testCases"]
GRID = json.loads((DATA / "botocore-sts-endpoint-grid.json").read_text())
GLOBAL_HOST = "sts.amazonaws.com"


def expected(host: str, region_name: str, fips: bool, dualstack: bool) -> Endpoint | None:
    """What parse_host must say about a host the SDK produced for these inputs."""
    if host == GLOBAL_HOST:
        return global_endpoint()
    if region(region_name) is None:
        return None  # pseudo or unknown Region: no such STS endpoint
    p = partition_of(region_name)
    gov_plain = p.sts_fips_uses_standard_host and not dualstack
    return Endpoint(
        region=region_name,
        partition=p.id,
        endpoint_type="regional",
        fips=fips or gov_plain,
        dualstack=dualstack,
        signing_region=region_name,
        hostname=host,
    )


def _vector_cases():
    for i, case in enumerate(VECTORS):
        url = case["expect"].get("endpoint", {}).get("url")
        params = case.get("params", {})
        if url is None or "Endpoint" in params:
            continue  # error cases and custom endpoints name no STS host
        yield pytest.param(
            urlsplit(url).hostname,
            params["Region"],
            params.get("UseFIPS", False),
            params.get("UseDualStack", False),
            id=f"{i}-{case['documentation']}",
        )


VECTOR_CASES = list(_vector_cases())


def test_vector_cases_cover_the_62_host_vectors():
    # 69 vectors - 3 error cases - 4 custom-endpoint cases
    assert len(VECTOR_CASES) == 62


@pytest.mark.parametrize(("host", "region_name", "fips", "dualstack"), VECTOR_CASES)
def test_every_official_vector_url_parses_back(host, region_name, fips, dualstack):
    assert parse_host(host) == expected(host, region_name, fips, dualstack)


def _grid_cases():
    for case in GRID["grid"] + GRID["extra_cases"]:
        if "url" not in case or case.get("endpoint_url"):
            continue
        # client_region_name is the Region after botocore's fips-alias rewrite.
        name = case["client_region_name"]
        forced_fips = name != case["region"] and case["region"] is not None
        yield (
            urlsplit(case["url"]).hostname,
            name,
            case["use_fips_endpoint"] or forced_fips,
            case["use_dualstack_endpoint"],
            case["signing_region"],
        )


GRID_CASES = list(_grid_cases())


def test_every_botocore_grid_url_parses_back():
    assert len(GRID_CASES) > 450
    recognised = 0
    for host, name, fips, dualstack, signing in GRID_CASES:
        want = expected(host, name, fips, dualstack)
        got = parse_host(host)
        assert got == want, (host, name, fips, dualstack)
        if got is not None:
            recognised += 1
            if signing is not None:  # signed operation: botocore's scope == what we accept
                assert got.signing_region == signing, host
    assert recognised > 350


@pytest.mark.parametrize("r", [r.name for r in regions()])
def test_regional_endpoints_round_trip_with_ports_case_and_dots(r):
    for fips in (False, True):
        for dualstack in (False, True):
            ep = regional_endpoint(r, fips=fips, dualstack=dualstack)
            assert ep.hostname is not None
            assert ep.region == ep.signing_region == r
            assert ep.endpoint_type == "regional" and ep.dualstack is dualstack
            for variant in (
                ep.hostname,
                ep.hostname.upper(),
                ep.hostname + ".",
                ep.hostname + ":443",
                f" {ep.hostname.title()}.:8443 ",
            ):
                assert parse_host(variant) == ep, variant


def test_global_endpoint():
    g = global_endpoint()
    assert (g.region, g.partition, g.endpoint_type, g.signing_region, g.hostname) == (
        "us-east-1",
        "aws",
        "global",
        "us-east-1",
        GLOBAL_HOST,
    )
    assert g.is_global and not g.fips and not g.dualstack
    for host in (
        "sts.amazonaws.com",
        "STS.AMAZONAWS.COM",
        "sts.amazonaws.com.",
        "sts.amazonaws.com:443",
    ):
        assert parse_host(host) == g
    assert parse_host("sts.us-east-1.amazonaws.com") == regional_endpoint("us-east-1")


def test_govcloud_plain_host_is_its_fips_host():
    plain = regional_endpoint("us-gov-west-1")
    assert plain == regional_endpoint("us-gov-west-1", fips=True)
    assert plain.hostname == "sts.us-gov-west-1.amazonaws.com" and plain.fips
    ds = regional_endpoint("us-gov-east-1", dualstack=True)
    assert ds.hostname == "sts.us-gov-east-1.api.aws" and not ds.fips
    assert regional_endpoint("us-gov-east-1", fips=True, dualstack=True).hostname == (
        "sts-fips.us-gov-east-1.api.aws"
    )


@pytest.mark.parametrize(
    ("host", "region_name", "partition", "fips", "dualstack"),
    [
        ("sts.cn-north-1.amazonaws.com.cn", "cn-north-1", "aws-cn", False, False),
        (
            "sts.cn-northwest-1.api.amazonwebservices.com.cn",
            "cn-northwest-1",
            "aws-cn",
            False,
            True,
        ),
        ("sts-fips.us-iso-east-1.c2s.ic.gov", "us-iso-east-1", "aws-iso", True, False),
        ("sts.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1", "aws-iso-b", False, False),
        ("sts.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1", "aws-iso-e", False, False),
        ("sts.us-isof-south-1.csp.hci.ic.gov", "us-isof-south-1", "aws-iso-f", False, False),
        ("sts.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1", "aws-eusc", False, False),
        (
            "sts-fips.eusc-de-east-1.api.amazonwebservices.eu",
            "eusc-de-east-1",
            "aws-eusc",
            True,
            True,
        ),
        ("sts.me-west-1.amazonaws.com", "me-west-1", "aws", False, False),
        # VPC interface endpoints (private DNS off): only reachable names in closed VPCs.
        ("vpce-0abc123-d4e5f6.sts.eu-west-1.vpce.amazonaws.com", "eu-west-1", "aws", False, False),
        (
            "vpce-0abc123-d4e5f6-eu-west-1a.sts.eu-west-1.vpce.amazonaws.com",
            "eu-west-1",
            "aws",
            False,
            False,
        ),
        ("vpce-1.sts-fips.us-east-2.vpce.amazonaws.com:443", "us-east-2", "aws", True, False),
        ("vpce-1.sts.cn-north-1.vpce.amazonaws.com.cn", "cn-north-1", "aws-cn", False, False),
    ],
)
def test_other_partitions_and_vpc_endpoints(host, region_name, partition, fips, dualstack):
    ep = parse_host(host)
    assert ep is not None
    assert (ep.region, ep.partition, ep.fips, ep.dualstack) == (
        region_name,
        partition,
        fips,
        dualstack,
    )
    assert ep.signing_region == region_name and ep.endpoint_type == "regional"


@pytest.mark.parametrize(
    "host",
    [
        "",
        ":443",
        "localhost",
        "localhost:8080",
        "127.0.0.1:8080",
        "[::1]:8080",
        "example.com",
        "iam.amazonaws.com",
        "s3.eu-west-1.amazonaws.com",
        "sts.eu-west-1.amazonaws.com.evil.test",
        "evil.sts.eu-west-1.amazonaws.com",
        "sts.eu-west-1.amazonaws.com:https",
        "sts.eu-west-1.amazonaws.com:99999999",
        "sts.us-east-3.amazonaws.com",  # unknown Region
        "sts.moon-base-1.amazonaws.com",
        "sts.aws-global.amazonaws.com",
        "sts-fips.aws-global.amazonaws.com",  # rules output for aws-global + FIPS
        "sts.aws-global.api.aws",
        "sts.aws-cn-global.amazonaws.com.cn",
        "sts.amazonaws.com.cn",  # no global STS endpoint outside aws
        "sts.eu-west-1.amazonaws.com.cn",  # wrong partition suffix
        "sts.cn-north-1.amazonaws.com",
        "sts.us-gov-west-1.amazonaws.eu",
        "sts-fips.us-gov-west-1.amazonaws.com",  # GovCloud FIPS is the plain host
        "sts.eu-west-1.api.amazonwebservices.com.cn",
        "sts..amazonaws.com",
        "vpce-1.sts.eu-west-1.vpce.amazonaws.com.cn",
        "sts.eu-west-1.vpce.amazonaws.com",
        "x" * 300 + ".sts.eu-west-1.vpce.amazonaws.com",
    ],
)
def test_unknown_hosts_give_none(host):
    assert parse_host(host) is None


def test_parse_host_is_a_bounded_cache():
    info = parse_host.cache_info()  # type: ignore[attr-defined]
    assert info.maxsize is not None and info.maxsize <= 65536
    parse_host("sts.eu-central-1.amazonaws.com")
    before = parse_host.cache_info().hits  # type: ignore[attr-defined]
    parse_host("sts.eu-central-1.amazonaws.com")
    assert parse_host.cache_info().hits == before + 1  # type: ignore[attr-defined]


def test_regional_endpoint_rejects_unknown_and_pseudo_regions():
    for name in ("us-east-3", "aws-global", "us-east-1-fips", ""):
        with pytest.raises(ValueError, match="unknown Region"):
            regional_endpoint(name)


@pytest.mark.parametrize(
    ("path", "endpoint", "rest"),
    [
        ("/eu-west-1/", regional_endpoint("eu-west-1"), "/"),
        ("/eu-west-1", regional_endpoint("eu-west-1"), "/"),
        ("/eu-west-1/foo/bar", regional_endpoint("eu-west-1"), "/foo/bar"),
        ("/cn-north-1/", regional_endpoint("cn-north-1"), "/"),
        ("/us-gov-west-1/", regional_endpoint("us-gov-west-1"), "/"),
        ("/global/", global_endpoint(), "/"),
        ("/global", global_endpoint(), "/"),
        ("/aws-global/x", global_endpoint(), "/x"),
        ("/us-east-1-fips/", regional_endpoint("us-east-1", fips=True), "/"),
    ],
)
def test_path_prefix(path, endpoint, rest):
    got, remaining = parse_path_prefix(path)
    assert got == replace(endpoint, hostname=None)
    assert remaining == rest


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "",
        "//",
        "/us-east-3/",
        "/EU-WEST-1/",
        "/eu-west-1x/",
        "eu-west-1/",
        "/Global/",
        "/?Action=x",
    ],
)
def test_path_without_known_prefix_is_unchanged(path):
    assert parse_path_prefix(path) == (None, path)
