"""Process and core accounting from /proc: RSS, CPU time, per-core busy ticks."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """Resident set size (VmRSS) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """user + system CPU time of a process (all its threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def core_ticks(cpus: list[int]) -> tuple[int, int]:
    """(busy, total) jiffies summed over ``cpus`` since boot."""
    busy = total = 0
    wanted = {f"cpu{c}" for c in cpus}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name in wanted:
            numbers = [int(v) for v in values[:8]]  # user nice system idle iowait irq softirq steal
            total += sum(numbers)
            busy += sum(numbers) - numbers[3] - numbers[4]
    return busy, total


@dataclass(frozen=True)
class Snapshot:
    wall: float
    cpu: float  # the process's CPU seconds
    core_busy: int
    core_total: int

    @classmethod
    def take(cls, pid: int, cpus: list[int]) -> Snapshot:
        busy, total = core_ticks(cpus) if cpus else (0, 0)
        return cls(time.perf_counter(), cpu_seconds(pid), busy, total)


def usage(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """Between two snapshots: the process's CPU seconds and share of one core, the cores'
    busy share, and the share of those cores that went to *other* processes."""
    wall = max(1e-9, after.wall - before.wall)
    cpu = after.cpu - before.cpu
    ticks = after.core_total - before.core_total
    busy = (after.core_busy - before.core_busy) / ticks if ticks else 0.0
    ncores = max(1, round(ticks / (wall * CLK_TCK))) if ticks else 1
    share = cpu / wall
    return {"cpu_seconds": cpu, "wall_seconds": wall, "cpu_share": share, "core_busy": busy,
            "foreign_share": max(0.0, busy - share / ncores)}
