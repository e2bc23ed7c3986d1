"""stsd.netsetup.dns: a real responder on loopback, queried with dnslib's client over UDP and TCP."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dnslib import RCODE, DNSQuestion, DNSRecord
from dnslib.fixedresolver import FixedResolver
from dnslib.server import DNSLogger, DNSServer

from stsd.netsetup.dns import MAX_QUERY_BYTES, BackgroundDnsServer, Zone, parse_address
from stsd.netsetup.hostnames import service_hostnames
from tests.netsetup import dnsroute

LOOPBACK = "127.0.0.1"


def ask(port: int, name: str, qtype: str = "A", *, tcp: bool = False) -> DNSRecord:
    return DNSRecord.parse(DNSRecord.question(name, qtype).send(LOOPBACK, port, tcp=tcp, timeout=3))


def addresses(reply: DNSRecord) -> list[str]:
    return [str(rr.rdata) for rr in reply.rr]


@pytest.fixture(scope="module")
def zone() -> Zone:
    return Zone.build(service_hostnames(["all"]), ["127.0.0.1"], ["::1"], ttl=30)


@pytest.fixture(scope="module")
def refusing(zone: Zone) -> Iterator[int]:
    with BackgroundDnsServer(zone) as server:
        yield server.port


@pytest.fixture(scope="module")
def upstream() -> Iterator[int]:
    """A third-party DNS server (dnslib's FixedResolver) answering every name with 127.0.0.9, UDP and TCP."""
    quiet = DNSLogger("-request,-reply,-truncated,-error", prefix=False)
    resolver = FixedResolver(". 60 IN A 127.0.0.9")
    udp = DNSServer(resolver, address=LOOPBACK, port=0, logger=quiet)
    port = udp.server.server_address[1]
    tcp = DNSServer(resolver, address=LOOPBACK, port=port, tcp=True, logger=quiet)
    udp.start_thread()
    tcp.start_thread()
    yield port
    udp.stop()
    tcp.stop()


@pytest.fixture(scope="module")
def forwarding(zone: Zone, upstream: int) -> Iterator[int]:
    with BackgroundDnsServer(zone, upstream=(LOOPBACK, upstream)) as server:
        yield server.port


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_sts_names_are_answered(refusing: int, tcp: bool) -> None:
    for name in ("sts.amazonaws.com", "sts.eu-west-1.amazonaws.com", "sts-fips.us-east-1.amazonaws.com",
                 "sts.eu-west-1.api.aws", "iam.amazonaws.com", "sts.cn-north-1.amazonaws.com.cn"):
        reply = ask(refusing, name, tcp=tcp)
        assert reply.header.rcode == RCODE.NOERROR and reply.header.aa, name
        assert addresses(reply) == ["127.0.0.1"]
        assert reply.rr[0].ttl == 30 and str(reply.rr[0].rname) == name + "."
    six = ask(refusing, "sts.eu-west-1.amazonaws.com", "AAAA", tcp=tcp)
    assert addresses(six) == ["::1"]


def test_names_match_in_any_case_and_keep_the_askers_spelling(refusing: int) -> None:
    reply = ask(refusing, "StS.EU-West-1.AmazonAWS.com.")
    assert addresses(reply) == ["127.0.0.1"]
    assert str(reply.q.qname) == "StS.EU-West-1.AmazonAWS.com."
    assert str(reply.rr[0].rname) == "StS.EU-West-1.AmazonAWS.com."


def test_other_record_types_of_our_names_are_empty_answers(refusing: int) -> None:
    for qtype in ("MX", "TXT", "HTTPS"):
        reply = ask(refusing, "sts.amazonaws.com", qtype)
        assert reply.header.rcode == RCODE.NOERROR and reply.rr == []
    both = ask(refusing, "sts.amazonaws.com", "ANY")
    assert sorted(addresses(both)) == ["127.0.0.1", "::1"]


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_other_names_are_refused_without_upstream(refusing: int, tcp: bool) -> None:
    for name in ("example.com", "s3.amazonaws.com", "amazonaws.com", "x.sts.amazonaws.com",
                 "sts.moon-base-1.amazonaws.com"):
        reply = ask(refusing, name, tcp=tcp)
        assert reply.header.rcode == RCODE.REFUSED, name
        assert reply.rr == []


def test_ipv4_only_zone_gives_empty_aaaa() -> None:
    with BackgroundDnsServer(Zone.build(["sts.amazonaws.com"], ["127.0.0.2"])) as server:
        assert addresses(ask(server.port, "sts.amazonaws.com")) == ["127.0.0.2"]
        six = ask(server.port, "sts.amazonaws.com", "AAAA")
        assert six.header.rcode == RCODE.NOERROR and six.rr == []
        assert ask(server.port, "sts.eu-west-1.amazonaws.com").header.rcode == RCODE.REFUSED


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_other_names_go_to_the_upstream(forwarding: int, tcp: bool) -> None:
    reply = ask(forwarding, "example.com", tcp=tcp)
    assert reply.header.rcode == RCODE.NOERROR
    assert addresses(reply) == ["127.0.0.9"]
    assert addresses(ask(forwarding, "sts.eu-west-1.amazonaws.com", tcp=tcp)) == ["127.0.0.1"]  # never forwarded


def test_dead_upstream_is_servfail(zone: Zone) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as hole:
        hole.bind((LOOPBACK, 0))
        silent = hole.getsockname()[1]  # bound, never answers
        with BackgroundDnsServer(zone, upstream=(LOOPBACK, silent), upstream_timeout=0.3) as server:
            started = time.monotonic()
            assert ask(server.port, "example.com").header.rcode == RCODE.SERVFAIL
            assert time.monotonic() - started < 2
            assert ask(server.port, "sts.amazonaws.com").header.rcode == RCODE.NOERROR


def test_malformed_and_unusual_packets(refusing: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)

        def exchange(packet: bytes) -> DNSRecord | None:
            sock.sendto(packet, (LOOPBACK, refusing))
            try:
                return DNSRecord.parse(sock.recvfrom(4096)[0])
            except TimeoutError:
                return None

        assert exchange(b"\x00") is None  # junk: dropped
        assert exchange(b"x" * (MAX_QUERY_BYTES + 1)) is None  # oversized: dropped
        response = DNSRecord.question("sts.amazonaws.com")
        response.header.qr = 1
        assert exchange(response.pack()) is None  # a response is never answered

        two = DNSRecord.question("sts.amazonaws.com")
        two.add_question(DNSQuestion("sts.eu-west-1.amazonaws.com"))
        reply = exchange(two.pack())
        assert reply is not None and reply.header.rcode == RCODE.FORMERR and reply.header.id == two.header.id

        notify = DNSRecord.question("sts.amazonaws.com")
        notify.header.opcode = 4
        reply = exchange(notify.pack())
        assert reply is not None and reply.header.rcode == RCODE.NOTIMP

    # The server is still fine afterwards.
    assert addresses(ask(refusing, "sts.amazonaws.com")) == ["127.0.0.1"]


def test_tcp_connection_serves_several_queries_and_drops_oversized_ones(refusing: int) -> None:
    with socket.create_connection((LOOPBACK, refusing), timeout=3) as conn:
        for name in ("sts.amazonaws.com", "example.com"):
            packet = DNSRecord.question(name).pack()
            conn.sendall(struct.pack("!H", len(packet)) + packet)
            length = struct.unpack("!H", conn.recv(2))[0]
            reply = DNSRecord.parse(conn.recv(length))
            assert str(reply.q.qname) == name + "."
        conn.sendall(struct.pack("!H", MAX_QUERY_BYTES + 1))
        assert conn.recv(10) == b""  # closed


def test_parse_address() -> None:
    assert parse_address("127.0.0.1:5353", 53) == ("127.0.0.1", 5353)
    assert parse_address("127.0.0.1", 53) == ("127.0.0.1", 53)
    assert parse_address("[::1]:5353", 53) == ("::1", 5353)
    assert parse_address("::1", 53) == ("::1", 53)
    for bad in ("localhost:53", "127.0.0.1:99999", "[::1", "[::1]x", "1.2.3.4:"):
        with pytest.raises(ValueError):
            parse_address(bad, 53)


def test_zone_validation() -> None:
    with pytest.raises(ValueError):
        Zone.build(["sts.amazonaws.com"], ["::1"])  # not IPv4
    with pytest.raises(ValueError):
        Zone.build(["sts.amazonaws.com"], [], [])
    assert not Zone.build(["sts.amazonaws.com"], ["127.0.0.1"]).covers("sts.amazonaws.com:443")


def test_stsd_dns_command(tmp_path: Path) -> None:
    """`stsd dns` itself: starts, answers over UDP and TCP, refuses the rest, logs queries at debug."""
    port = dnsroute.free_udp_and_tcp_port()
    log = tmp_path / "dns.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "stsd", "dns", "--listen", f"{LOOPBACK}:{port}", "--answer", "127.0.0.3",
             "--answer6", "::1", "--partition", "aws", "--log-level", "debug"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60  # generous: a loaded CI machine starts Python slowly
        while True:
            try:
                reply = DNSRecord.parse(DNSRecord.question("sts.eu-west-1.amazonaws.com").send(
                    LOOPBACK, port, timeout=0.2))
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"stsd dns did not start:\n{log.read_text()}")
                time.sleep(0.05)
        assert addresses(reply) == ["127.0.0.3"]
        assert addresses(ask(port, "sts.eu-west-1.api.aws", "AAAA", tcp=True)) == ["::1"]
        assert ask(port, "sts.cn-north-1.amazonaws.com.cn").header.rcode == RCODE.REFUSED  # --partition aws
        assert ask(port, "example.org").header.rcode == RCODE.REFUSED
    finally:
        process.terminate()
        process.wait(10)
    text = log.read_text()
    assert f"on 127.0.0.1:{port} (UDP and TCP)" in text
    assert "sts.eu-west-1.amazonaws.com. A: 1 answer(s)" in text
    assert "REFUSED (example.org. A not ours)" in text
