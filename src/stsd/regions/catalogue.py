"""The partition and Region catalogue, loaded once from ``stsd/data/partitions.json``.

The JSON is stsd's own shipped data (generated once from botocore 1.44.5's
``partitions.json``/``endpoints.json`` plus the IAM User Guide's STS Region table), so
neither the server nor the client library depends on botocore internals at run time.

Two kinds of names live here:

* real Regions (``eu-west-1``, ``cn-north-1``, ...): :class:`Region`, with the STS facts
  the server needs (opt-in, can STS be deactivated there, is it in the SDK legacy list);
* pseudo-Regions the SDKs know about (``aws-global``, ``aws-cn-global``, the deprecated
  ``us-east-1-fips`` aliases): :class:`PseudoRegion`. They never name a place where
  requests are served; they only steer endpoint resolution.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

#: SigV4 scope Region of the global endpoint ``sts.amazonaws.com``.
GLOBAL_SIGNING_REGION = "us-east-1"
#: The partition that owns the only global STS endpoint.
GLOBAL_PARTITION = "aws"


@dataclass(frozen=True, slots=True)
class Partition:
    id: str
    name: str
    region_regex: str
    dns_suffix: str
    dual_stack_dns_suffix: str
    implicit_global_region: str
    supports_fips: bool
    supports_dual_stack: bool
    # GovCloud's ordinary STS host is its FIPS host (the rules emit sts.<r>.amazonaws.com).
    sts_fips_uses_standard_host: bool
    # How botocore's older endpoints.json layer treats dual-stack in this partition:
    # "variant" (modelled), "no-variant" (EndpointVariantError) or
    # "unsupported-partition" (skipped; resolution falls back to the aws partition).
    legacy_dual_stack: str
    # Every name the SDK rules list for this partition (real Regions and *-global).
    listed_names: frozenset[str] = field(repr=False)
    # Names botocore's endpoints.json layer knows here: real Regions plus the STS
    # endpoint entries (aws-global, deprecated *-fips aliases), but not *-global.
    legacy_names: frozenset[str] = field(repr=False)
    _regex: re.Pattern[str] = field(repr=False, compare=False)

    def matches(self, region_name: str) -> bool:
        """The SDK rules' partition test: listed by name, or matching ``regionRegex``."""
        # re.match like botocore (the pattern is anchored with ^...$).
        return region_name in self.listed_names or self._regex.match(region_name) is not None

    def legacy_matches(self, region_name: str) -> bool:
        """The same test as botocore's endpoints.json resolver makes it."""
        return region_name in self.legacy_names or self._regex.match(region_name) is not None


@dataclass(frozen=True, slots=True)
class Region:
    name: str
    partition: str
    description: str
    opt_in: bool  # False: enabled by default (launched before 2019-03-20 in aws)
    sts_deactivatable: bool  # can an account deactivate STS here (IAM console)?
    legacy_global: bool  # SDK "legacy" mode sends this Region to sts.amazonaws.com

    @property
    def default_enabled(self) -> bool:
        return not self.opt_in


@dataclass(frozen=True, slots=True)
class PseudoRegion:
    name: str
    partition: str
    description: str
    kind: str  # "global" (aws-global, aws-cn-global, ...) or "fips-alias" (us-east-1-fips)
    region: str | None  # real Region a fips alias stands for
    listed_in_partition: bool  # in partitions.json's region list (affects aws.partition())
    # Only where endpoints.json models an STS endpoint for the name (aws-global, *-fips):
    sts_hostname: str | None
    sts_signing_region: str | None
    legacy_global: bool


@dataclass(frozen=True, slots=True)
class Catalogue:
    partitions: tuple[Partition, ...]  # file order == botocore's partition match order
    regions: dict[str, Region]
    pseudo_regions: dict[str, PseudoRegion]
    legacy_global_regions: frozenset[str]
    global_hostname: str


