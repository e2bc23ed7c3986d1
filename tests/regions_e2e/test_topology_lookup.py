"""The topology file as the server reads it, for source addresses the loopback suite cannot
produce with a single-worker server: IPv4 callers seen through a dual-stack listener
(``stsd serve --host :: --workers 2``: uvicorn binds without IPV6_V6ONLY, so callers arrive
as ``::ffff:a.b.c.d``) are IPv4 callers. (Checked end to end by hand: before the fix such a
server served 127.0.1.5 in us-east-1.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from stsd.regions.topology import LEGACY, LOCAL, Topology


@pytest.mark.parametrize(("source", "served"), [
    ("127.0.1.5", "eu-north-1"),
    ("::ffff:127.0.1.5", "eu-north-1"),
    ("::FFFF:7f00:105", "eu-north-1"),
    ("127.0.2.5", "us-east-1"),  # opt-in Region: served in us-east-1
    ("::ffff:127.0.2.5", "us-east-1"),
    ("127.0.0.1", "us-east-1"),  # in no listed network
    ("::1", "us-east-1"),
    ("not-an-address", "us-east-1"),
])
def test_global_serving_region(topology_file: Path, source: str, served: str) -> None:
    assert Topology.load(topology_file, LOCAL).global_serving_region(source) == served
    assert Topology.load(topology_file, LEGACY).global_serving_region(source) == "us-east-1"


def test_caller_region_of_mapped_addresses(topology_file: Path) -> None:
    topology = Topology.load(topology_file, LOCAL)
    assert topology.caller_region("::ffff:127.0.2.9") == "ap-east-1"
    assert topology.caller_region("::ffff:127.0.3.9") is None
