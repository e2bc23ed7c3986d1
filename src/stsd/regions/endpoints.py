"""Which STS endpoint a request was addressed to: by Host header or by path prefix.

The server calls :func:`parse_host` (and, for DNS-less setups, :func:`parse_path_prefix`)
on every request, so host recognition is a dictionary lookup behind a bounded LRU cache:
the table holds every host name the SDK endpoint rules can produce for a known Region
(``sts``/``sts-fips`` x ``dnsSuffix``/``dualStackDnsSuffix``) plus ``sts.amazonaws.com``.
VPC interface-endpoint names (``vpce-...sts.<region>.vpce.amazonaws.com``) are recognised
by a pattern as a fallback, because private networking only ever reaches those.

Names the rules would build for pseudo or unknown Regions (``sts-fips.aws-global...``,
``sts.moon-base-1.amazonaws.com``) are deliberately *not* recognised: no such STS exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache, lru_cache

from stsd.regions.catalogue import (
    GLOBAL_PARTITION,
    GLOBAL_SIGNING_REGION,
    catalogue,
    partition,
    region,
)

GLOBAL = "global"
REGIONAL = "regional"


@dataclass(frozen=True, slots=True)
class Endpoint:
    region: str  # the Region the endpoint belongs to ("us-east-1" for sts.amazonaws.com)
    partition: str
    endpoint_type: str  # "global" | "regional"
    fips: bool  # the host is a FIPS endpoint (always true for GovCloud's sts.<r> hosts)
    dualstack: bool
    signing_region: str  # the SigV4 scope Region the endpoint accepts
    hostname: str | None  # canonical host name (None for path-prefix endpoints)

    @property
    def is_global(self) -> bool:
        return self.endpoint_type == GLOBAL


def global_endpoint() -> Endpoint:
    """``sts.amazonaws.com``: belongs to us-east-1 and only accepts us-east-1 signatures."""
    return _GLOBAL


def regional_endpoint(region_name: str, *, fips: bool = False, dualstack: bool = False) -> Endpoint:
    """The regional endpoint of a known Region (ValueError for anything else).

    Host names follow the SDK rules exactly: ``sts-fips.<r>.<dualStackDnsSuffix>``,
    ``sts-fips.<r>.<dnsSuffix>`` (GovCloud: ``sts.<r>.amazonaws.com``),
    ``sts.<r>.<dualStackDnsSuffix>``, ``sts.<r>.<dnsSuffix>``.
    """
    return _regional(region_name, fips, dualstack)


@cache  # at most 48 Regions x 4 variants
def _regional(region_name: str, fips: bool, dualstack: bool) -> Endpoint:
    r = region(region_name)
    if r is None:
        raise ValueError(f"unknown Region: {region_name!r}")
    p = partition(r.partition)
    assert p is not None  # the catalogue is built from the same file
    suffix = p.dual_stack_dns_suffix if dualstack else p.dns_suffix
    if fips and not (p.sts_fips_uses_standard_host and not dualstack):
        host = f"sts-fips.{r.name}.{suffix}"
    else:
        host = f"sts.{r.name}.{suffix}"
    # GovCloud has no non-FIPS IPv4 STS host: its plain host *is* the FIPS variant.
    is_fips = fips or (p.sts_fips_uses_standard_host and not dualstack)
    return Endpoint(
        region=r.name,
        partition=p.id,
        endpoint_type=REGIONAL,
        fips=is_fips,
        dualstack=dualstack,
        signing_region=r.name,
        hostname=host,
    )


_GLOBAL = Endpoint(
    region=GLOBAL_SIGNING_REGION,
    partition=GLOBAL_PARTITION,
    endpoint_type=GLOBAL,
    fips=False,
    dualstack=False,
    signing_region=GLOBAL_SIGNING_REGION,
    hostname="sts.amazonaws.com",
)


@cache
def _host_table() -> dict[str, Endpoint]:
    table = {catalogue().global_hostname: _GLOBAL}
    for name in catalogue().regions:
        for fips in (False, True):
            for dualstack in (False, True):
                ep = _regional(name, fips, dualstack)
                assert ep.hostname is not None
                table.setdefault(ep.hostname, ep)
    return table


# vpce-0abc-1234[-us-east-1a].sts[-fips].<region>.vpce.<dnsSuffix>
_VPCE = re.compile(r"^(?:[a-z0-9-]+\.)+(sts|sts-fips)\.([a-z0-9-]+)\.vpce\.([a-z0-9.-]+)$")
_PORT = re.compile(r"^[0-9]{1,5}$")


def _normalise(host: str) -> str | None:
    name = host.strip().lower()
    if not name or name.startswith("["):  # an IPv6 literal is never an STS host name
        return None
    head, colon, port = name.rpartition(":")
    if colon:
        if not _PORT.match(port):
            return None
        name = head
    if name.endswith("."):  # fully-qualified form "sts.amazonaws.com."
        name = name[:-1]
    if len(name) > 253:  # longer than any DNS name
        return None
    return name or None


@lru_cache(maxsize=4096)  # bounded: Host is attacker-controlled
def parse_host(host: str) -> Endpoint | None:
    """The STS endpoint a ``Host`` header names, or None if it names none we serve.

    Accepts an optional ``:port``, any letter case and a trailing dot. Unknown Regions,
    pseudo-Regions and hosts of other services give None.
    """
    name = _normalise(host)
    if name is None:
        return None
    found = _host_table().get(name)
    if found is not None:
        return found
    return _parse_vpce(name)


def _parse_vpce(name: str) -> Endpoint | None:
    m = _VPCE.match(name)
    if m is None:
        return None
    label, region_name, suffix = m.groups()
    r = region(region_name)
    if r is None:
        return None
    p = partition(r.partition)
    if p is None or suffix != p.dns_suffix:
        return None
    return _regional(region_name, label == "sts-fips", False)


@cache
def _prefix_table() -> dict[str, Endpoint]:
    # Path-prefix endpoints have no host of their own, hence hostname=None.
    table = {
        "global": replace(_GLOBAL, hostname=None),
        "aws-global": replace(_GLOBAL, hostname=None),
    }
    for name in catalogue().regions:
        table[name] = replace(_regional(name, False, False), hostname=None)
    for name, pseudo in catalogue().pseudo_regions.items():
        if pseudo.kind == "fips-alias" and pseudo.region and region(pseudo.region):
            table[name] = replace(_regional(pseudo.region, True, False), hostname=None)
    return table


def parse_path_prefix(path: str) -> tuple[Endpoint | None, str]:
    """Split ``/<region>/...`` or ``/global/...`` into (endpoint, remaining path).

    ``/eu-west-1`` and ``/eu-west-1/`` both leave ``/``. Anything else (unknown first
    segment, relative path) returns ``(None, path)`` unchanged.
    """
    if not path.startswith("/"):
        return None, path
    segment, _, rest = path[1:].partition("/")
    found = _prefix_table().get(segment)
    if found is None:
        return None, path
    return found, "/" + rest


#: IAM is a global service with one real host name per partition (requests there are IAM's).
IAM_HOSTS_BY_PARTITION: dict[str, str] = {
    "aws": "iam.amazonaws.com",
    "aws-us-gov": "iam.us-gov.amazonaws.com",
    "aws-cn": "iam.cn-north-1.amazonaws.com.cn",
}
IAM_HOSTS = frozenset(IAM_HOSTS_BY_PARTITION.values())
