"""A small DNS responder that answers the STS/IAM host names with stsd's address.

It is authoritative for exactly the names :mod:`stsd.netsetup.hostnames` lists (A records,
and AAAA records when IPv6 answers are configured; other record types get an empty NOERROR
answer). Every other question is forwarded to an upstream resolver when one is configured,
otherwise answered REFUSED — it never recurses itself.

UDP and TCP (RFC 7766 framing) on one port, with bounded work per packet:

* a query is at most :data:`MAX_QUERY_BYTES` and must carry exactly one question;
* only opcode QUERY is handled (others: NOTIMP), responses are never answered;
* undecodable packets are dropped (UDP) or end the connection (TCP);
* at most :data:`MAX_FORWARDS` forwarded queries are in flight (beyond that: SERVFAIL),
  each waiting at most ``upstream_timeout`` seconds;
* at most :data:`MAX_TCP_CONNECTIONS` TCP connections, each idle for at most
  :data:`TCP_IDLE_SECONDS` and serving at most :data:`TCP_QUERIES_PER_CONNECTION` queries.

Queries are logged at debug level on the ``stsd.dns`` logger.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import socket
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dnslib import AAAA, QTYPE, RCODE, RR, A, DNSRecord
from dnslib.dns import OPCODE

log = logging.getLogger("stsd.dns")

MAX_QUERY_BYTES = 1232  # the DNS-flag-day EDNS size; real queries are far smaller
MAX_FORWARDS = 64
MAX_TCP_CONNECTIONS = 64
TCP_IDLE_SECONDS = 10.0
TCP_QUERIES_PER_CONNECTION = 100
DEFAULT_TTL = 60
DEFAULT_PORT = 5353
CLASS_IN, CLASS_ANY = 1, 255
_HOST_CHARS = re.compile(r"^[a-z0-9.-]{1,253}$")


def parse_address(text: str, default_port: int) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` → (host, port); host must be an IP."""
    text = text.strip()
    host, port = text, default_port
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(f"unbalanced brackets in {text!r}")
        host, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"bad address {text!r}")
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = _port(port_text, text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{host!r} is not an IP address") from None
    return host, port


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise ValueError(f"bad port in {whole!r}")
    return int(text)


@dataclass(frozen=True)
class Zone:
    """The names we answer and what we answer them with."""

    names: frozenset[str]
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...] = ()
    ttl: int = DEFAULT_TTL

    @classmethod
    def build(cls, names: Iterable[str], ipv4: Iterable[str], ipv6: Iterable[str] = (),
              ttl: int = DEFAULT_TTL) -> Zone:
        v4 = tuple(str(ipaddress.IPv4Address(a)) for a in ipv4)
        v6 = tuple(str(ipaddress.IPv6Address(a)) for a in ipv6)
        if not v4 and not v6:
            raise ValueError("at least one answer address is needed")
        if not 0 <= ttl <= 86400:
            raise ValueError("ttl must be 0..86400")
        return cls(frozenset(n.lower().rstrip(".") for n in names), v4, v6, ttl)

    def covers(self, qname: str) -> bool:
        name = qname.lower().rstrip(".")
        return _HOST_CHARS.match(name) is not None and name in self.names


class Responder:
    """Turns one query packet into one response packet (or None: drop it)."""

    def __init__(self, zone: Zone, *, upstream: tuple[str, int] | None = None, upstream_timeout: float = 2.0):
        self.zone = zone
        self.upstream = upstream
        self.upstream_timeout = upstream_timeout
        self._forwards = asyncio.Semaphore(MAX_FORWARDS)

    async def respond(self, data: bytes, client: object, *, tcp: bool) -> bytes | None:
        """The response to send back, or None to send nothing. Never raises."""
        try:
            return await self._respond(data, client, tcp)
        except Exception:
            log.exception("%s: failed to answer a query", client)
            return None

    async def _respond(self, data: bytes, client: object, tcp: bool) -> bytes | None:
        if len(data) > MAX_QUERY_BYTES:
            log.debug("%s: dropped a %d-byte packet", client, len(data))
            return None
        try:
            request = DNSRecord.parse(data)
        except Exception:  # dnslib raises several kinds (DNSError, BufferError, ...) on junk
            log.debug("%s: dropped an undecodable packet", client)
            return None
        header = request.header
        if header.qr:  # a response: never answer one (reflection loops)
            return None
        if header.opcode != OPCODE.QUERY:
            return self._error(request, RCODE.NOTIMP, client, "opcode")
        if len(request.questions) != 1:
            return self._error(request, RCODE.FORMERR, client, "question count")
        question = request.q
        qname = str(question.qname)
        qtype = QTYPE.get(question.qtype, str(question.qtype))
        if self.zone.covers(qname) and question.qclass in (CLASS_IN, CLASS_ANY):
            reply = request.reply(ra=int(self.upstream is not None), aa=1)
            if question.qtype in (QTYPE.A, QTYPE.ANY):
                for address in self.zone.ipv4:
                    reply.add_answer(RR(question.qname, QTYPE.A, rdata=A(address), ttl=self.zone.ttl))
            if question.qtype in (QTYPE.AAAA, QTYPE.ANY):
                for address in self.zone.ipv6:
                    reply.add_answer(RR(question.qname, QTYPE.AAAA, rdata=AAAA(address), ttl=self.zone.ttl))
            log.debug("%s %s %s: %d answer(s)", client, qname, qtype, len(reply.rr))
            return reply.pack()
        if self.upstream is None:
            return self._error(request, RCODE.REFUSED, client, f"{qname} {qtype} not ours")
        if self._forwards.locked():
            return self._error(request, RCODE.SERVFAIL, client, "too many forwarded queries")
        async with self._forwards:
            try:
                answer = await asyncio.wait_for(self._forward(data, tcp), self.upstream_timeout)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                return self._error(request, RCODE.SERVFAIL, client, f"upstream {exc!r}")
        if len(answer) < 2 or answer[:2] != data[:2]:
            return self._error(request, RCODE.SERVFAIL, client, "upstream answer for another query")
        log.debug("%s %s %s: forwarded", client, qname, qtype)
        return answer

    def _error(self, request: DNSRecord, rcode: int, client: object, why: str) -> bytes:
        log.debug("%s: %s (%s)", client, RCODE.get(rcode), why)
        reply = request.reply(ra=int(self.upstream is not None), aa=0)
        reply.header.rcode = rcode
        reply.rr, reply.auth, reply.ar = [], [], []
        return reply.pack()

    async def _forward(self, data: bytes, tcp: bool) -> bytes:
        assert self.upstream is not None
        host, port = self.upstream
        loop = asyncio.get_running_loop()
        if tcp:
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(struct.pack("!H", len(data)) + data)
                await writer.drain()
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                return await reader.readexactly(length)
            finally:
                writer.close()
        done: asyncio.Future[bytes] = loop.create_future()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _OneAnswer(done), remote_addr=(host, port)
        )
        try:
            transport.sendto(data)
            return await done
        finally:
            transport.close()


