"""A getaddrinfo that resolves host names through ``stsd dns`` (the resolver override the tests use).

A test cannot change the machine's resolver, so it replaces ``socket.getaddrinfo`` in the
process that makes the requests: every host name is asked of the stsd DNS server on
loopback (a real UDP query, answered by the real responder), and the HTTPS port 443 is
rewritten to the port the test's stsd listens on (DNS cannot carry ports). Anything the
DNS server refuses, and any address outside 127.0.0.0/8 or ::1, fails like an unknown
host, so no test traffic can leave the machine.

Used in-process by the tests (monkeypatch) and, for the AWS CLI subprocess, by a
``sitecustomize.py`` that calls :func:`install_from_env`.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from typing import Any

from dnslib import QTYPE, RCODE, DNSRecord

ENV_DNS_PORT = "STSD_TEST_DNS_PORT"
ENV_HTTPS_PORT = "STSD_TEST_HTTPS_PORT"
ENV_SEEN_FILE = "STSD_TEST_RESOLVED_FILE"


def _loopback(text: str) -> bool:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def make_getaddrinfo(real: Callable[..., Any], *, dns_port: int, https_port: int,
                     record: Callable[[str], None] | None = None) -> Callable[..., Any]:
    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
        if isinstance(host, bytes):
            host = host.decode("ascii")
        if host is None or host == "localhost" or _loopback(host):
            return real(host, port, family, type, proto, flags)
        if ":" in host or host.replace(".", "").isdigit():
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: not a loopback address (test resolver)")
        name = host.lower().rstrip(".")
        reply = DNSRecord.parse(DNSRecord.question(name, "A").send("127.0.0.1", dns_port, timeout=2))
        addresses = [str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A]
        if reply.header.rcode != RCODE.NOERROR or not addresses or not all(map(_loopback, addresses)):
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: {RCODE.get(reply.header.rcode)} from stsd dns")
        if record is not None:
            record(name)
        target_port = https_port if port in (443, "443", "https") else port
        return real(addresses[0], target_port, family, type, proto, flags)

    return getaddrinfo


def install_from_env() -> None:
    """For ``sitecustomize.py``: patch this process if the test set the environment."""
    if ENV_DNS_PORT not in os.environ:
        return
    seen_file = os.environ.get(ENV_SEEN_FILE)

    def record(name: str) -> None:
        if seen_file:
            with open(seen_file, "a", encoding="ascii") as handle:
                handle.write(name + "\n")

    socket.getaddrinfo = make_getaddrinfo(  # type: ignore[assignment]
        socket.getaddrinfo, dns_port=int(os.environ[ENV_DNS_PORT]),
        https_port=int(os.environ[ENV_HTTPS_PORT]), record=record,
    )


def free_udp_and_tcp_port() -> int:
    """A loopback port free for both UDP and TCP (for `stsd dns --listen`)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")
