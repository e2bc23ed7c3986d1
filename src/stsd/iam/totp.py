"""RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30-second steps) as IAM virtual MFA devices use it."""

from __future__ import annotations

import hashlib
import hmac
import struct

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # accept one step either side, for clock drift between phone and server


def code_at(seed: bytes, step: int) -> str:
    digest = hmac.new(seed, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**DIGITS:0{DIGITS}d}"


def matching_step(seed: bytes, code: str, now: float) -> int | None:
    """The time-step whose code equals ``code`` (constant-time compare), or None."""
    current = int(now) // STEP_SECONDS
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(code_at(seed, step), code):
            found = step
    return found
