"""The benchmark runs: set-up and verification, fixed concurrency, fixed rate, soak, the load
generator's own ceiling, and the stsd-only A/B comparisons (Region endpoint mix vs the bare
endpoint; audit trail on vs off). Each run measures one server while the others sit idle."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from bench import audit_writer, stats
from bench.loadgen import ROOT, Result, Spec, run_loadgen
from bench.procstat import rss_kib
from bench.servers import ACCOUNT, HOST, ROLE_NAME, StsdTarget, Target, create_bench_role, pin
from bench.signing import (
    ASSUME_ROLE,
    GET_CALLER_IDENTITY,
    GLOBAL,
    PLAIN,
    REGION_MIX,
    RESULT_MARKER,
    Keys,
    SignedPool,
    sign_pool,
)
from stsd.testing import free_port

Log = Callable[[str], None]
# The static server of the ceiling run checks no signature; AWS's documentation example key.
CEILING_KEYS = Keys("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
# The Region mix's stsd maps this loopback network to a Region (``stsd serve --topology``);
# the global endpoint, called from an address in it, serves in that Region.
TOPOLOGY = {"networks": [{"cidr": "127.0.1.0/24", "region": "eu-north-1"}]}
MAPPED_SOURCE = "127.0.1.1"


@dataclass
class Plan:
    concurrency: int = 32
    duration: float = 15.0  # measured seconds per fixed-concurrency run
    warmup: float = 3.0
    rate: float = 500.0
    rate_duration: float = 30.0
    rate_warmup: float = 2.0
    rate_connections: int = 64
    soak: int = 500_000
    soak_windows: int = 5  # compare the first and the last soak/5 requests
    soak_chunk_max: int = 20_000  # a fresh signed pool per chunk
    soak_timeout: float = 3600.0
    # Beside the soak, a second stsd (started for it) measured for this long after every soak
    # chunk: the machine's drift shows in both, the soaked server's ageing only in the soak, so
    # each window is also given relative to the control measured beside it.
    soak_control_seconds: float = 1.0
    ceiling_duration: float = 3.0
    pool_size: int = 512
    compare: bool = True  # stsd vs moto: verification, ceiling, fixed concurrency/rate, soak
    region_mix: bool = True  # stsd: AssumeRole over Regional + global endpoints vs the bare one
    audit_ab: bool = True  # stsd: AssumeRole with the audit trail on vs off
    # Audit A/B: pairs of fresh processes, measured in alternating order and pooled (one
    # process's speed varies by ±5 % with its memory layout, as much as the effect measured).
    ab_rounds: int = 3
    # stsd vs moto and the Region mix: the sides' runs interleaved in this many rounds (order
    # alternating), each run a share of ``duration``, each side pooled: this machine's speed
    # drifts by 10-20 % over minutes, and measuring one side after the other put the drift
    # into the ratio.
    interleave_rounds: int = 3
    quick: bool = False

    @classmethod
    def quick_plan(cls, soak: int) -> Plan:
        return cls(duration=3.0, warmup=1.0, rate_duration=5.0, rate_warmup=1.0, soak=soak,
                   soak_timeout=300.0, ceiling_duration=2.0, ab_rounds=1, interleave_rounds=1, quick=True)


@dataclass
class Pinning:
    """Where the processes run: the server under test on one core, the load generator (and
    this orchestrator, which mostly sleeps) on the other."""

    server: set[int] | None
    loadgen: set[int] | None

    @classmethod
    def detect(cls) -> Pinning:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            return cls(None, None)
        return cls({cpus[0]}, {cpus[1]})

    def describe(self) -> str:
        if self.server is None:
            return "no pinning (fewer than 2 CPUs available)"
        return (f"server under test pinned to CPU {sorted(self.server)}, load generator and "
                f"orchestrator to CPU {sorted(self.loadgen or set())}")


@dataclass
class Measurement:
    server: str
    operation: str
    mode: str  # concurrency | rate | soak-chunk | ceiling
    connections: int
    rate: float | None
    ok: int
    statuses: dict[str, int]
    errors: dict[str, int]
    bad_body: int
    unsent: int
    rps: float
    elapsed: float
    latency_ms: dict[str, float | None]
    lag_ms: dict[str, float | None]  # open loop: how late the generator sent
    service_ms: dict[str, float | None]  # open loop: from the actual write to the response
    rss_before_kib: int
    rss_after_kib: int
    rss_peak_kib: int
    server_cpu: float  # server CPU seconds per second (1.0 = one core), measured phase
    core_busy: float  # how busy the server's core was (all processes)
    foreign_cpu: float  # share of the server's core taken by other processes
    rps_per_cpu: float  # ok responses per server CPU second: capacity of one dedicated core
    loadgen_cpu: float
    all_ok: bool
    variant: str = ""  # A/B runs: which side ("plain", "mix", "audit-on", …)
    sample_error: str = ""
    latencies: array = field(default_factory=lambda: array("I"), repr=False)
    writer: dict[str, Any] = field(default_factory=dict)  # audit A/B, audit on: the writer process's CPU
    control_rps: float | None = None  # soak chunks: the control server's rate measured right after

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("latencies")
        if self.all_ok:
            out.pop("sample_error")
        return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(root: Any, name: str) -> str | None:
    for element in root.iter():
        if _local(element.tag) == name:
            return element.text or ""
    return None


def pool_runs(runs: list[Measurement]) -> Measurement:
    """Several runs of one configuration as one: responses and measured seconds summed,
    latency percentiles over all responses, CPU shares weighted by time, capacity per CPU
    second pooled; RSS from the last run; the audit writer's CPU pooled over all records."""
    if len(runs) == 1:
        return runs[0]
    first, last = runs[0], runs[-1]
    elapsed = sum(r.elapsed for r in runs)
    ok = sum(r.ok for r in runs)
    latencies = stats.merge(r.latencies for r in runs)

    def weighted(name: str) -> float:
        return sum(getattr(r, name) * r.elapsed for r in runs) / elapsed if elapsed else 0.0

    statuses: dict[str, int] = {}
    errors: dict[str, int] = {}
    for r in runs:
        for key, count in r.statuses.items():
            statuses[key] = statuses.get(key, 0) + count
        for key, count in r.errors.items():
            errors[key] = errors.get(key, 0) + count
    cpu_seconds = sum(r.ok / r.rps_per_cpu for r in runs if r.rps_per_cpu)
    pooled = replace(
        last, ok=ok, statuses=statuses, errors=errors, bad_body=sum(r.bad_body for r in runs),
        unsent=sum(r.unsent for r in runs), rps=ok / elapsed if elapsed else 0.0, elapsed=elapsed,
        latency_ms=stats.summarize_us(latencies), rss_before_kib=first.rss_before_kib,
        rss_peak_kib=max(r.rss_peak_kib for r in runs), server_cpu=weighted("server_cpu"),
        core_busy=weighted("core_busy"), foreign_cpu=weighted("foreign_cpu"),
        rps_per_cpu=ok / cpu_seconds if cpu_seconds else 0.0, loadgen_cpu=weighted("loadgen_cpu"),
        all_ok=all(r.all_ok for r in runs), latencies=latencies,
        sample_error="; ".join(r.sample_error for r in runs if r.sample_error),
    )
    writers = [r.writer for r in runs if r.writer]
    if writers:
        pooled.writer = audit_writer.pooled(writers, pooled.rps)
    return pooled


