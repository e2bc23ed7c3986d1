"""Targets (PASS/MISS, never adjusted to pass), the rich tables, and the JSON file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.audit_writer import describe as describe_writer
from bench.scenarios import Measurement, Plan
from bench.signing import ASSUME_ROLE, GET_CALLER_IDENTITY, OPERATIONS

MIB = 1024.0


@dataclass
class Verdict:
    name: str
    target: str
    measured: str
    passed: bool | None  # None: not measured
    valid: bool = True  # False: some responses were not 200 with the expected body

    @property
    def label(self) -> str:
        if self.passed is None:
            return "n/a"
        if not self.valid:
            return "INVALID"
        return "PASS" if self.passed else "MISS"

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "target": self.target, "measured": self.measured,
                "result": self.label}


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _change(first: float, last: float) -> float:
    return (last - first) / first if first else float("inf")


# The stsd-only A/B scenarios: (title, measured side, baseline, what the ratio means).
AB_TARGETS = {
    "region-mix": ("stsd AssumeRole over Regional + global endpoints vs bare /", "mix", "plain",
                   "Region checks cost ≤ 10 %"),
    "audit-ab": ("stsd AssumeRole with the audit trail on vs off", "audit-on", "audit-off",
                 "audit trail costs ≤ 10 %"),
}
AB_FLOOR = 0.90


def ab_verdict(plan: Plan, scenario: str, runs: dict[str, Measurement]) -> Verdict:
    title, side, baseline, meaning = AB_TARGETS[scenario]
    goal = f"{side}/{baseline} ≥ {AB_FLOOR:.2f} ({meaning})"
    if not runs:
        return Verdict(title, goal, "not run", None)
    a, b = runs.get(side), runs.get(baseline)
    if a is None or b is None:
        return Verdict(title, goal, "incomplete", None)
    ratio = _ratio(a.rps, b.rps)
    per_cpu = _ratio(a.rps_per_cpu, b.rps_per_cpu)
    measured = f"{_x(ratio)} ({a.rps:.0f} vs {b.rps:.0f} req/s); per server CPU-second {_x(per_cpu)}"
    if a.writer:  # audit on: the writer process works outside the server's pinned core
        measured += f"; {describe_writer(a.writer)}"
    return Verdict(f"{title} (c={plan.concurrency})", goal, measured,
                   ratio is not None and ratio >= AB_FLOOR, a.all_ok and b.all_ok)


def verdicts(plan: Plan, fixed: dict[tuple[str, str], Measurement],
             rate: dict[tuple[str, str], Measurement], soak: dict[str, Any] | None,
             region_mix: dict[str, Measurement] | None = None,
             audit_ab: dict[str, Measurement] | None = None) -> list[Verdict]:
    out: list[Verdict] = []
    if not plan.compare:
        out += [ab_verdict(plan, "region-mix", region_mix or {}), ab_verdict(plan, "audit-ab", audit_ab or {})]
        return out
    for operation, floor in ((ASSUME_ROLE, 15.0), (GET_CALLER_IDENTITY, 20.0)):
        s, m = fixed.get(("stsd", operation)), fixed.get(("moto", operation))
        if s is None or m is None:
            out.append(Verdict(f"{operation} req/s vs moto", f"≥ {floor:.0f}×", "not run", None))
            continue
        ratio = _ratio(s.rps, m.rps)
        per_cpu = _ratio(s.rps_per_cpu, m.rps_per_cpu)
        out.append(Verdict(
            f"{operation} req/s vs moto (c={plan.concurrency})", f"≥ {floor:.0f}×",
            f"{_x(ratio)} ({s.rps:.0f} vs {m.rps:.0f} req/s); per server CPU-second {_x(per_cpu)}",
            ratio is not None and ratio >= floor, s.all_ok and m.all_ok))
    for operation in (ASSUME_ROLE, GET_CALLER_IDENTITY):
        r = rate.get(("stsd", operation))
        if r is None:
            out.append(Verdict(f"stsd {operation} p99 at {plan.rate:.0f} req/s", "≤ 20 ms", "not run", None))
            continue
        p99 = r.latency_ms["p99"]
        out.append(Verdict(
            f"stsd {operation} p99 at {plan.rate:.0f} req/s (open loop)", "≤ 20 ms",
            f"{_ms(p99)} ms (achieved {r.rps:.0f} req/s)", p99 is not None and p99 <= 20.0, r.all_ok))
    windows = (soak or {}).get("windows") or []
    if len(windows) >= 2:
        first, last = windows[0], windows[-1]
        assert soak is not None
        size = f"first vs last {soak['window']:,} of {soak['total']:,}"
        complete = bool(soak and soak["complete"])
        d_rps = _change(first["rps"], last["rps"])
        d_rss = _change(first["rss_end_kib"], last["rss_end_kib"])
        raw = (f"{first['rps']:.0f} → {last['rps']:.0f} req/s ({d_rps:+.1%}); per CPU-s "
               f"{first['rps_per_cpu']:.0f} → {last['rps_per_cpu']:.0f} "
               f"({_change(first['rps_per_cpu'], last['rps_per_cpu']):+.1%})")
        if "relative" in first and "relative" in last:
            # The machine's drift moves the soaked server and the control alike; ageing only the first.
            d_rel = _change(first["relative"], last["relative"])
            out.append(Verdict(f"stsd AssumeRole soak throughput, {size}", "within ±10 % (relative to a "
                               "second stsd measured beside each chunk)",
                               f"{first['relative']:.3f} → {last['relative']:.3f} of the control ({d_rel:+.1%}); "
                               f"raw {raw}", complete and abs(d_rel) <= 0.10, bool(soak and soak["all_ok"])))
        else:
            out.append(Verdict(f"stsd AssumeRole soak throughput, {size}", "within ±10 %", raw,
                               complete and abs(d_rps) <= 0.10, bool(soak and soak["all_ok"])))
        out.append(Verdict(f"stsd AssumeRole soak RSS, {size}", "within ±10 %",
                           f"{first['rss_end_kib'] / MIB:.1f} → {last['rss_end_kib'] / MIB:.1f} MiB "
                           f"({d_rss:+.1%})", complete and abs(d_rss) <= 0.10,
                           bool(soak and soak["all_ok"])))
    else:
        out.append(Verdict("stsd AssumeRole soak throughput/RSS", "within ±10 %", "not run", None))
    out += [ab_verdict(plan, "region-mix", region_mix or {}), ab_verdict(plan, "audit-ab", audit_ab or {})]
    return out


def fixed_table(plan: Plan, fixed: dict[tuple[str, str], Measurement]) -> Table:
    table = Table(title=f"Fixed concurrency: {plan.concurrency} keep-alive connections, "
                        f"{plan.duration:.0f} s measured after {plan.warmup:.0f} s warm-up",
                  title_justify="left")
    for column in ("operation", "metric", "stsd", "moto", "stsd/moto"):
        table.add_column(column, justify="left" if column in ("operation", "metric") else "right")
    for operation in OPERATIONS:
        s, m = fixed.get(("stsd", operation)), fixed.get(("moto", operation))
        if s is None or m is None:
            continue
        rows: list[tuple[str, str, str, float | None]] = [
            ("requests/s", f"{s.rps:.1f}", f"{m.rps:.1f}", _ratio(s.rps, m.rps)),
            ("p50 latency ms", _ms(s.latency_ms["p50"]), _ms(m.latency_ms["p50"]),
             _ratio(s.latency_ms["p50"], m.latency_ms["p50"])),
            ("p99 latency ms", _ms(s.latency_ms["p99"]), _ms(m.latency_ms["p99"]),
             _ratio(s.latency_ms["p99"], m.latency_ms["p99"])),
            ("RSS before → after MiB", f"{s.rss_before_kib / MIB:.1f} → {s.rss_after_kib / MIB:.1f}",
             f"{m.rss_before_kib / MIB:.1f} → {m.rss_after_kib / MIB:.1f}",
             _ratio(s.rss_after_kib, m.rss_after_kib)),
            ("requests per server CPU-second", f"{s.rps_per_cpu:.0f}", f"{m.rps_per_cpu:.0f}",
             _ratio(s.rps_per_cpu, m.rps_per_cpu)),
            ("server CPU (1 core = 100 %)", f"{s.server_cpu:.0%}", f"{m.server_cpu:.0%}", None),
            ("other processes on server core", f"{s.foreign_cpu:.0%}", f"{m.foreign_cpu:.0%}", None),
            ("load generator CPU", f"{s.loadgen_cpu:.0%}", f"{m.loadgen_cpu:.0%}", None),
            ("responses", _statuses(s), _statuses(m), None),
        ]
        for i, (metric, a, b, ratio) in enumerate(rows):
            table.add_row(operation if i == 0 else "", metric, a, b, _x(ratio) if ratio is not None else "",
                          end_section=i == len(rows) - 1)
    return table


def _statuses(m: Measurement) -> str:
    text = ", ".join(f"{n} × {code}" for code, n in m.statuses.items())
    if m.errors:
        text += ", errors " + ", ".join(f"{n} × {name}" for name, n in m.errors.items())
    if m.bad_body:
        text += f", {m.bad_body} bad bodies"
    if m.unsent:
        text += f", {m.unsent} never sent"
    return text or "none"


def rate_table(plan: Plan, rate: dict[tuple[str, str], Measurement]) -> Table:
    table = Table(title=f"Fixed rate (open loop, latency from scheduled send time): {plan.rate:.0f} req/s "
                        f"for {plan.rate_duration:.0f} s after {plan.rate_warmup:.0f} s warm-up, "
                        f"up to {plan.rate_connections} connections", title_justify="left")
    for column in ("operation", "server", "achieved req/s", "p50 ms", "p99 ms", "max ms",
                   "send lag p99 ms", "p99 from send ms", "server CPU", "other on core", "responses"):
        table.add_column(column, justify="left" if column in ("operation", "server", "responses") else "right")
    for operation in OPERATIONS:
        for server in ("stsd", "moto"):
            r = rate.get((server, operation))
            if r is None:
                continue
            table.add_row(operation, server, f"{r.rps:.1f}", _ms(r.latency_ms["p50"]), _ms(r.latency_ms["p99"]),
                          _ms(r.latency_ms["max"]), _ms(r.lag_ms.get("p99")), _ms(r.service_ms.get("p99")),
                          f"{r.server_cpu:.0%}",
                          f"{r.foreign_cpu:.0%}", _statuses(r),
                          end_section=server == "moto")
    return table


def soak_table(soak: dict[str, Any]) -> Table:
    table = Table(title=f"Soak: stsd AssumeRole, {soak['completed_calls']} of {soak['total']} calls in "
                        f"{soak['seconds']:.0f} s, windows of {soak['window']} calls"
                        + ("" if soak["complete"] else " (INCOMPLETE: time budget spent)"),
                  title_justify="left")
    for column in ("window", "calls", "req/s", "p50 ms", "p99 ms", "RSS at end MiB", "server CPU",
                   "other on core", "req/CPU-s", "control req/s", "relative"):
        table.add_column(column, justify="left" if column == "window" else "right")
    for i, w in enumerate(soak["windows"]):
        table.add_row(f"#{i + 1}", str(w["calls"]), f"{w['rps']:.1f}", _ms(w["latency_ms"]["p50"]),
                      _ms(w["latency_ms"]["p99"]), f"{w['rss_end_kib'] / MIB:.1f}", f"{w['server_cpu']:.0%}",
                      f"{w['foreign_cpu']:.0%}", f"{w['rps_per_cpu']:.0f}",
                      f"{w['control_rps']:.1f}" if "control_rps" in w else "–",
                      f"{w['relative']:.3f}" if "relative" in w else "–")
    return table


def ab_json(scenario: str, runs: dict[str, Measurement]) -> dict[str, Any] | None:
    if not runs:
        return None
    _title, side, baseline, _meaning = AB_TARGETS[scenario]
    a, b = runs.get(side), runs.get(baseline)
    return {
        "ratio": f"{side}/{baseline}",
        "rps_ratio": _ratio(a.rps, b.rps) if a and b else None,
        "rps_per_cpu_ratio": _ratio(a.rps_per_cpu, b.rps_per_cpu) if a and b else None,
        "goal": AB_FLOOR,
        "runs": {variant: m.as_json() for variant, m in runs.items()},
    }


def ab_table(plan: Plan, scenario: str, runs: dict[str, Measurement]) -> Table:
    title, _side, baseline, _meaning = AB_TARGETS[scenario]
    how = "one after the other"
    if scenario == "audit-ab" and plan.ab_rounds > 1:
        how = (f"{plan.ab_rounds} rounds on fresh process pairs, order alternating, each side pooled "
               f"({plan.ab_rounds * plan.duration:.0f} s)")
    table = Table(title=f"{title}: {plan.concurrency} keep-alive connections, "
                        f"{plan.duration:.0f} s measured after {plan.warmup:.0f} s warm-up, {how}",
                  title_justify="left")
    for column in ("run", f"req/s (× {baseline})", "p50 ms", "p99 ms", "server CPU", "other on core",
                   f"req/CPU-s (× {baseline})", "RSS after MiB", "loadgen CPU", "responses"):
        table.add_column(column, justify="left" if column in ("run", "responses") else "right")
    base = runs.get(baseline)
    for variant, m in runs.items():
        table.add_row(variant,
                      f"{m.rps:.1f} ({_x(_ratio(m.rps, base.rps if base else None))})",
                      _ms(m.latency_ms["p50"]), _ms(m.latency_ms["p99"]), f"{m.server_cpu:.0%}",
                      f"{m.foreign_cpu:.0%}",
                      f"{m.rps_per_cpu:.0f} ({_x(_ratio(m.rps_per_cpu, base.rps_per_cpu if base else None))})",
                      f"{m.rss_after_kib / MIB:.1f}", f"{m.loadgen_cpu:.0%}", _statuses(m))
    writers = [f"{variant}: {describe_writer(m.writer)}" for variant, m in runs.items() if m.writer]
    if writers:
        table.caption = "; ".join(writers)
        table.caption_justify = "left"
    return table


def verdict_table(items: list[Verdict]) -> Table:
    table = Table(title="Targets (from the issue; measured honestly, never tuned)", title_justify="left")
    for column in ("target", "goal", "measured", "result"):
        table.add_column(column)
    styles = {"PASS": "bold green", "MISS": "bold red", "INVALID": "bold yellow", "n/a": "dim"}
    for v in items:
        table.add_row(v.name, v.target, v.measured, f"[{styles[v.label]}]{v.label}[/]")
    return table


def print_report(console: Console, plan: Plan, fixed: dict[tuple[str, str], Measurement],
                 rate: dict[tuple[str, str], Measurement], soak: dict[str, Any] | None,
                 items: list[Verdict], notes: list[str], region_mix: dict[str, Measurement] | None = None,
                 audit_ab: dict[str, Measurement] | None = None) -> None:
    console.print()
    for note in notes:
        console.print(f"[dim]{note}[/dim]")
    if fixed:
        console.print(fixed_table(plan, fixed))
    if rate:
        console.print(rate_table(plan, rate))
    if soak and soak["windows"]:
        console.print(soak_table(soak))
    if region_mix:
        console.print(ab_table(plan, "region-mix", region_mix))
    if audit_ab:
        console.print(ab_table(plan, "audit-ab", audit_ab))
    console.print(verdict_table(items))


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