def _build(raw: dict[str, Any]) -> Catalogue:
    partitions: list[Partition] = []
    regions: dict[str, Region] = {}
    pseudo: dict[str, PseudoRegion] = {}
    legacy = frozenset(raw["legacyGlobalRegions"])
    for p in raw["partitions"]:
        listed = set(p["regions"])
        legacy_names = set(p["regions"])
        for name, r in p["regions"].items():
            regions[name] = Region(
                name=name,
                partition=p["id"],
                description=r["description"],
                opt_in=r["optIn"],
                sts_deactivatable=r["stsDeactivatable"],
                legacy_global=r["legacyGlobal"],
            )
        for name, r in p["pseudoRegions"].items():
            if r["inPartitionRegions"]:
                listed.add(name)
            sts = r.get("stsEndpoint") or {}
            if sts:
                legacy_names.add(name)
            pseudo[name] = PseudoRegion(
                name=name,
                partition=p["id"],
                description=r["description"],
                kind=r["kind"],
                region=r.get("region"),
                listed_in_partition=r["inPartitionRegions"],
                sts_hostname=sts.get("hostname"),
                sts_signing_region=sts.get("signingRegion"),
                legacy_global=name in legacy,
            )
        partitions.append(
            Partition(
                id=p["id"],
                name=p["name"],
                region_regex=p["regionRegex"],
                dns_suffix=p["dnsSuffix"],
                dual_stack_dns_suffix=p["dualStackDnsSuffix"],
                implicit_global_region=p["implicitGlobalRegion"],
                supports_fips=p["supportsFIPS"],
                supports_dual_stack=p["supportsDualStack"],
                sts_fips_uses_standard_host=p["stsFipsUsesStandardHost"],
                legacy_dual_stack=p["legacyDualStack"],
                listed_names=frozenset(listed),
                legacy_names=frozenset(legacy_names),
                _regex=re.compile(p["regionRegex"]),
            )
        )
    return Catalogue(
        partitions=tuple(partitions),
        regions=regions,
        pseudo_regions=pseudo,
        legacy_global_regions=legacy,
        global_hostname=raw["globalEndpoint"]["hostname"],
    )


@cache
def catalogue() -> Catalogue:
    """The catalogue, parsed on first use and shared afterwards."""
    # Addressed from the stsd package: data/ is package data, not a package of its own.
    text = resources.files("stsd").joinpath("data", "partitions.json").read_text("utf-8")
    return _build(json.loads(text))


def region(name: str) -> Region | None:
    """A real Region by exact name (pseudo-Regions and unknown names give None)."""
    return catalogue().regions.get(name)


def pseudo_region(name: str) -> PseudoRegion | None:
    return catalogue().pseudo_regions.get(name)


def partition(partition_id: str) -> Partition | None:
    for p in catalogue().partitions:
        if p.id == partition_id:
            return p
    return None


def partitions() -> tuple[Partition, ...]:
    return catalogue().partitions


@lru_cache(maxsize=1024)  # bounded: callers may pass arbitrary strings
def partition_of(region_name: str) -> Partition:
    """The partition the SDK rules' ``aws.partition()`` picks for any string.

    First partition (in file order) that lists the name or whose ``regionRegex`` matches;
    anything else falls back to ``aws`` -- so ``moon-base-1`` is treated as an aws Region,
    exactly as the SDKs do.
    """
    parts = catalogue().partitions
    for p in parts:
        if p.matches(region_name):
            return p
    return parts[0]


def regions(partition: str | None = None) -> list[Region]:
    """Real Regions, optionally of one partition, sorted by name."""
    found = catalogue().regions.values()
    return sorted(
        (r for r in found if partition is None or r.partition == partition),
        key=lambda r: r.name,
    )


def legacy_global_regions() -> frozenset[str]:
    """The 16 names SDK "legacy" mode sends to ``sts.amazonaws.com`` (incl. aws-global)."""
    return catalogue().legacy_global_regions
