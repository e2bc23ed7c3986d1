"""Where a caller is: source networks standing in for "the Amazon DNS resolver of a VPC in
Region X", which since 2025 decides where the global endpoint serves a request.

Topology file (JSON)::

    {"networks": [{"cidr": "127.0.1.0/24", "region": "eu-north-1"},
                  {"cidr": "127.0.2.0/24", "region": "ap-east-1"}]}

Callers from a Region enabled by default are served there; callers from opt-in Regions or
from networks not listed are served in us-east-1, as are all callers in ``legacy`` mode.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from stsd.regions import catalogue

LOCAL = "local"  # the 2025 behaviour
LEGACY = "legacy"  # before 2025: the global endpoint is always served in us-east-1
GLOBAL_HOME = "us-east-1"


@dataclass(frozen=True)
class Topology:
    networks: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = ()
    mode: str = LOCAL

    @classmethod
    def load(cls, path: Path | None, mode: str = LOCAL) -> Topology:
        if mode not in (LOCAL, LEGACY):
            raise ValueError(f"global endpoint mode must be {LOCAL!r} or {LEGACY!r}, not {mode!r}")
        if path is None:
            return cls((), mode)
        raw = json.loads(Path(path).read_text())
        networks = []
        for entry in raw.get("networks", []):
            region = entry["region"]
            if catalogue.region(region) is None:
                raise ValueError(f"unknown Region {region!r} in {path}")
            networks.append((ipaddress.ip_network(entry["cidr"], strict=False), region))
        # Longest prefix first, so the most specific network wins.
        networks.sort(key=lambda item: item[0].prefixlen, reverse=True)
        return cls(tuple(networks), mode)

    def caller_region(self, source_ip: str) -> str | None:
        return _lookup(self, source_ip)

    def global_serving_region(self, source_ip: str) -> str:
        if self.mode == LEGACY:
            return GLOBAL_HOME
        region_name = self.caller_region(source_ip)
        region = catalogue.region(region_name) if region_name else None
        if region is None or region.opt_in or region.partition != "aws":
            return GLOBAL_HOME
        return region.name


@lru_cache(maxsize=65536)
def _lookup(topology: Topology, source_ip: str) -> str | None:
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return None
    # A dual-stack listener (``--host ::`` with several workers: uvicorn binds the socket
    # without IPV6_V6ONLY) reports IPv4 callers as ``::ffff:a.b.c.d``; they are IPv4 callers.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for network, region in topology.networks:
        if address.version == network.version and address in network:
            return region
    return None