class _OneAnswer(asyncio.DatagramProtocol):
    def __init__(self, done: asyncio.Future[bytes]):
        self.done = done

    def datagram_received(self, data: bytes, addr: object) -> None:
        if not self.done.done():
            self.done.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


class _UdpServer(asyncio.DatagramProtocol):
    def __init__(self, responder: Responder):
        self.responder = responder
        self.transport: Any = None  # an asyncio.DatagramTransport
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        task = asyncio.ensure_future(self._answer(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _answer(self, data: bytes, addr: tuple[str, int]) -> None:
        answer = await self.responder.respond(data, f"udp:{addr[0]}:{addr[1]}", tcp=False)
        if answer is not None and self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(answer, addr)


class DnsServer:
    """The responder on a UDP and a TCP socket of the same address and port."""

    def __init__(self, responder: Responder, host: str = "127.0.0.1", port: int = DEFAULT_PORT):
        self.responder = responder
        self.host = host
        self.port = port
        self._udp: asyncio.DatagramTransport | None = None
        self._udp_protocol: _UdpServer | None = None
        self._tcp: asyncio.Server | None = None
        self._tcp_slots = asyncio.Semaphore(MAX_TCP_CONNECTIONS)
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Bind both sockets; returns the port (useful with port 0: UDP picks, TCP follows)."""
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        attempts = 20 if self.port == 0 else 1
        for attempt in range(attempts):
            transport, protocol = await loop.create_datagram_endpoint(
                lambda: _UdpServer(self.responder), local_addr=(self.host, self.port), family=family
            )
            port = transport.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, self.host, port, family=family,
                                                       reuse_address=True)
            except OSError:
                transport.close()
                if attempt == attempts - 1:
                    raise
                continue
            self._udp, self._udp_protocol, self.port = transport, protocol, port
            return port
        raise AssertionError("unreachable")

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        client = f"tcp:{peer[0]}:{peer[1]}"
        if self._tcp_slots.locked():
            log.debug("%s: refused, too many TCP connections", client)
            writer.close()
            return
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            async with self._tcp_slots:
                for _ in range(TCP_QUERIES_PER_CONNECTION):
                    try:
                        prefix = await asyncio.wait_for(reader.readexactly(2), TCP_IDLE_SECONDS)
                        (length,) = struct.unpack("!H", prefix)
                        if length > MAX_QUERY_BYTES:
                            break
                        data = await asyncio.wait_for(reader.readexactly(length), TCP_IDLE_SECONDS)
                    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                        break
                    answer = await self.responder.respond(data, client, tcp=True)
                    if answer is None:
                        break
                    writer.write(struct.pack("!H", len(answer)) + answer)
                    await writer.drain()
        except ConnectionError:
            pass
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._udp_protocol is not None:
            for task in list(self._udp_protocol.tasks):
                task.cancel()
        if self._tcp is not None:
            self._tcp.close()
            for task in list(self._connections):
                task.cancel()
            with contextlib.suppress(Exception):
                await self._tcp.wait_closed()

    async def serve_forever(self) -> None:
        """Start (if not yet) and serve until cancelled."""
        if self._tcp is None:
            await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.close()


class BackgroundDnsServer:
    """A :class:`DnsServer` on its own event loop in a daemon thread (for tests and embedding).

        with BackgroundDnsServer(zone, port=0) as server:
            DNSRecord.question("sts.amazonaws.com").send("127.0.0.1", server.port)
    """

    def __init__(self, zone: Zone, *, host: str = "127.0.0.1", port: int = 0,
                 upstream: tuple[str, int] | None = None, upstream_timeout: float = 2.0):
        self._args = (zone, host, port, upstream, upstream_timeout)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: DnsServer | None = None
        self.port = port

    def start(self) -> int:
        zone, host, port, upstream, timeout = self._args
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)

            async def boot() -> None:
                self._server = DnsServer(Responder(zone, upstream=upstream, upstream_timeout=timeout), host, port)
                self.port = await self._server.start()

            try:
                loop.run_until_complete(boot())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._server.close())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="stsd-dns", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self.port

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> BackgroundDnsServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
