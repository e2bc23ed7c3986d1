"""The load generator: a separate process, pinned to its own core, that drives one server
over keep-alive HTTP/1.1 connections with pre-signed requests (raw asyncio on uvloop, no
HTTP library in the hot path).

Two modes:

* ``concurrency`` (closed loop): ``connections`` connections, each sending its next request
  as soon as the previous response is complete. Latency = write → last byte of the response.
* ``rate`` (open loop): request *i* is scheduled at ``start + i / rate`` whatever the
  responses do; it waits for an idle connection if all are busy. Latency = *scheduled* time
  → last byte, so a stalled server is charged for every request queued behind the stall
  (no coordinated omission). ``lag`` reports how late requests actually left.

Every run is bounded by a request count and/or a duration plus a grace period, every
request by a timeout (a watchdog aborts its connection). Only responses whose status is
200 and whose body contains the expected ``<…Result>`` marker count as ``ok``.

Run as ``python -m bench.loadgen SPEC.json RESULT.json``; ``run_loadgen`` does that from the
orchestrating process and returns the parsed result.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from bench import stats
from bench.procstat import Snapshot, usage

ROOT = Path(__file__).resolve().parents[1]
MAX_SAMPLE = 4096


@dataclass
class Spec:
    host: str
    port: int
    requests: list[str]  # raw HTTP requests, latin-1 decoded
    marker: str  # a 200 body must contain it
    mode: str = "concurrency"  # or "rate"
    connections: int = 32
    count: int | None = None  # closed loop: measured requests (None: until duration)
    duration: float = 10.0  # closed loop: max measured seconds; open loop: schedule length
    warmup: float = 0.0  # seconds of unrecorded load before measuring
    rate: float = 0.0  # open loop: requests per second
    cpus: list[int] | None = None  # sched_setaffinity for this process
    timeout: float = 30.0  # per request
    grace: float = 15.0  # extra seconds allowed after the nominal end
    server_pid: int | None = None  # measure its CPU over the measured phase
    server_cpus: list[int] | None = None  # and how busy these cores were
    source: str | None = None  # bind connections to this local (loopback) address


@dataclass
class Result:
    mode: str
    ok: int = 0  # 200 with the expected marker
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # exceptions by name
    bad_body: int = 0  # 200 without the marker
    elapsed: float = 0.0  # measured seconds
    rps: float = 0.0  # ok / elapsed
    latencies_us: str = ""  # packed array("I"), see stats.unpack
    cpu_seconds: float = 0.0  # this process, measured phase
    wall_seconds: float = 0.0  # measured phase
    server: dict[str, float] = field(default_factory=dict)  # procstat.usage, measured phase
    connects: int = 0
    unsent: int = 0  # open loop: scheduled but never sent before the hard deadline
    lag_ms: dict[str, float | None] = field(default_factory=dict)  # open loop: send lateness
    service_ms: dict[str, float | None] = field(default_factory=dict)  # open loop: write → response
    sample_ok: str = ""
    sample_error: str = ""

    @property
    def cpu_utilisation(self) -> float:
        return self.cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def completed(self) -> int:
        return sum(self.statuses.values())

    @property
    def all_ok(self) -> bool:
        return self.ok > 0 and self.ok == self.completed and not self.errors and not self.unsent


class ProtocolFailure(Exception):
    pass


class Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes, bool]] | None = None
        self.started = 0.0
        self.until_close: tuple[int, int] | None = None  # (status, body offset)

    # asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and self.until_close is None:
            self._parse()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        waiter, self.waiter = self.waiter, None
        if waiter is None or waiter.done():
            return
        if self.until_close is not None and exc is None:
            status, start = self.until_close
            waiter.set_result((status, bytes(self.buffer[start:]), False))
        else:
            waiter.set_exception(exc or ConnectionResetError("connection closed by server"))

    # client side
    @property
    def alive(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes, bool]]:
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        if self.transport is None:
            waiter.set_exception(ConnectionResetError("connection closed"))
            return waiter
        self.waiter = waiter
        self.started = time.perf_counter()
        self.transport.write(data)
        return waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, message: str) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ProtocolFailure(message))
        self.abort()

    def _parse(self) -> None:
        buf = self.buffer
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buf[:end]).lower()
        try:
            status = int(head[9:12])
        except ValueError:
            self._fail(f"bad status line {head[:40]!r}")
            return
        start = end + 4
        keep = not head.startswith(b"http/1.0")
        if b"\r\nconnection: close" in head:
            keep = False
        elif b"\r\nconnection: keep-alive" in head:
            keep = True
        i = head.find(b"\r\ncontent-length:")
        if i >= 0:
            j = head.find(b"\r\n", i + 17)
            try:
                length = int(head[i + 17 : j if j >= 0 else len(head)])
            except ValueError:
                self._fail("bad content-length")
                return
            total = start + length
            if len(buf) < total:
                return
            body = bytes(buf[start:total])
        elif b"\r\ntransfer-encoding: chunked" in head:
            parsed = _dechunk(buf, start)
            if parsed is None:
                return
            body, total = parsed
        else:  # delimited by the server closing the connection
            self.until_close = (status, start)
            return
        del buf[:total]
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((status, body, keep))


def _dechunk(buf: bytearray, pos: int) -> tuple[bytes, int] | None:
    """(body, end offset) of a complete chunked body starting at ``pos``, None if incomplete."""
    parts: list[bytes] = []
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buf[pos:eol]).split(b";", 1)[0], 16)
        if size == 0:
            trailer_end = buf.find(b"\r\n\r\n", eol)
            if trailer_end < 0:
                return None
            return b"".join(parts), trailer_end + 4
        if len(buf) < eol + 2 + size + 2:
            return None
        parts.append(bytes(buf[eol + 2 : eol + 2 + size]))
        pos = eol + 2 + size + 2


class Runner:
    def __init__(self, spec: Spec):
        self.spec = spec
        self.requests = [r.encode("latin-1") for r in spec.requests]
        self.marker = spec.marker.encode()
        self.latencies = array("I")
        self.lags = array("I")
        self.service = array("I")
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.bad_body = 0
        self.ok = 0
        self.connects = 0
        self.unsent = 0
        self.sample_ok = b""
        self.sample_error = b""
        self.live: set[Connection] = set()
        self.measure_start = 0.0
        self.last_done = 0.0
        self.marks: list[tuple[float, float, Snapshot | None]] = []  # process_time, perf_counter, server

    def mark(self) -> None:
        spec = self.spec
        snap = Snapshot.take(spec.server_pid, spec.server_cpus or []) if spec.server_pid else None
        self.marks.append((time.process_time(), time.perf_counter(), snap))

    async def mark_at(self, when: float) -> None:
        while (delay := when - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        self.mark()

    # connections
    async def connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        self.connects += 1
        _transport, conn = await asyncio.wait_for(
            loop.create_connection(Connection, self.spec.host, self.spec.port,
                                   local_addr=(self.spec.source, 0) if self.spec.source else None),
            self.spec.timeout)
        self.live.add(conn)
        return conn

    async def reconnect(self, until: float) -> Connection | None:
        """A fresh connection, retrying until ``until``; None if the server stays away."""
        while time.perf_counter() < until:
            try:
                return await self.connect()
            except (OSError, TimeoutError) as error:
                self.errors["connect:" + type(error).__name__] += 1
                await asyncio.sleep(0.05)
        return None

    def drop(self, conn: Connection) -> None:
        conn.close()
        self.live.discard(conn)

    async def watchdog(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            limit = time.perf_counter() - self.spec.timeout
            for conn in list(self.live):
                if conn.waiter is not None and conn.started < limit:
                    conn.abort()

    # accounting
    def record(self, started: float, status: int, body: bytes) -> None:
        done = time.perf_counter()
        self.latencies.append(max(0, int((done - started) * 1e6)))
        self.statuses[status] += 1
        self.last_done = done
        if status == 200 and self.marker in body:
            self.ok += 1
            if not self.sample_ok:
                self.sample_ok = body[:MAX_SAMPLE]
        else:
            if status == 200:
                self.bad_body += 1
            if not self.sample_error:
                self.sample_error = body[:MAX_SAMPLE]

    def _finished(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.errors["bug:" + type(task.exception()).__name__] += 1

    # closed loop
    async def closed_loop(self) -> None:
        spec = self.spec
        conns = [await self.connect() for _ in range(spec.connections)]
        self.measure_start = time.perf_counter() + spec.warmup
        deadline = self.measure_start + spec.duration
        marker = asyncio.create_task(self.mark_at(self.measure_start))
        remaining = [spec.count if spec.count is not None else 1 << 62]

        async def worker(conn: Connection, index: int) -> None:
            requests, n = self.requests, len(self.requests)
            while True:
                now = time.perf_counter()
                measuring = now >= self.measure_start
                if measuring:
                    if remaining[0] <= 0 or now >= deadline:
                        break
                    remaining[0] -= 1
                elif now >= deadline:
                    break
                request = requests[index % n]
                index += spec.connections
                try:
                    status, body, keep = await conn.request(request)
                except Exception as error:  # a dead connection: count it, reconnect
                    if measuring:
                        self.errors[type(error).__name__] += 1
                    keep = False
                else:
                    if measuring:
                        self.record(now, status, body)
                if not keep:
                    self.drop(conn)
                    fresh = await self.reconnect(deadline)
                    if fresh is None:
                        return
                    conn = fresh
            self.drop(conn)

        await asyncio.gather(*(worker(conn, i) for i, conn in enumerate(conns)))
        await marker
        self.mark()

    # open loop
    async def open_loop(self) -> None:
        spec = self.spec
        idle: asyncio.Queue[Connection] = asyncio.Queue()
        for _ in range(spec.connections):
            idle.put_nowait(await self.connect())
        interval = 1.0 / spec.rate
        warm = int(spec.rate * spec.warmup)
        total = warm + int(spec.rate * spec.duration)
        start = time.perf_counter() + 0.01
        self.measure_start = start + warm * interval
        hard_deadline = start + spec.warmup + spec.duration + spec.grace
        pending: set[asyncio.Task[None]] = set()
        marker = asyncio.create_task(self.mark_at(self.measure_start))

        async def one(conn: Connection, request: bytes, scheduled: float, measuring: bool) -> None:
            try:
                status, body, keep = await conn.request(request)
            except Exception as error:
                if measuring:
                    self.errors[type(error).__name__] += 1
                keep = False
            else:
                if measuring:
                    self.record(scheduled, status, body)
                    self.service.append(int(max(0.0, self.last_done - conn.started) * 1e6))
            if not keep:
                self.drop(conn)
                fresh = await self.reconnect(hard_deadline)
                if fresh is None:
                    return
                conn = fresh
            idle.put_nowait(conn)

        for i in range(total):
            scheduled = start + i * interval
            while (delay := scheduled - time.perf_counter()) > 0:  # timers may fire a bit early
                await asyncio.sleep(delay)
            left = hard_deadline - time.perf_counter()
            try:
                conn = idle.get_nowait() if not idle.empty() else await asyncio.wait_for(idle.get(), left)
            except (TimeoutError, ValueError):
                self.unsent = total - i
                break
            measuring = i >= warm
            if measuring:
                self.lags.append(int(max(0.0, time.perf_counter() - scheduled) * 1e6))
            task = asyncio.create_task(one(conn, self.requests[i % len(self.requests)], scheduled, measuring))
            pending.add(task)
            task.add_done_callback(self._finished)
            task.add_done_callback(pending.discard)
        if pending:
            _done, late = await asyncio.wait(pending, timeout=max(0.0, hard_deadline - time.perf_counter()))
            for task in late:
                task.cancel()
            if late:
                self.errors["Timeout"] += len(late)
        await marker
        self.mark()
        for conn in list(self.live):
            self.drop(conn)

    async def run(self) -> Result:
        watchdog = asyncio.create_task(self.watchdog())
        try:
            if self.spec.mode == "concurrency":
                await self.closed_loop()
            elif self.spec.mode == "rate":
                await self.open_loop()
            else:
                raise ValueError(f"unknown mode {self.spec.mode}")
        finally:
            watchdog.cancel()
        (cpu0, wall0, snap0), (cpu1, wall1, snap1) = self.marks[0], self.marks[-1]
        elapsed = max(0.0, self.last_done - self.measure_start)
        return Result(
            mode=self.spec.mode,
            ok=self.ok,
            statuses={str(k): v for k, v in sorted(self.statuses.items())},
            errors=dict(self.errors),
            bad_body=self.bad_body,
            elapsed=elapsed,
            rps=self.ok / elapsed if elapsed > 0 else 0.0,
            latencies_us=stats.pack(self.latencies),
            cpu_seconds=cpu1 - cpu0,
            wall_seconds=wall1 - wall0,
            server=usage(snap0, snap1) if snap0 and snap1 else {},
            connects=self.connects,
            unsent=self.unsent,
            lag_ms=stats.summarize_us(self.lags) if self.spec.mode == "rate" else {},
            service_ms=stats.summarize_us(self.service) if self.spec.mode == "rate" else {},
            sample_ok=self.sample_ok.decode("utf-8", "replace"),
            sample_error=self.sample_error.decode("utf-8", "replace"),
        )


def run_spec(spec: Spec) -> Result:
    """Run in this process (the child side)."""
    if spec.cpus:
        os.sched_setaffinity(0, spec.cpus)
    try:
        import uvloop

        runner: Callable[[Any], Any] = uvloop.run
    except ImportError:  # pragma: no cover - stsd depends on uvloop
        runner = asyncio.run
    gc.collect()
    gc.freeze()
    return runner(Runner(spec).run())


def run_loadgen(spec: Spec, *, timeout: float | None = None,
                on_tick: Callable[[], None] | None = None, tick: float = 0.5) -> Result:
    """Run ``spec`` in a separate Python process and return its result.

    ``on_tick`` is called every ``tick`` seconds while the generator runs (e.g. to sample
    the server's RSS). The child is killed if it outlives ``timeout``.
    """
    limit = timeout if timeout is not None else spec.warmup + spec.duration + spec.grace + 30.0
    with tempfile.TemporaryDirectory(prefix="stsd-bench-") as tmp:
        spec_path, result_path = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_path.write_text(json.dumps(asdict(spec)))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
        with open(Path(tmp) / "stderr.txt", "wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "bench.loadgen", str(spec_path), str(result_path)],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
            deadline = time.monotonic() + limit
            try:
                while True:
                    try:
                        process.wait(timeout=tick)
                        break
                    except subprocess.TimeoutExpired:
                        if on_tick is not None:
                            on_tick()
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"load generator still running after {limit:.0f}s") from None
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        if process.returncode != 0 or not result_path.exists():
            err = (Path(tmp) / "stderr.txt").read_text(errors="replace")
            raise RuntimeError(f"load generator failed (exit {process.returncode}):\n{err}")
        raw = json.loads(result_path.read_text())
    return Result(**raw)


def main(argv: list[str]) -> int:
    spec_path, result_path = argv
    spec = Spec(**json.loads(Path(spec_path).read_text()))
    result = run_spec(spec)
    Path(result_path).write_text(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
