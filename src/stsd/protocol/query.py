"""AWS Query protocol request parsing: form-encoded POST bodies and GET query strings.

Observed STS behaviour that this reproduces: the first occurrence of a duplicated parameter
wins, unknown parameters are ignored (the action's declaration simply never reads them).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

MAX_BODY_BYTES = 10_000_000  # AWS accepts exactly 10,000,000 bytes and answers 413 above


def parse_pairs(raw: bytes | str) -> list[tuple[str, str]]:
    """Decode ``a=b&c=d`` into ordered pairs. Invalid UTF-8 is replaced, never raised."""
    if isinstance(raw, bytes):
        raw = raw.decode("latin-1")  # percent-decoding below works on the ASCII form
    if not raw:
        return []
    return parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="replace")


def first_wins(*sources: list[tuple[str, str]]) -> dict[str, str]:
    """Merge pair lists; the first occurrence of every name wins, across and within sources."""
    params: dict[str, str] = {}
    for pairs in sources:
        for name, value in pairs:
            params.setdefault(name, value)
    return params


def is_form_content_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "application/x-www-form-urlencoded"
