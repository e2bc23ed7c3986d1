"""Where does stsd's time go? Profile one stsd worker under the benchmark's load.

    .venv/bin/python bench/profile_stsd.py --op AssumeRole --seconds 10              # cProfile
    .venv/bin/python bench/profile_stsd.py --op GetCallerIdentity --mode sample      # stack sampling

Runs ``stsd.server.app:app_from_env`` under uvicorn with exactly the options ``stsd serve``
uses, inside a profiler (deterministic cProfile, or a low-overhead sampler that records the
event-loop thread's stack every millisecond of CPU time), drives it with the same load generator and
pre-signed requests as ``bench/run.py``, then prints the top functions with their cost per
request. stsd's code is not modified; the profiler only wraps the process.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import gc
import io
import json
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# --- the profiled server (child process) -------------------------------------------------
def serve(data_dir: str, port: int, out: str, mode: str) -> None:
    import uvicorn

    from stsd.server.http_protocol import UVICORN_HTTP  # as `stsd serve` runs it

    os.environ["STSD_DATA_DIR"] = data_dir
    os.environ["STSD_EMULATOR"] = "0"
    os.environ["STSD_QUOTA_RATE"] = "0"  # measure the server, not the per-account quota

    def run() -> None:
        target = "bench.profile_stsd:bare_app" if mode == "baseline" else "stsd.server.app:app_from_env"
        uvicorn.run(target, factory=mode != "baseline", host="127.0.0.1", port=port, workers=1,
                    log_level="warning", server_header=False, http=UVICORN_HTTP, loop="uvloop",
                    access_log=False, proxy_headers=False)

    if mode in ("baseline", "plain"):  # no profiler: what the server costs as shipped
        sys.path.insert(0, str(ROOT))
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)
        run()
        return

    # Profile only between SIGUSR1 and SIGUSR2 (sent by the driver around the load), so
    # start-up and imports stay out; cProfile counts CPU time, not wall time, so being
    # descheduled by other processes on the core does not show up as cost.
    pauses = GcPauses(freeze=os.environ.get("STSD_BENCH_GC_FREEZE") == "1")
    gc.callbacks.append(pauses.callback)
    if mode == "cprofile":
        profiler = cProfile.Profile(time.process_time)
        signal.signal(signal.SIGUSR1, lambda *_: (pauses.begin(), profiler.enable()))
        signal.signal(signal.SIGUSR2, lambda *_: (profiler.disable(), pauses.active.clear()))
        try:
            run()
        finally:
            profiler.dump_stats(out)
            pauses.dump(out + ".gc.json")
        return
    sampler = Sampler()
    signal.signal(signal.SIGUSR1, lambda *_: (pauses.begin(), sampler.start()))
    signal.signal(signal.SIGUSR2, lambda *_: (sampler.stop(), pauses.active.clear()))
    try:
        run()
    finally:
        sampler.stop()
        Path(out).write_text(json.dumps(sampler.result()))
        pauses.dump(out + ".gc.json")


BARE_BODY = (b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
             b"<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/admin</Arn>"
             b"<UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
             b"</GetCallerIdentityResponse>")


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The floor: an ASGI app that reads the body and answers a fixed GetCallerIdentity XML
    under the same uvicorn options, i.e. what the HTTP layer alone costs per request."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/xml"), (b"content-length", str(len(BARE_BODY)).encode())]})
    await send({"type": "http.response.body", "body": BARE_BODY})


class GcPauses:
    """Times every garbage collection (``gc.callbacks``) while ``active``. ``begin`` (at the
    start of the load) notes the heap size and, as an experiment, can ``gc.freeze()`` it."""

    def __init__(self, freeze: bool = False) -> None:
        self.active = threading.Event()
        self.pauses: list[tuple[int, float]] = []  # (generation, seconds)
        self.freeze = freeze
        self.heap: dict[str, int] = {}
        self._started = 0.0

    def begin(self) -> None:
        self.heap = {"tracked_objects": len(gc.get_objects())}
        if self.freeze:
            gc.freeze()
            self.heap["frozen"] = gc.get_freeze_count()
        self.active.set()

    def dump(self, path: str) -> None:
        Path(path).write_text(json.dumps({"pauses": self.pauses, "heap": self.heap}))

    def callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self.active.is_set():
            self.pauses.append((int(info["generation"]), time.perf_counter() - self._started))


def report_gc(path: str, seconds: float) -> str:
    data = json.loads(Path(path).read_text())
    pauses: list[tuple[int, float]] = data["pauses"]
    out = io.StringIO()
    out.write(f"garbage collections during {seconds:.1f} s of load (heap at start: {data['heap']}):\n")
    for generation in (0, 1, 2):
        times = sorted(t for g, t in pauses if g == generation)
        if times:
            out.write(f"  gen {generation}: {len(times):6d} collections, total {sum(times) * 1e3:8.1f} ms, "
                      f"max {times[-1] * 1e3:6.2f} ms, > 5 ms: {sum(t > 0.005 for t in times)}\n")
    return out.getvalue()


class Sampler:
    """A CPU-time sampler for every thread of the process.

    ``ITIMER_PROF`` fires every ``interval`` seconds of process CPU time; the handler (run by
    the main thread, uvicorn's event-loop thread) reads each thread's own CPU clock
    (``pthread_getcpuclockid``) and charges the CPU it used since the previous sample to that
    thread's current Python stack. So background threads (e.g. stsd's audit writer) are
    profiled too, and no thread is charged for another's time. Unlike a sampling thread it
    is not biased towards calls that release the GIL; time in C code is charged to the
    Python function that called it.
    """

    def __init__(self, interval: float = 0.001):
        self.interval = interval
        self.stacks: collections.Counter[tuple[Any, ...]] = collections.Counter()  # → CPU seconds
        self.last: dict[int, float] = {}
        self.main = threading.main_thread().ident

    def _sample(self, _signum: int, frame: FrameType | None) -> None:
        names = {t.ident: t.name for t in threading.enumerate()}
        for ident, top in sys._current_frames().items():
            try:
                cpu = time.clock_gettime(time.pthread_getcpuclockid(ident))
            except (OSError, ValueError, OverflowError):
                continue
            used = cpu - self.last.get(ident, cpu)
            self.last[ident] = cpu
            if used <= 0:
                continue
            current = frame if ident == self.main else top  # skip this handler's own frame
            stack: list[Any] = []
            while current is not None:
                stack.append(current.f_code)
                current = current.f_back
            label = "[main thread]" if ident == self.main else f"[thread {names.get(ident, ident)}]"
            self.stacks[(*stack, label)] += used

    def start(self) -> None:
        for ident in sys._current_frames():
            with contextlib.suppress(OSError, ValueError, OverflowError):
                self.last[ident] = time.clock_gettime(time.pthread_getcpuclockid(ident))
        signal.signal(signal.SIGPROF, self._sample)
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)

    def stop(self) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)

    def result(self) -> list[tuple[list[str], float]]:
        def name(code: Any) -> str:
            if isinstance(code, str):
                return code
            return f"{_short(code.co_filename)}:{code.co_firstlineno}({code.co_name})"

        return [([name(c) for c in reversed(stack)], seconds) for stack, seconds in self.stacks.items()]


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/src/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# --- the driver (parent) -----------------------------------------------------------------
def report_cprofile(path: str, requests: int, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(path, stream=out)
    stats.strip_dirs()
    total = stats.total_tt  # type: ignore[attr-defined]
    out.write(f"cProfile (CPU time): {total:.2f} s profiled, {requests} requests, "
              f"{total / max(1, requests) * 1e6:.0f} µs CPU/request (inflated by the profiler)\n")
    for key in ("tottime", "cumulative"):
        out.write(f"\n--- top {top} by {key} (µs/request = time / {requests}) ---\n")
        rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2 if key == "tottime" else 3],  # type: ignore[attr-defined]
                      reverse=True)[:top]
        for (filename, line, name), (_cc, calls, tt, ct, _callers) in rows:
            out.write(f"{tt / max(1, requests) * 1e6:8.1f} self {ct / max(1, requests) * 1e6:8.1f} cum µs/req "
                      f"{calls / max(1, requests):6.1f} calls/req  {filename}:{line}({name})\n")
    return out.getvalue()


def report_samples(path: str, requests: int, seconds: float, cpu: float, top: int) -> str:
    stacks: list[tuple[list[str], float]] = json.loads(Path(path).read_text())
    total = sum(n for _, n in stacks) or 1e-9
    inclusive: collections.Counter[str] = collections.Counter()
    exclusive: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    for stack, n in stacks:
        threads[stack[0]] += n
        exclusive[stack[-1]] += n
        for frame in set(stack[1:]):
            inclusive[frame] += n
    out = io.StringIO()
    per_req = cpu / max(1, requests) * 1e6
    out.write(f"sampling (per-thread CPU clocks, ~1 kHz): {total:.1f} CPU-s attributed over {seconds:.1f} s "
              f"of load, {requests} requests; ≈ µs/req = share × {per_req:.0f} µs CPU/request\n")
    out.write("\n--- CPU by thread ---\n")
    for thread, n in threads.most_common():
        out.write(f"{n / total:6.1%}  ≈{n / total * per_req:7.1f} µs/req  {thread}\n")
    for title, counter in (("self (leaf)", exclusive), ("inclusive", inclusive)):
        out.write(f"\n--- top {top} {title} ---\n")
        for frame, n in counter.most_common(top):
            out.write(f"{n / total:6.1%}  ≈{n / total * per_req:7.1f} µs/req  {frame}\n")
    out.write("\n--- who calls the 10 hottest leaves (self CPU by caller chain) ---\n")
    for leaf, n in exclusive.most_common(10):
        callers: collections.Counter[str] = collections.Counter()
        for stack, count in stacks:
            if stack[-1] == leaf:
                callers[" ← ".join(reversed(stack[-4:-1]))] += count
        out.write(f"{n / total:6.1%}  {leaf}\n")
        for chain, count in callers.most_common(3):
            out.write(f"           {count / total:6.1%}  ← {chain}\n")
    return out.getvalue()


def _wait_port(port: int) -> None:
    import socket

    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the baseline server did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="profile one stsd worker under load")
    parser.add_argument("--op", default="AssumeRole", choices=("AssumeRole", "GetCallerIdentity"))
    parser.add_argument("--mode", default="cprofile", choices=("cprofile", "sample", "baseline", "plain"),
                        help="baseline: a bare ASGI app under the same uvicorn options (no profiler); "
                             "plain: stsd without a profiler (CPU per request only)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="drive at this fixed rate (open loop, 64 connections) instead of --connections")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--gc-freeze", action="store_true",
                        help="experiment: gc.freeze() the server's heap when the load starts")
    parser.add_argument("--nice", type=int, default=-10, help="autogroup nice, as in bench/run.py (0: off)")
    parser.add_argument("--serve", nargs=3, metavar=("DATA_DIR", "PORT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve[2], args.mode)
        return 0

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bench.isolation import in_own_session, run_in_own_session, set_autogroup_nice

    if args.nice and not in_own_session():
        return run_in_own_session([str(Path(__file__).resolve()), *(argv if argv is not None else sys.argv[1:])])
    if args.nice:
        print(f"isolation: {set_autogroup_nice(args.nice) or 'autogroup nice could not be set'}")
    from bench import stats
    from bench.loadgen import Spec, run_loadgen
    from bench.procstat import cpu_seconds
    from bench.servers import ACCOUNT, HOST, pin
    from bench.signing import RESULT_MARKER, Keys, sign_pool
    from stsd.testing import StsdServer, free_port

    class _Handle:  # enough of servers.Target for create_bench_role
        name, host = "stsd", HOST

        def __init__(self, port: int):
            self.port = port
            self.endpoint_url = f"http://{HOST}:{port}"

    from bench.servers import create_bench_role

    with tempfile.TemporaryDirectory(prefix="stsd-profile-") as tmp:
        helper = StsdServer(data_dir=Path(tmp), accounts=(ACCOUNT,))
        creds = helper.init_account(ACCOUNT)
        keys = Keys(creds.access_key_id, creds.secret_access_key)
        port = free_port(HOST)
        out = str(Path(tmp) / "profile.out")
        server = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--mode", args.mode,
                                   "--serve", tmp, str(port), out], cwd=ROOT,
                                  env={**os.environ, "STSD_BENCH_GC_FREEZE": "1" if args.gc_freeze else "0"})
        try:
            helper.port, helper._process = port, server  # reuse its readiness probe
            baseline = args.mode == "baseline"
            if baseline:
                _wait_port(port)
            else:
                helper.wait_ready()
            cpus = sorted(os.sched_getaffinity(0))
            if len(cpus) >= 2:
                pin(server.pid, {cpus[0]})
                os.sched_setaffinity(0, {cpus[1]})
            operation = "GetCallerIdentity" if baseline else args.op
            role_arn = None if baseline else create_bench_role(_Handle(port), keys)  # type: ignore[arg-type]
            pool = sign_pool(keys, HOST, port, operation, 512, role_arn)
            spec = Spec(host=HOST, port=port, requests=[r.decode("latin-1") for r in pool.requests],
                        marker=RESULT_MARKER[operation].decode(), connections=args.connections,
                        duration=args.seconds, cpus=[cpus[1]] if len(cpus) >= 2 else None)
            if args.rate:
                spec.mode, spec.rate, spec.connections = "rate", args.rate, 64
            cpu0 = cpu_seconds(server.pid)
            server.send_signal(signal.SIGUSR1)
            result = run_loadgen(spec)
            server.send_signal(signal.SIGUSR2)
            cpu = cpu_seconds(server.pid) - cpu0
            print(f"{operation} under {args.mode}: {result.rps:.0f} req/s, statuses {result.statuses}, "
                  f"errors {result.errors}; server CPU {cpu:.1f} s "
                  f"({cpu / max(1, result.completed) * 1e6:.0f} µs CPU/request)")
            if args.rate:
                latency = stats.summarize_us(stats.unpack(result.latencies_us))
                print(f"open loop at {args.rate:.0f}/s: latency from scheduled send p50 {latency['p50']} ms, "
                      f"p99 {latency['p99']} ms, max {latency['max']} ms; from actual send p99 "
                      f"{result.service_ms.get('p99')} ms; generator send lag p99 {result.lag_ms.get('p99')} ms")
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        requests = result.completed
        if Path(out + ".gc.json").exists():
            print(report_gc(out + ".gc.json", result.elapsed))
        if args.mode == "cprofile":
            print(report_cprofile(out, requests, args.top))
        elif args.mode == "sample":
            print(report_samples(out, requests, result.elapsed, cpu, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
