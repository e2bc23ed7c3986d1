"""The audit A/B pools several runs per side: responses and seconds add up, capacity per CPU
second is pooled from each run's CPU time, latency percentiles come from all samples, and the
audit writer's CPU per 1,000 records from all its records."""

from __future__ import annotations

import sys
from array import array
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scenarios import Measurement, pool_runs  # noqa: E402


def run(ok: int, elapsed: float, cpu_seconds: float, latencies_us: list[int], rss: int,
        writer: dict | None = None) -> Measurement:
    return Measurement(
        server="stsd-audit-on", operation="AssumeRole", mode="concurrency", connections=32, rate=None, ok=ok,
        statuses={"200": ok}, errors={}, bad_body=0, unsent=0, rps=ok / elapsed, elapsed=elapsed,
        latency_ms={}, lag_ms={}, service_ms={}, rss_before_kib=rss, rss_after_kib=rss + 10, rss_peak_kib=rss + 20,
        server_cpu=cpu_seconds / elapsed, core_busy=1.0, foreign_cpu=0.0, rps_per_cpu=ok / cpu_seconds,
        loadgen_cpu=0.1, all_ok=True, variant="audit-on", latencies=array("I", latencies_us), writer=writer or {},
    )


def test_two_runs_pool_into_one() -> None:
    first = run(60_000, 10.0, 9.0, [1000] * 99 + [9000], 100, {"pids": [1], "allowed_cpus": "1", "records": 60_000,
                                                               "cpu_seconds": 3.0})
    second = run(40_000, 10.0, 10.0, [2000] * 100, 200, {"pids": [2], "allowed_cpus": "1", "records": 40_000,
                                                         "cpu_seconds": 3.0})
    pooled = pool_runs([first, second])
    assert (pooled.ok, pooled.elapsed, pooled.rps) == (100_000, 20.0, 5_000.0)
    assert pooled.rps_per_cpu == 100_000 / 19.0
    assert pooled.server_cpu == 0.95
    assert pooled.statuses == {"200": 100_000}
    assert (pooled.rss_before_kib, pooled.rss_after_kib, pooled.rss_peak_kib) == (100, 210, 220)
    # 200 samples: 99 of 1 ms and one of 9 ms, then 100 of 2 ms: the median is 2 ms, the maximum 9 ms.
    assert pooled.latency_ms["p50"] == 2.0 and pooled.latency_ms["max"] == 9.0
    assert pooled.writer["records"] == 100_000 and pooled.writer["pids"] == [1, 2]
    assert pooled.writer["cpu_s_per_1k_records"] == pytest.approx(0.06)
    assert pooled.writer["core_share_at_run_rate"] == pytest.approx(0.3)  # 60 µs per record at 5,000 req/s


def test_one_run_is_itself() -> None:
    only = run(10, 1.0, 1.0, [5], 1)
    assert pool_runs([only]) is only


def test_interleaved_runs_alternate_share_the_duration_and_pool() -> None:
    from bench.scenarios import Bench, Pinning, Plan

    logged: list[str] = []
    bench = Bench(Plan(duration=15.0, interleave_rounds=3), Pinning(None, None), logged.append)
    calls: list[tuple[str, float]] = []

    def side(name: str, ok: int):
        def measure(seconds: float) -> Measurement:
            calls.append((name, seconds))
            return run(ok, seconds, seconds, [1000], 100)
        return measure

    pooled = bench.interleaved({"stsd": side("stsd", 30_000), "moto": side("moto", 2_000)})
    assert calls == [("stsd", 5.0), ("moto", 5.0), ("moto", 5.0), ("stsd", 5.0), ("stsd", 5.0), ("moto", 5.0)]
    assert logged == ["  round 1 of 3: stsd then moto", "  round 2 of 3: moto then stsd",
                      "  round 3 of 3: stsd then moto"]
    assert (pooled["stsd"].ok, pooled["stsd"].elapsed) == (90_000, 15.0)
    assert pooled["moto"].rps == 400.0


def test_short_runs_are_not_split_below_five_seconds() -> None:
    from bench.scenarios import Bench, Pinning, Plan

    bench = Bench(Plan(duration=3.0, interleave_rounds=3), Pinning(None, None), lambda _: None)
    seconds: list[float] = []
    bench.interleaved({"a": lambda s: seconds.append(s) or run(10, s, s, [1], 1)})
    assert seconds == [3.0, 3.0, 3.0]


def _soak_chunk(ok: int, elapsed: float, control_rps: float | None) -> Measurement:
    chunk = run(ok, elapsed, elapsed, [1000], 100_000)
    chunk.control_rps = control_rps
    return chunk


def test_a_soak_window_is_also_given_relative_to_its_control() -> None:
    from bench.scenarios import Bench

    window = Bench._window([_soak_chunk(30_000, 5.0, 7_500.0), _soak_chunk(20_000, 5.0, 5_000.0)])
    assert window["rps"] == 5_000.0
    assert window["control_rps"] == 6_250.0
    assert window["relative"] == 0.8  # each chunk ran at 0.8 of the control measured after it
    assert "relative" not in Bench._window([_soak_chunk(10, 1.0, None)])


def test_the_soak_verdict_is_judged_relative_to_the_control() -> None:
    from bench.report import verdicts
    from bench.scenarios import Plan

    def window(rps: float, relative: float) -> dict:
        return {"rps": rps, "rps_per_cpu": rps, "rss_end_kib": 100_000, "relative": relative}

    # The machine got 20 % faster during the soak; relative to the control the server stayed flat.
    soak = {"window": 100_000, "total": 500_000, "complete": True, "all_ok": True,
            "windows": [window(6_000.0, 0.80), window(7_200.0, 0.82)]}
    found = {v.name: v for v in verdicts(Plan(), {}, {}, soak)}
    throughput = found["stsd AssumeRole soak throughput, first vs last 100,000 of 500,000"]
    assert throughput.passed is True
    assert throughput.measured.startswith("0.800 → 0.820 of the control (+2.5%); raw 6000 → 7200 req/s (+20.0%)")
    soak["windows"][1] = window(7_200.0, 0.70)
    found = {v.name: v for v in verdicts(Plan(), {}, {}, soak)}
    assert found["stsd AssumeRole soak throughput, first vs last 100,000 of 500,000"].passed is False
