"""Latency percentiles over integer microsecond samples."""

from __future__ import annotations

import base64
import math
from array import array
from collections.abc import Iterable


def pack(samples: array) -> str:
    return base64.b64encode(samples.tobytes()).decode("ascii")


def unpack(text: str) -> array:
    out = array("I")
    out.frombytes(base64.b64decode(text))
    return out


def merge(parts: Iterable[array]) -> array:
    out = array("I")
    for part in parts:
        out.extend(part)
    return out


def percentile(sorted_samples: list[int] | array, q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of already sorted samples, None when empty."""
    n = len(sorted_samples)
    if n == 0:
        return None
    rank = min(n, max(1, math.ceil(q * n / 100 - 1e-9)))
    return float(sorted_samples[rank - 1])


def summarize_us(samples: array) -> dict[str, float | None]:
    """p50/p90/p99/p99.9/max in milliseconds."""
    ordered = sorted(samples)
    ms = {f"p{label}": percentile(ordered, q) for label, q in
          (("50", 50), ("90", 90), ("99", 99), ("999", 99.9))}
    ms["max"] = float(ordered[-1]) if ordered else None
    return {key: (None if value is None else value / 1000.0) for key, value in ms.items()}
