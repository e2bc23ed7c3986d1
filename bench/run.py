"""stsd vs moto_server, side by side in one run on loopback (``make bench``).

    .venv/bin/python bench/run.py             # full run: 15 s runs, 500 req/s for 30 s, 500k soak
    .venv/bin/python bench/run.py --quick     # ~1–2 minutes, small counts of everything
    .venv/bin/python bench/run.py --soak 0    # skip the soak
    .venv/bin/python bench/run.py --only region-mix,audit-ab   # just the stsd-only A/B scenarios

Starts stsd (``--workers 1``, strict SigV4) and moto_server, creates the same IAM role on
both, verifies a signed GetCallerIdentity and AssumeRole against each, then measures one
server at a time with a separate, pinned load-generator process replaying pre-signed
requests. Then two stsd-only A/B scenarios, each on fresh stsd processes: AssumeRole over a
mix of Regional and global path-prefix endpoints vs the bare endpoint (``--no-region-mix``),
and AssumeRole with the audit trail on vs off (``--no-audit-ab``). Prints the tables and
writes ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "latest.json"
SECTIONS = ("compare", "region-mix", "audit-ab")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small counts of everything (~1–2 min)")
    parser.add_argument("--soak", type=int, default=None,
                        help="AssumeRole calls in the soak (default 500000, --quick 20000; 0 skips it)")
    parser.add_argument("--soak-timeout", type=float, default=None, help="seconds allowed for the soak")
    parser.add_argument("--duration", type=float, default=None, help="measured seconds per fixed-concurrency run")
    parser.add_argument("--concurrency", type=int, default=None, help="connections for fixed-concurrency runs")
    parser.add_argument("--rate", type=float, default=None, help="requests/s for the fixed-rate runs")
    parser.add_argument("--rate-duration", type=float, default=None, help="seconds per fixed-rate run")
    parser.add_argument("--nice", type=int, default=-10,
                        help="run the benchmark as its own session whose scheduler autogroup gets this "
                             "nice (default -10: shields both servers and the generator alike from "
                             "unrelated load on a shared host; 0 disables)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run, of {', '.join(SECTIONS)} (default: all; "
                             "compare = stsd vs moto incl. the soak)")
    parser.add_argument("--no-region-mix", action="store_true",
                        help="skip the Regional/global endpoint mix vs bare endpoint scenario")
    parser.add_argument("--no-audit-ab", action="store_true", help="skip the audit trail on vs off scenario")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    args = parser.parse_args(argv)
    args.sections = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = args.sections - set(SECTIONS)
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    if args.no_region_mix:
        args.sections.discard("region-mix")
    if args.no_audit_ab:
        args.sections.discard("audit-ab")
    return args


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: list[str] | None = None) -> int:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from rich.console import Console

    from bench import report
    from bench.isolation import exit_cleanly_on_sigterm, in_own_session, run_in_own_session, set_autogroup_nice
    from bench.procstat import rss_kib
    from bench.scenarios import Bench, Measurement, Pinning, Plan
    from bench.servers import MotoTarget, StsdTarget, create_bench_role, versions
    from bench.signing import OPERATIONS, REGION_MIX

    args = parse_args(argv)
    soak = args.soak if args.soak is not None else (20_000 if args.quick else 500_000)
    plan = Plan.quick_plan(soak) if args.quick else Plan(soak=soak)
    for name in ("duration", "concurrency", "rate", "rate_duration", "soak_timeout"):
        if getattr(args, name) is not None:
            setattr(plan, name, getattr(args, name))
    plan.compare = "compare" in args.sections
    plan.region_mix = "region-mix" in args.sections
    plan.audit_ab = "audit-ab" in args.sections

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)

    def log(message: str) -> None:
        console.print(message, markup=False)

    isolation = "none (--nice 0)"
    if args.nice:
        if not in_own_session():
            return run_in_own_session([str(Path(__file__).resolve()), *(argv if argv is not None else sys.argv[1:])])
        group = set_autogroup_nice(args.nice)
        isolation = (f"own session, scheduler {group}" if group else
                     "own session, but the autogroup nice could not be set")
    exit_cleanly_on_sigterm()
    pinning = Pinning.detect()
    if pinning.loadgen is not None:
        os.sched_setaffinity(0, pinning.loadgen)  # the orchestrator mostly sleeps, beside the generator
    notes = [
        f"host: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average at start "
        f"{_loadavg()}; {pinning.describe()}",
        f"isolation from other sessions' load: {isolation} (the same for both servers and the generator)",
        "stsd: `stsd serve --workers 1` with the per-account request quota off (strict SigV4, SQLite store, "
        "uvicorn+uvloop+httptools); "
        "moto: `moto_server` defaults (werkzeug, threaded, request logging to a file)",
        f"requests: POST / form bodies pre-signed with botocore SigV4Auth (same credentials, same "
        f"bodies for both servers), pools of {plan.pool_size} replayed over keep-alive connections, "
        f"re-signed for every run/soak chunk",
    ]
    if plan.region_mix:
        notes.append("Region mix: AssumeRole on a fresh stsd (`--topology` mapping 127.0.1.0/24 to eu-north-1), "
                     "round-robin over " + ", ".join(f"{path} ({region})" for path, region in REGION_MIX)
                     + " vs all at / (us-east-1); global-mapped: /global/ from source 127.0.1.1")
    if plan.audit_ab:
        notes.append(f"audit A/B: AssumeRole on fresh stsd processes, the default (audit trail on) and "
                     f"STSD_AUDIT=0, same settings; {plan.ab_rounds} round(s), each a fresh pair measured one after "
                     "the other, the order alternating, each side's runs pooled; with the audit trail on, the "
                     "records are built and delivered by a writer process that is not pinned with the server "
                     "(its CPU per 1,000 records is shown with the ratio)")
    started = time.time()
    stsd, moto = StsdTarget(), MotoTarget()
    fixed: dict[tuple[str, str], Measurement] = {}
    rate: dict[tuple[str, str], Measurement] = {}
    soak_result: dict[str, Any] | None = None
    region_mix: dict[str, Measurement] = {}
    audit_ab: dict[str, Measurement] = {}
    verified: dict[str, str] = {}
    ceiling: dict[str, Any] | None = None
    idle_rss: dict[str, int] = {}
    final_rss: dict[str, int] = {}
    payload: dict[str, Any] = {}
    bench = Bench(plan, pinning, log)
    try:
        if plan.compare:
            log("starting stsd (1 worker, strict) and moto_server on 127.0.0.1 …")
            stsd.start()
            moto.start()
            bench.keys.update({stsd.name: stsd.admin_keys, moto.name: stsd.admin_keys})  # moto accepts any
            for target in (stsd, moto):
                bench.pin_server(target)
                bench.role_arn[target.name] = create_bench_role(target, stsd.admin_keys)
            log("verifying a signed request of each kind against each server …")
            for target in (stsd, moto):
                for operation in OPERATIONS:
                    verified[f"{target.name} {operation}"] = detail = bench.verify(target, operation)
                    log(f"  {target.name:4} {operation:17} 200 OK  {detail}")
            log("load generator ceiling (a static keep-alive server on the server core) …")
            ceiling = bench.ceiling()
            notes.append(f"load generator ceiling: {ceiling['rps']:.0f} req/s against a static server "
                         f"(generator CPU {ceiling['loadgen_cpu']:.0%})")
            idle_rss = {t.name: rss_kib(t.pid) for t in (stsd, moto)}
            log(f"fixed concurrency ({plan.concurrency} connections, {plan.duration:.0f} s per server in "
                f"{plan.interleave_rounds} alternating round(s), each after {plan.warmup:.0f} s warm-up), "
                "one server at a time …")
            for operation in OPERATIONS:
                pooled = bench.interleaved({
                    target.name: (lambda seconds, target=target, operation=operation:
                                  bench.fixed_concurrency(target, operation, duration=seconds))
                    for target in (stsd, moto)})
                for target in (stsd, moto):
                    fixed[(target.name, operation)] = pooled[target.name]
            log(f"fixed rate ({plan.rate:.0f} req/s open loop for {plan.rate_duration:.0f} s) …")
            for operation in OPERATIONS:
                for target in (stsd, moto):
                    rate[(target.name, operation)] = bench.fixed_rate(target, operation)
            if plan.soak > 0:
                log(f"soak ({plan.soak} AssumeRole calls against stsd, budget {plan.soak_timeout:.0f} s) …")
                control = StsdTarget("stsd-control")
                try:
                    bench.start_stsd(control)
                    soak_result = bench.soak(stsd, control)
                finally:
                    control.stop()
            final_rss = {t.name: rss_kib(t.pid) for t in (stsd, moto)}
        if plan.region_mix:
            log(f"Region mix: AssumeRole at / vs over {len(REGION_MIX)} Regional/global endpoints (c="
                f"{plan.concurrency}, {plan.duration:.0f} s after {plan.warmup:.0f} s warm-up), fresh stsd …")
            region_mix = bench.region_mix()
        if plan.audit_ab:
            log(f"audit A/B: AssumeRole with the audit trail on vs off (c={plan.concurrency}, "
                f"{plan.duration:.0f} s after {plan.warmup:.0f} s warm-up), two fresh stsd processes …")
            audit_ab = bench.audit_ab()
        items = report.verdicts(plan, fixed, rate, soak_result, region_mix, audit_ab)
        payload = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "seconds": time.time() - started,
            "versions": versions(),
            "notes": notes,
            "plan": vars(plan),
            "pinning": {"server_cpus": sorted(pinning.server or []), "loadgen_cpus": sorted(pinning.loadgen or []),
                        "isolation": isolation},
            "loadavg_end": _loadavg(),
            "verified": verified,
            "loadgen_ceiling": ceiling,
            "rss_kib": {"idle": idle_rss, "final": final_rss},
            "fixed_concurrency": [m.as_json() for m in fixed.values()],
            "fixed_rate": [m.as_json() for m in rate.values()],
            "soak": soak_result,
            "region_mix": report.ab_json("region-mix", region_mix),
            "audit_ab": report.ab_json("audit-ab", audit_ab),
            "targets": [v.as_json() for v in items],
        }
    finally:
        moto.stop()
        stsd.stop()
    report.print_report(console, plan, fixed, rate, soak_result, items, notes, region_mix, audit_ab)
    report.write_json(args.output, payload)
    console.print(f"results: {args.output}  ({time.time() - started:.0f} s)")
    return 0



if __name__ == "__main__":
    sys.exit(main())