class Bench:
    def __init__(self, plan: Plan, pinning: Pinning, log: Log):
        self.plan = plan
        self.pinning = pinning
        self.log = log
        self.keys: dict[str, Keys] = {}  # by target name: what its requests are signed with
        self.role_arn: dict[str, str] = {}

    # --- pools and set-up ---------------------------------------------------------------
    def pool(self, target: Target, operation: str, size: int | None = None,
             endpoints: Sequence[tuple[str, str]] = PLAIN) -> SignedPool:
        return sign_pool(self.keys[target.name], target.host, target.port, operation,
                         size or self.plan.pool_size, self.role_arn.get(target.name), endpoints)

    def spec(self, pool: SignedPool, **kwargs: Any) -> Spec:
        return Spec(host=pool.host, port=pool.port, requests=[r.decode("latin-1") for r in pool.requests],
                    marker=RESULT_MARKER[pool.operation].decode(),
                    cpus=sorted(self.pinning.loadgen) if self.pinning.loadgen else None, **kwargs)

    def pin_server(self, target: Target) -> None:
        if self.pinning.server is not None:
            threads = pin(target.pid, self.pinning.server)
            self.log(f"  {target.name}: pid {target.pid}, {threads} thread(s) pinned to CPU "
                     f"{sorted(self.pinning.server)}")

    def start_stsd(self, target: StsdTarget) -> None:
        """Start an extra stsd for an A/B scenario, pinned and set up like the main one."""
        self.log(f"starting {target.name} on 127.0.0.1 …")
        target.start()
        self.pin_server(target)
        self.keys[target.name] = target.admin_keys
        self.role_arn[target.name] = create_bench_role(target, target.admin_keys)

    def verify(self, target: Target, operation: str, endpoints: Sequence[tuple[str, str]] = PLAIN,
               source: str | None = None) -> str:
        """Send a few pool requests (one per endpoint) through the load generator and check the XML."""
        count = max(4, len(endpoints))
        result = run_loadgen(self.spec(self.pool(target, operation, count, endpoints), connections=1,
                                       count=count, duration=30.0, source=source), timeout=60.0)
        if not result.all_ok or result.bad_body:
            raise RuntimeError(f"{target.name} {operation}: statuses {result.statuses}, errors "
                               f"{result.errors}:\n{result.sample_error or result.sample_ok}")
        root = ElementTree.fromstring(result.sample_ok)
        if _find(root, "RequestId") is None:
            raise RuntimeError(f"{target.name} {operation}: no RequestId in\n{result.sample_ok}")
        if operation == GET_CALLER_IDENTITY:
            account, arn = _find(root, "Account"), _find(root, "Arn")
            if account != ACCOUNT or not arn:
                raise RuntimeError(f"{target.name}: unexpected identity\n{result.sample_ok}")
            return f"Arn={arn}"
        key, token, arn = (_find(root, n) for n in ("AccessKeyId", "SessionToken", "Arn"))
        expected = f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAME}/bench-"
        if not key or not token or not (arn or "").startswith(expected):
            raise RuntimeError(f"{target.name}: unexpected AssumeRole result\n{result.sample_ok}")
        return f"AccessKeyId={key[:8]}…, SessionToken {len(token)} chars, Arn={arn}"

    # --- one measured run ---------------------------------------------------------------
    def measure(self, target: Target, spec: Spec, operation: str, mode: str,
                timeout: float | None = None) -> Measurement:
        rss_before = rss_kib(target.pid)
        peak = [rss_before]

        def sample() -> None:
            peak[0] = max(peak[0], rss_kib(target.pid))

        spec.server_pid = target.pid
        spec.server_cpus = sorted(self.pinning.server) if self.pinning.server else None
        result: Result = run_loadgen(spec, timeout=timeout, on_tick=sample)
        rss_after = rss_kib(target.pid)
        usage = result.server
        server_seconds = usage.get("cpu_seconds", 0.0)
        latencies = stats.unpack(result.latencies_us)
        return Measurement(
            server=target.name, operation=operation, mode=mode, connections=spec.connections,
            rate=spec.rate if spec.mode == "rate" else None, ok=result.ok, statuses=result.statuses,
            errors=result.errors, bad_body=result.bad_body, unsent=result.unsent, rps=result.rps,
            elapsed=result.elapsed, latency_ms=stats.summarize_us(latencies), lag_ms=result.lag_ms,
            service_ms=result.service_ms,
            rss_before_kib=rss_before, rss_after_kib=rss_after, rss_peak_kib=max(peak[0], rss_after),
            server_cpu=usage.get("cpu_share", 0.0), core_busy=usage.get("core_busy", 0.0),
            foreign_cpu=usage.get("foreign_share", 0.0),
            rps_per_cpu=result.ok / server_seconds if server_seconds > 0 else 0.0,
            loadgen_cpu=result.cpu_utilisation, all_ok=result.all_ok,
            sample_error=result.sample_error[:1000], latencies=latencies,
        )

    def interleaved(self, runs: dict[str, Callable[[float], Measurement]]) -> dict[str, Measurement]:
        """Each named run (called with its measured seconds) in ``plan.interleave_rounds``
        rounds, the order reversed every other round, ``plan.duration`` shared among a name's
        runs; each name's runs pooled."""
        rounds = max(1, self.plan.interleave_rounds)
        seconds = max(self.plan.duration / rounds, min(5.0, self.plan.duration))
        measured: dict[str, list[Measurement]] = {name: [] for name in runs}
        for index in range(rounds):
            order = list(runs) if index % 2 == 0 else list(reversed(runs))
            if rounds > 1:
                self.log(f"  round {index + 1} of {rounds}: {' then '.join(order)}")
            for name in order:
                measured[name].append(runs[name](seconds))
        return {name: pool_runs(found) for name, found in measured.items()}

    def fixed_concurrency(self, target: Target, operation: str, endpoints: Sequence[tuple[str, str]] = PLAIN,
                          variant: str = "", source: str | None = None,
                          duration: float | None = None) -> Measurement:
        plan = self.plan
        spec = self.spec(self.pool(target, operation, endpoints=endpoints), connections=plan.concurrency,
                         duration=duration or plan.duration, warmup=plan.warmup, source=source)
        m = self.measure(target, spec, operation, "concurrency")
        m.variant = variant
        self.log(f"  {variant or target.name:4} {operation:17} c={plan.concurrency}: {m.rps:8.1f} req/s  "
                 f"p50 {m.latency_ms['p50']} ms  p99 {m.latency_ms['p99']} ms  "
                 f"server CPU {m.server_cpu:.0%} (other processes {m.foreign_cpu:.0%} of its core)  "
                 f"{m.rps_per_cpu:.0f} req/CPU-s  loadgen CPU {m.loadgen_cpu:.0%}"
                 + ("" if m.all_ok else f"  NOT ALL OK {m.statuses} {m.errors}"))
        return m

    def fixed_rate(self, target: Target, operation: str) -> Measurement:
        plan = self.plan
        spec = self.spec(self.pool(target, operation), mode="rate", rate=plan.rate,
                         connections=plan.rate_connections, duration=plan.rate_duration,
                         warmup=plan.rate_warmup)
        m = self.measure(target, spec, operation, "rate")
        self.log(f"  {target.name:4} {operation:17} {plan.rate:.0f}/s: achieved {m.rps:7.1f} req/s  "
                 f"p50 {m.latency_ms['p50']} ms  p99 {m.latency_ms['p99']} ms  "
                 f"max {m.latency_ms['max']} ms  (from actual send: p99 {m.service_ms.get('p99')} ms)"
                 + ("" if m.all_ok else f"  NOT ALL OK {m.statuses} {m.errors} unsent {m.unsent}"))
        return m

    # --- soak ---------------------------------------------------------------------------
    def control_rate(self, control: Target) -> float:
        """AssumeRole req/s of the soak's control server over ``plan.soak_control_seconds``."""
        plan = self.plan
        spec = self.spec(self.pool(control, ASSUME_ROLE), connections=plan.concurrency,
                         duration=plan.soak_control_seconds, warmup=0.5)
        return self.measure(control, spec, ASSUME_ROLE, "soak-control").rps

    def soak(self, target: Target, control: Target | None = None) -> dict[str, Any]:
        plan = self.plan
        window = max(1, plan.soak // plan.soak_windows)
        per_window = math.ceil(window / plan.soak_chunk_max)
        chunk = max(1, window // per_window)
        chunks_total = per_window * plan.soak_windows
        total = chunk * chunks_total
        self.log(f"  soak: {total} AssumeRole calls at c={plan.concurrency} in {chunks_total} chunks "
                 f"of {chunk} (fresh signatures per chunk); windows of {chunk * per_window}")
        started = time.monotonic()
        chunks: list[Measurement] = []
        done = 0
        complete = True
        for index in range(chunks_total):
            left = plan.soak_timeout - (time.monotonic() - started)
            if left <= 5:
                complete = False
                self.log(f"  soak: time budget of {plan.soak_timeout:.0f}s spent after {done} calls")
                break
            spec = self.spec(self.pool(target, ASSUME_ROLE), connections=plan.concurrency, count=chunk,
                             duration=left, grace=10.0)
            m = self.measure(target, spec, ASSUME_ROLE, "soak-chunk", timeout=left + 30)
            if control is not None:
                m.control_rps = self.control_rate(control)
            chunks.append(m)
            done += m.ok
            elapsed = time.monotonic() - started
            eta = elapsed / (index + 1) * (chunks_total - index - 1)
            self.log(f"  soak {done:>7}/{total}: {m.rps:7.1f} req/s  p99 {m.latency_ms['p99']} ms  "
                     f"RSS {m.rss_after_kib / 1024:6.1f} MiB  CPU {m.server_cpu:4.0%} (others {m.foreign_cpu:3.0%})  "
                     + (f"control {m.control_rps:7.1f} req/s  " if control is not None else "")
                     + f"[{elapsed:5.0f}s, eta {eta:4.0f}s]"
                     + ("" if m.all_ok else f"  NOT ALL OK {m.statuses} {m.errors}"))
        windows = [self._window(chunks[i * per_window : (i + 1) * per_window])
                   for i in range(len(chunks) // per_window)]
        return {
            "requested": plan.soak, "total": total, "chunk": chunk, "window": chunk * per_window,
            "completed_calls": done, "complete": complete and len(windows) == plan.soak_windows,
            "seconds": time.monotonic() - started, "windows": windows,
            "chunks": [c.as_json() for c in chunks],
            "all_ok": all(c.all_ok for c in chunks),
        }

    @staticmethod
    def _window(chunks: list[Measurement]) -> dict[str, Any]:
        ok = sum(c.ok for c in chunks)
        elapsed = sum(c.elapsed for c in chunks)
        return {
            "calls": ok, "seconds": elapsed, "rps": ok / elapsed if elapsed else 0.0,
            "latency_ms": stats.summarize_us(stats.merge(c.latencies for c in chunks)),
            "rss_end_kib": chunks[-1].rss_after_kib,
            "rss_peak_kib": max(c.rss_peak_kib for c in chunks),
            "server_cpu": sum(c.server_cpu * c.elapsed for c in chunks) / elapsed if elapsed else 0.0,
            "foreign_cpu": sum(c.foreign_cpu * c.elapsed for c in chunks) / elapsed if elapsed else 0.0,
            "rps_per_cpu": ok / sum(c.ok / c.rps_per_cpu for c in chunks if c.rps_per_cpu) if ok else 0.0,
            **Bench._relative(chunks),
        }

    @staticmethod
    def _relative(chunks: list[Measurement]) -> dict[str, float]:
        """The window's rate relative to the control server measured beside its chunks: each
        chunk's rate over its control's, weighted by the chunk's duration."""
        if not chunks or any(c.control_rps is None or c.control_rps <= 0 for c in chunks):
            return {}
        elapsed = sum(c.elapsed for c in chunks)
        return {
            "control_rps": sum(c.control_rps * c.elapsed for c in chunks) / elapsed,  # type: ignore[operator]
            "relative": sum(c.rps / c.control_rps * c.elapsed for c in chunks) / elapsed,  # type: ignore[operator]
        }

    # --- stsd-only A/B comparisons ---------------------------------------------------------
    def region_mix(self) -> dict[str, Measurement]:
        """AssumeRole at the bare ``/`` (us-east-1) vs round-robin over ``/eu-west-1/``,
        ``/eu-west-2/``, ``/ap-northeast-1/``, ``/us-east-1/`` and ``/global/``, each signed for
        its endpoint's Region; then ``/global/`` from a source network the topology maps to
        eu-north-1 (if the generator can bind that loopback address). One fresh stsd, started
        with ``--topology``, serves all three.

        The audit trail is off here: it delivers records per Region, so a mix over five Regions
        costs it more files than one Region does, and that cost is the audit trail's (measured
        on its own by :meth:`audit_ab`), not the Region checks' this scenario is about."""
        runs: dict[str, Measurement] = {}
        with tempfile.TemporaryDirectory(prefix="stsd-bench-topology-") as tmp:
            topology = Path(tmp) / "topology.json"
            topology.write_text(json.dumps(TOPOLOGY))
            target = StsdTarget("stsd-regions", extra_args=("--topology", str(topology)), env={"STSD_AUDIT": "0"})
            try:
                self.start_stsd(target)
                detail = self.verify(target, ASSUME_ROLE, REGION_MIX)
                self.log(f"  {target.name} AssumeRole over {len(REGION_MIX)} endpoints 200 OK  {detail}")
                mapped = True
                try:
                    self.verify(target, ASSUME_ROLE, GLOBAL, source=MAPPED_SOURCE)
                except RuntimeError as error:
                    mapped = False
                    self.log(f"  /global/ from {MAPPED_SOURCE}: skipped ({str(error).splitlines()[0]})")
                variants: dict[str, Callable[[float], Measurement]] = {
                    "plain": lambda seconds: self.fixed_concurrency(target, ASSUME_ROLE, PLAIN, "plain",
                                                                    duration=seconds),
                    "mix": lambda seconds: self.fixed_concurrency(target, ASSUME_ROLE, REGION_MIX, "mix",
                                                                  duration=seconds),
                }
                if mapped:
                    variants["global-mapped"] = lambda seconds: self.fixed_concurrency(
                        target, ASSUME_ROLE, GLOBAL, "global-mapped", source=MAPPED_SOURCE, duration=seconds)
                runs = self.interleaved(variants)
            finally:
                target.stop()
        return runs

    def audit_ab(self) -> dict[str, Measurement]:
        """AssumeRole with the audit trail on (the default) vs off (``STSD_AUDIT=0``), same
        settings otherwise: ``plan.ab_rounds`` rounds, each on a fresh pair of processes
        measured one after the other, the order alternating between rounds (on → off, then
        off → on). Each side's runs are pooled (all responses over all measured seconds).

        With the audit trail on, records are built and delivered by a writer process per
        worker, not pinned with the server (see :mod:`bench.audit_writer`): its CPU per 1,000
        records is measured over each run and pooled the same way."""
        rounds: dict[str, list[Measurement]] = {"audit-on": [], "audit-off": []}
        for round_index in range(max(1, self.plan.ab_rounds)):
            order = ("audit-on", "audit-off") if round_index % 2 == 0 else ("audit-off", "audit-on")
            if self.plan.ab_rounds > 1:
                self.log(f"  round {round_index + 1} of {self.plan.ab_rounds}: {' then '.join(order)}")
            for variant, m in self._audit_round(order).items():
                rounds[variant].append(m)
        return {variant: pool_runs(runs) for variant, runs in rounds.items()}

    def _audit_round(self, order: tuple[str, ...]) -> dict[str, Measurement]:
        settings = {"audit-on": {}, "audit-off": {"STSD_AUDIT": "0"}}
        targets = {variant: StsdTarget(f"stsd-{variant}", env=settings[variant]) for variant in order}
        runs: dict[str, Measurement] = {}
        try:
            for target in targets.values():
                self.start_stsd(target)
                self.log(f"  {target.name} AssumeRole 200 OK  {self.verify(target, ASSUME_ROLE)}")
            for variant, target in targets.items():
                if variant != "audit-on":
                    runs[variant] = self.fixed_concurrency(target, ASSUME_ROLE, variant=variant)
                    continue
                writers = audit_writer.writer_pids(target.pid)
                audit_writer.settle(target.endpoint_url)  # the set-up's records first
                before = audit_writer.Snapshot.take(writers, target.endpoint_url)
                m = self.fixed_concurrency(target, ASSUME_ROLE, variant=variant)
                audit_writer.settle(target.endpoint_url)
                m.writer = audit_writer.usage(writers, before, audit_writer.Snapshot.take(writers, target.endpoint_url),
                                              m.rps)
                self.log(f"  {audit_writer.describe(m.writer)}")
                runs[variant] = m
        finally:
            for target in targets.values():
                target.stop()
        return runs

    # --- the generator's own ceiling ------------------------------------------------------
    def ceiling(self) -> dict[str, Any]:
        """Drive a trivial static server (on the server core) to show the generator's headroom."""
        port = free_port(HOST)
        cpu = min(self.pinning.server) if self.pinning.server else 0
        process = subprocess.Popen([sys.executable, "-m", "bench.static_server", str(port), str(cpu)],
                                   cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            _wait_port(port)
            pool = SignedPool(GET_CALLER_IDENTITY, HOST, port,
                              sign_pool(CEILING_KEYS, HOST, port, GET_CALLER_IDENTITY, 16).requests, time.time())
            spec = self.spec(pool, connections=self.plan.concurrency, duration=self.plan.ceiling_duration,
                             warmup=0.5)
            result = run_loadgen(spec)
        finally:
            process.terminate()
            process.wait(timeout=10)
        out = {"rps": result.rps, "loadgen_cpu": result.cpu_utilisation, "ok": result.ok,
               "all_ok": result.all_ok,
               "latency_ms": stats.summarize_us(stats.unpack(result.latencies_us))}
        self.log(f"  static server c={self.plan.concurrency}: {result.rps:.0f} req/s, "
                 f"loadgen CPU {result.cpu_utilisation:.0%}")
        return out


def _wait_port(port: int, timeout: float = 10.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {HOST}:{port}")
