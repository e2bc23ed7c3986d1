"""The audit writer process of an stsd under test, for the audit A/B scenario.

stsd builds and delivers audit records in a child process per server worker
(``python -m stsd.audit.worker``). ``pin()`` pins only the server's own threads, and the writer
is started before that, so it runs where the orchestrator that started stsd may run — the load
generator's core. Its work is real work of the audit trail: the scenario measures it and prints
it next to the on/off ratio (CPU seconds per 1,000 records, and which CPUs it may use).
"""

from __future__ import annotations

import re
import time
import urllib.request
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.procstat import cpu_seconds

_DELIVERED = re.compile(r'^stsd_audit_delivered_total\{sink="store"\} (\S+)$', re.M)


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(FileNotFoundError, ProcessLookupError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def writer_pids(server_pid: int) -> list[int]:
    """The audit writer processes among the server's children (and grandchildren: --workers N)."""
    out: list[int] = []
    for child in children(server_pid):
        with suppress(FileNotFoundError, ProcessLookupError):
            if b"stsd.audit.worker" in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(child)
                continue
        out += writer_pids(child)
    return out


def allowed_cpus(pid: int) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Cpus_allowed_list:"):
            return line.split(":", 1)[1].strip()
    return "?"


def delivered(endpoint_url: str) -> float:
    """Records the server reports delivered to its store (the writers' reports, on /metrics)."""
    with urllib.request.urlopen(f"{endpoint_url}/metrics", timeout=10) as response:
        found = _DELIVERED.search(response.read().decode())
    return float(found[1]) if found else 0.0


@dataclass
class Snapshot:
    cpu: float
    records: float

    @classmethod
    def take(cls, pids: list[int], endpoint_url: str) -> Snapshot:
        return cls(sum(cpu_seconds(p) for p in pids), delivered(endpoint_url))


def settle(endpoint_url: str, quiet: float = 2.5, timeout: float = 60.0) -> None:
    """Wait until the writers have delivered what the run sent (the count stops moving)."""
    deadline = time.monotonic() + timeout
    last, since = delivered(endpoint_url), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        time.sleep(0.25)
        now = delivered(endpoint_url)
        if now != last:
            last, since = now, time.monotonic()


def usage(pids: list[int], before: Snapshot, after: Snapshot, rps: float) -> dict[str, Any]:
    """Writer CPU over a run (from just before it until its records were delivered)."""
    records = after.records - before.records
    cpu = after.cpu - before.cpu
    per_record = cpu / records if records else None
    return {
        "pids": pids,
        "allowed_cpus": ",".join(sorted({allowed_cpus(p) for p in pids})) if pids else "?",
        "records": int(records),
        "cpu_seconds": cpu,
        "cpu_s_per_1k_records": per_record * 1000 if per_record is not None else None,
        "core_share_at_run_rate": per_record * rps if per_record is not None else None,
    }


def pooled(runs: list[dict[str, Any]], rps: float) -> dict[str, Any]:
    """The writer usage of several runs as one (CPU and records summed)."""
    pids = [pid for run in runs for pid in run.get("pids", [])]
    records = sum(run.get("records", 0) for run in runs)
    cpu = sum(run.get("cpu_seconds", 0.0) for run in runs)
    per_record = cpu / records if records else None
    return {
        "pids": pids,
        "allowed_cpus": ",".join(sorted({run.get("allowed_cpus", "?") for run in runs})),
        "records": int(records),
        "cpu_seconds": cpu,
        "cpu_s_per_1k_records": per_record * 1000 if per_record is not None else None,
        "core_share_at_run_rate": per_record * rps if per_record is not None else None,
    }


def describe(writer: dict[str, Any]) -> str:
    if not writer.get("pids"):
        return "no audit writer process found"
    per_1k, share = writer["cpu_s_per_1k_records"], writer["core_share_at_run_rate"]
    if per_1k is None:
        return f"audit writer pid(s) {writer['pids']}: no records delivered during the run"
    return (f"audit writer process {', '.join(map(str, writer['pids']))} (may run on CPU {writer['allowed_cpus']}): "
            f"{per_1k:.3f} CPU-s per 1,000 records ({writer['records']:,} records), "
            f"{share:.0%} of a core at the run's rate")
