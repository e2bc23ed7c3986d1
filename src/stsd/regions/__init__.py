"""Partition/Region catalogue and STS endpoint recognition (server side)."""

from stsd.regions.catalogue import (
    GLOBAL_SIGNING_REGION,
    Partition,
    PseudoRegion,
    Region,
    legacy_global_regions,
    partition,
    partition_of,
    partitions,
    pseudo_region,
    region,
    regions,
)
from stsd.regions.endpoints import (
    Endpoint,
    global_endpoint,
    parse_host,
    parse_path_prefix,
    regional_endpoint,
)

__all__ = [
    "GLOBAL_SIGNING_REGION",
    "Endpoint",
    "Partition",
    "PseudoRegion",
    "Region",
    "global_endpoint",
    "legacy_global_regions",
    "parse_host",
    "parse_path_prefix",
    "partition",
    "partition_of",
    "partitions",
    "pseudo_region",
    "region",
    "regional_endpoint",
    "regions",
]
