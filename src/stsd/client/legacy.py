"""botocore's older ``endpoints.json`` layer, as far as it still shapes STS resolution.

botocore runs this resolver before the endpoint ruleset and three of its outputs survive:

* the client Region (``client.meta.region_name``): no Region becomes ``aws-global``,
  the STS ``partitionEndpoint``, and that is what the ruleset then sees;
* the signing Region used whenever the matching rule carries no ``authSchemes`` (FIPS,
  dual-stack, plain regional and custom-endpoint results): the endpoint's
  ``credentialScope`` Region if endpoints.json gives one, else the Region itself;
* errors: dual-stack in a partition whose data has no dual-stack variant (aws-iso-e,
  aws-iso-f) raises EndpointVariantError even though the rules would build a host.

It also yields the URL botocore validates when no custom endpoint is given.
"""

from __future__ import annotations

from dataclasses import dataclass

from stsd.client.errors import EndpointVariantError
from stsd.regions.catalogue import Partition, catalogue

#: endpoints.json ``partitionEndpoint`` of STS in the aws partition.
PARTITION_ENDPOINT = "aws-global"


@dataclass(frozen=True, slots=True)
class LegacyEndpoint:
    region_name: str | None  # the client's Region after this layer
    signing_region: str | None  # default SigV4 scope Region
    url: str | None  # the URL botocore validates (None: a custom endpoint is validated instead)
    partition: str


def variant_tags(*, fips: bool, dualstack: bool) -> list[str]:
    return (["dualstack"] if dualstack else []) + (["fips"] if fips else [])


def _match(region: str, dualstack: bool) -> Partition:
    parts = catalogue().partitions
    for p in parts:
        # botocore skips aws-iso/aws-iso-b for dual-stack instead of failing...
        if dualstack and p.legacy_dual_stack == "unsupported-partition":
            continue
        if p.legacy_matches(region):
            return p
    return parts[0]  # ...and, like any unmatched name, falls back to the aws partition


def resolve_legacy(
    region: str | None, *, fips: bool, dualstack: bool, endpoint_url: str | None
) -> LegacyEndpoint:
    tags = variant_tags(fips=fips, dualstack=dualstack)
    name = PARTITION_ENDPOINT if region is None else region
    p = _match(name, dualstack)
    if dualstack and p.legacy_dual_stack == "no-variant":
        raise EndpointVariantError(tags)

    pseudo = catalogue().pseudo_regions.get(name)
    entry = pseudo if pseudo is not None and pseudo.partition == p.id else None
    scope = entry.sts_signing_region if entry is not None else None

    if endpoint_url is not None:
        # A custom endpoint keeps the caller's Region (even None) for name and signature.
        return LegacyEndpoint(region_name=region, signing_region=region, url=None, partition=p.id)

    if not tags and entry is not None and entry.sts_hostname:
        host = entry.sts_hostname
    else:
        suffix = p.dual_stack_dns_suffix if dualstack else p.dns_suffix
        # GovCloud's STS FIPS variant is the plain host name.
        prefix = (
            "sts" if not fips or (p.sts_fips_uses_standard_host and not dualstack) else "sts-fips"
        )
        host = f"{prefix}.{name}.{suffix}"
    return LegacyEndpoint(
        region_name=name, signing_region=scope or name, url=f"https://{host}", partition=p.id
    )
