"""The STS and IAM host names stsd answers to, derived from the Region catalogue.

Every name listed here is one :func:`stsd.regions.endpoints.parse_host` maps to an endpoint
(or, for IAM, one the request pipeline treats as IAM's real host name), so the CA, the DNS
responder and the hosts lines all agree with what the server recognises:

* ``sts.amazonaws.com`` (the global endpoint, aws partition only);
* per Region: ``sts.<r>.<dnsSuffix>``, ``sts-fips.<r>.<dnsSuffix>`` (GovCloud: its plain host
  is already the FIPS one), ``sts.<r>.<dualStackDnsSuffix>``, ``sts-fips.<r>.<dualStackDnsSuffix>``;
* IAM's global host of the partitions that have one stsd serves.

VPC interface-endpoint names (``vpce-...``) are matched by a pattern on the server and
cannot be listed, so they are not here.
"""

from __future__ import annotations

from collections.abc import Iterable

from stsd.regions.catalogue import GLOBAL_PARTITION, catalogue, partitions, regions
from stsd.regions.endpoints import IAM_HOSTS_BY_PARTITION, global_endpoint, regional_endpoint

#: Pseudo partition id meaning "every partition of the catalogue".
ALL = "all"
#: What ``stsd ca`` and ``stsd hosts`` cover unless told otherwise.
DEFAULT_PARTITIONS: tuple[str, ...] = (GLOBAL_PARTITION,)

#: IAM's real host name per partition (the ones the request pipeline routes to IAM).
IAM_HOSTS = IAM_HOSTS_BY_PARTITION


def partition_ids() -> tuple[str, ...]:
    """Every partition id, in catalogue order (``aws`` first)."""
    return tuple(p.id for p in partitions())


def resolve_partitions(selected: Iterable[str] | None) -> tuple[str, ...]:
    """Validate partition ids; ``all`` expands to every partition; None/empty means the default.

    The result is deduplicated and in catalogue order. Unknown ids raise ValueError naming
    the valid ones.
    """
    wanted = {s.strip().lower() for s in (selected or ()) if s.strip()}
    if not wanted:
        wanted = set(DEFAULT_PARTITIONS)
    known = partition_ids()
    if ALL in wanted:
        return known
    unknown = sorted(wanted - set(known))
    if unknown:
        raise ValueError(f"unknown partition(s) {', '.join(unknown)}; choose from {', '.join((*known, ALL))}")
    return tuple(p for p in known if p in wanted)


def sts_hostnames(selected: Iterable[str] | None = None) -> tuple[str, ...]:
    """STS host names of the given partitions: the global name first, then by Region."""
    chosen = resolve_partitions(selected)
    names: dict[str, None] = {}  # insertion-ordered set
    if GLOBAL_PARTITION in chosen:
        host = global_endpoint().hostname
        assert host is not None
        names[host] = None
    for partition_id in chosen:
        for r in regions(partition_id):
            for dualstack in (False, True):
                for fips in (False, True):
                    host = regional_endpoint(r.name, fips=fips, dualstack=dualstack).hostname
                    assert host is not None
                    names[host] = None
    return tuple(names)


def iam_hostnames(selected: Iterable[str] | None = None) -> tuple[str, ...]:
    """IAM's global host names of the given partitions (not every partition has one)."""
    chosen = resolve_partitions(selected)
    return tuple(IAM_HOSTS[p] for p in chosen if p in IAM_HOSTS)


def service_hostnames(selected: Iterable[str] | None = None, *, iam: bool = True) -> tuple[str, ...]:
    """STS names, then IAM names (unless ``iam=False``), of the given partitions."""
    return sts_hostnames(selected) + (iam_hostnames(selected) if iam else ())


def dns_suffixes() -> tuple[str, ...]:
    """Every DNS suffix an STS/IAM host name of any partition ends with (for name constraints)."""
    found: dict[str, None] = {}
    for p in catalogue().partitions:
        found[p.dns_suffix] = None
        found[p.dual_stack_dns_suffix] = None
    return tuple(found)
