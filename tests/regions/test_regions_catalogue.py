"""stsd.regions.catalogue: shipped partition/Region data and the SDK partition lookup."""

from __future__ import annotations

import json
import os

import pytest

from stsd.regions import catalogue as cat

PARTITION_IDS = [
    "aws",
    "aws-cn",
    "aws-eusc",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-us-gov",
]
LEGACY = {
    "aws-global",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-southeast-1",
    "ap-southeast-2",
}
DEFAULT_ENABLED = LEGACY - {"aws-global"} | {"ap-northeast-2", "ap-northeast-3"}
OPT_IN = {
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "me-west-1",
    "mx-central-1",
    "sa-west-1",
}


def test_partitions_in_sdk_order_with_their_suffixes():
    assert [p.id for p in cat.partitions()] == PARTITION_IDS
    aws = cat.partition("aws")
    assert aws is not None
    assert (aws.dns_suffix, aws.dual_stack_dns_suffix, aws.implicit_global_region) == (
        "amazonaws.com",
        "api.aws",
        "us-east-1",
    )
    cn = cat.partition("aws-cn")
    assert cn is not None and cn.dual_stack_dns_suffix == "api.amazonwebservices.com.cn"
    gov = cat.partition("aws-us-gov")
    assert gov is not None and gov.sts_fips_uses_standard_host
    assert all(p.supports_fips and p.supports_dual_stack for p in cat.partitions())
    assert cat.partition("nope") is None


def test_aws_regions_split_into_default_enabled_and_opt_in():
    aws = {r.name: r for r in cat.regions("aws")}
    assert set(aws) == DEFAULT_ENABLED | OPT_IN
    assert {n for n, r in aws.items() if r.opt_in} == OPT_IN
    assert all(r.default_enabled for n, r in aws.items() if n in DEFAULT_ENABLED)


def test_sts_deactivation_rules():
    # us-east-1: never; other default-enabled: yes; opt-in: follows Region enablement.
    assert cat.region("us-east-1").sts_deactivatable is False  # type: ignore[union-attr]
    for r in cat.regions("aws"):
        if r.name != "us-east-1":
            assert r.sts_deactivatable is (not r.opt_in), r.name
    # IAM User Guide table: Beijing No, Ningxia Yes.
    assert cat.region("cn-north-1").sts_deactivatable is False  # type: ignore[union-attr]
    assert cat.region("cn-northwest-1").sts_deactivatable is True  # type: ignore[union-attr]


def test_legacy_global_list_has_the_16_sdk_values():
    assert cat.legacy_global_regions() == LEGACY
    assert {r.name for r in cat.regions() if r.legacy_global} == LEGACY - {"aws-global"}
    assert cat.region("ap-northeast-2").legacy_global is False  # type: ignore[union-attr]
    pseudo = cat.pseudo_region("aws-global")
    assert pseudo is not None and pseudo.legacy_global


def test_every_region_has_a_description_and_a_partition():
    assert len(cat.regions()) == 48
    for r in cat.regions():
        assert r.description
        assert cat.partition_of(r.name).id == r.partition
        assert cat.region(r.name) == r


def test_pseudo_regions():
    g = cat.pseudo_region("aws-global")
    assert g is not None
    assert (g.sts_hostname, g.sts_signing_region, g.kind) == (
        "sts.amazonaws.com",
        "us-east-1",
        "global",
    )
    fips = cat.pseudo_region("us-east-1-fips")
    assert fips is not None and fips.kind == "fips-alias" and fips.region == "us-east-1"
    gov = cat.pseudo_region("us-gov-west-1-fips")
    assert gov is not None and gov.sts_hostname == "sts.us-gov-west-1.amazonaws.com"
    assert cat.pseudo_region("aws-cn-global").sts_hostname is None  # type: ignore[union-attr]
    assert cat.region("aws-global") is None
    assert cat.GLOBAL_SIGNING_REGION == "us-east-1"


@pytest.mark.parametrize(
    ("name", "partition"),
    [
        ("us-east-3", "aws"),  # unknown but aws-shaped
        ("moon-base-1", "aws"),  # matches nothing: aws fallback, like the SDK rules
        ("", "aws"),
        ("cn-south-9", "aws-cn"),
        ("aws-cn-global", "aws-cn"),  # listed by name, not by regex
        ("us-gov-north-9", "aws-us-gov"),
        ("us-iso-south-3", "aws-iso"),
        ("us-isob-north-2", "aws-iso-b"),
        ("eu-isoe-east-4", "aws-iso-e"),
        ("us-isof-west-7", "aws-iso-f"),
        ("eusc-de-west-2", "aws-eusc"),
        ("eusc-fr-west-2", "aws"),  # eusc regex only admits "de"
        ("us-east-1-fips", "aws"),
    ],
)
def test_partition_of_uses_listing_then_regex_then_aws(name, partition):
    assert cat.partition_of(name).id == partition


def _botocore_data(name):
    botocore = pytest.importorskip("botocore")
    path = os.path.join(os.path.dirname(botocore.__file__), "data", name)
    with open(path) as fh:
        return json.load(fh)


def test_shipped_partitions_equal_installed_botocore():
    """Drift check: re-generate partitions.json when botocore adds Regions."""
    theirs = {p["id"]: p for p in _botocore_data("partitions.json")["partitions"]}
    assert [p.id for p in cat.partitions()] == list(theirs)
    for p in cat.partitions():
        t = theirs[p.id]
        out = t["outputs"]
        assert p.region_regex == t["regionRegex"]
        assert (p.dns_suffix, p.dual_stack_dns_suffix) == (
            out["dnsSuffix"],
            out["dualStackDnsSuffix"],
        )
        assert p.implicit_global_region == out["implicitGlobalRegion"]
        assert (p.supports_fips, p.supports_dual_stack) == (
            out["supportsFIPS"],
            out["supportsDualStack"],
        )
        assert p.listed_names == set(t["regions"])
        for name, meta in t["regions"].items():
            ours = cat.region(name) or cat.pseudo_region(name)
            assert ours is not None and ours.description == meta["description"]


def test_shipped_sts_endpoint_entries_equal_installed_botocore():
    for part in _botocore_data("endpoints.json")["partitions"]:
        p = cat.partition(part["partition"])
        assert p is not None
        for name, entry in part["services"]["sts"]["endpoints"].items():
            assert p.legacy_matches(name)
            if "credentialScope" in entry:
                pseudo = cat.pseudo_region(name)
                assert pseudo is not None and pseudo.partition == p.id
                assert pseudo.sts_signing_region == entry["credentialScope"]["region"]
                assert pseudo.sts_hostname == entry["hostname"]
        variants = {tuple(v["tags"]) for v in part["defaults"].get("variants", [])}
        if p.legacy_dual_stack == "variant":
            assert ("dualstack",) in variants
        else:
            assert ("dualstack",) not in variants
