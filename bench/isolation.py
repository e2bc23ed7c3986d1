"""Shielding the benchmark from unrelated load on a shared host.

With ``CONFIG_SCHED_AUTOGROUP`` (on here: /proc/sys/kernel/sched_autogroup_enabled), the
scheduler shares CPU fairly between *sessions* first, so a per-process ``nice`` does nothing
against other sessions' work. ``run_in_own_session`` re-runs the benchmark as the leader of
a new session (a new autogroup that every server and load-generator process inherits) and
gives that autogroup a higher weight. Only the benchmark's own processes are touched; the
same priority applies to stsd, moto_server and the generator alike.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ENV_FLAG = "STSD_BENCH_SESSION"
AUTOGROUP = Path("/proc/self/autogroup")


def in_own_session() -> bool:
    return os.environ.get(ENV_FLAG) == "1"


def run_in_own_session(argv: list[str]) -> int:
    """Run ``argv`` (a Python script and its arguments) as a new session; return its exit code."""
    process = subprocess.Popen([sys.executable, *argv], env={**os.environ, ENV_FLAG: "1"},
                               start_new_session=True)
    try:
        return process.wait()
    except KeyboardInterrupt:  # the child is in another session: pass the interrupt on
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


def set_autogroup_nice(nice: int) -> str | None:
    """Give this session's autogroup ``nice``; returns a description, None if not possible."""
    try:
        AUTOGROUP.write_text(f"{nice}\n")
        return AUTOGROUP.read_text().strip()
    except OSError:
        return None


def exit_cleanly_on_sigterm() -> None:
    """SIGTERM raises SystemExit, so ``finally`` blocks stop the servers."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
