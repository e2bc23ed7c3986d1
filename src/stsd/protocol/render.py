"""Query-protocol responses: the XML AWS sends (live element order, two-space indentation,
trailing newline) and the JSON rendering selected by ``Accept: application/json``.

A result is an ordered list of ``(name, value)`` pairs. Values are ``str``, ``int``,
``bool``, ``datetime`` (UTC), a nested list of pairs, or :class:`Members` for IAM-style
``<member>`` lists. ``None`` values are skipped, so optional elements are simply left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

import orjson

from stsd.errors import AwsError

Node = tuple[str, Any]
_NEEDS_ESCAPE = re.compile("[&<>]")


@dataclass(frozen=True, slots=True)
class Members:
    """A list rendered as ``<member>`` children (each item a str or a list of pairs)."""

    items: Sequence[Any]


def iso8601(moment: datetime) -> str:
    """``2026-11-23T18:47:27Z``: whole seconds, UTC (isoformat is C; strftime is slow)."""
    return _iso8601_utc(moment if moment.tzinfo is UTC else moment.astimezone(UTC))


@lru_cache(maxsize=1024)  # the same few instants (now, now + duration) within each second
def _iso8601_utc(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")[:19] + "Z"


def java_double(seconds: float) -> str:
    """Java ``Double.toString`` of epoch seconds as STS's JSON writes it: ``1.514869445E9``."""
    if seconds == 0:
        return "0.0"
    digits = f"{seconds:.15e}"  # d.ddddddddddddddde+XX
    mantissa, exponent = digits.split("e")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    exp = int(exponent)
    if -3 <= exp < 7:  # Java prints plain decimals in this range
        return repr(float(seconds))
    return f"{mantissa}E{exp}"


# --- XML --------------------------------------------------------------------------------


def _scalar_text(value: Any) -> str:
    if type(value) is str:  # the common case: no escaping needed for most values
        return escape(value) if _NEEDS_ESCAPE.search(value) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso8601(value)
    return escape(str(value))


def _xml_nodes(nodes: Sequence[Node], depth: int, out: list[str]) -> None:
    pad = "  " * depth
    for name, value in nodes:
        kind = type(value)
        if kind is str:  # most elements: checked first, escaped only when needed
            if "&" in value or "<" in value or ">" in value:
                value = escape(value)
            out.append(f"{pad}<{name}>{value}</{name}>\n")
        elif value is None:
            continue
        elif kind is Members:
            if not value.items:
                out.append(f"{pad}<{name}/>\n")
                continue
            out.append(f"{pad}<{name}>\n")
            _xml_nodes([("member", item) for item in value.items], depth + 1, out)
            out.append(f"{pad}</{name}>\n")
        elif isinstance(value, list):
            out.append(f"{pad}<{name}>\n")
            _xml_nodes(value, depth + 1, out)
            out.append(f"{pad}</{name}>\n")
        else:
            out.append(f"{pad}<{name}>{_scalar_text(value)}</{name}>\n")


def render_xml(action: str, namespace: str, result: Sequence[Node] | None, request_id: str) -> bytes:
    out = [f'<{action}Response xmlns="{namespace}">\n']
    if result is not None and not result:
        out.append(f"  <{action}Result/>\n")
    elif result is not None:
        out.append(f"  <{action}Result>\n")
        _xml_nodes(result, 2, out)
        out.append(f"  </{action}Result>\n")
    out.append(f"  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n")
    out.append(f"</{action}Response>\n")
    return "".join(out).encode()


def render_error_xml(error: AwsError, namespace: str, request_id: str) -> bytes:
    message = "" if error.message is None else f"    <Message>{escape(error.message)}</Message>\n"
    return (
        f'<ErrorResponse xmlns="{error.namespace or namespace}">\n'
        f"  <Error>\n"
        f"    <Type>{error.spec.fault}</Type>\n"
        f"    <Code>{error.code}</Code>\n"
        f"{message}"
        f"  </Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n"
        f"</ErrorResponse>\n"
    ).encode()


# --- JSON -------------------------------------------------------------------------------


def _json_value(value: Any) -> str:
    if isinstance(value, Members):
        return "[" + ",".join(_json_value(item) for item in value.items) + "]"
    if isinstance(value, list):
        return _json_object(value)
    if isinstance(value, datetime):
        return java_double(value.timestamp())
    return orjson.dumps(value).decode("utf-8")


def _json_object(nodes: Sequence[Node]) -> str:
    parts = [
        f"{orjson.dumps(name).decode()}:{_json_value(value)}" for name, value in nodes if value is not None
    ]
    return "{" + ",".join(parts) + "}"


def render_json(action: str, result: Sequence[Node] | None, request_id: str) -> bytes:
    body: list[Node] = []
    if result is not None:
        body.append((f"{action}Result", list(result)))
    body.append(("ResponseMetadata", [("RequestId", request_id)]))
    return _json_object([(f"{action}Response", body)]).encode("utf-8")


def render_error_json(error: AwsError, request_id: str) -> bytes:
    # No live sample of STS's JSON error body exists; mirror the XML tree as the success
    # rendering does, which is what consumers that grep for the code (e.g. "Throttling") need.
    fields: list[Node] = [("Type", error.spec.fault), ("Code", error.code)]
    if error.message is not None:
        fields.append(("Message", error.message))
    return _json_object([("ErrorResponse", [("Error", fields), ("RequestId", request_id)])]).encode()


def wants_json(accept: str | None) -> bool:
    return bool(accept) and "application/json" in accept.lower()
