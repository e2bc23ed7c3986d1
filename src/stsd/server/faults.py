"""Simulated Region failures, for exercising clients' failover against a real server.

Modes (set with ``stsd regions fail`` or the admin API, shared by all workers):
- ``down``: the Region does not answer — the request is held, then the connection is dropped
  without a response (clients see a timeout or a broken connection);
- ``slow``: answers after ``delay_ms`` (default 2 s);
- ``error5xx``: 503 ServiceUnavailable;
- ``throttle``: 400 Throttling "Rate exceeded".
"""

from __future__ import annotations

from typing import Any

import anyio

from stsd.errors import MSG_RATE_EXCEEDED, ServiceUnavailable, Throttling

MODES = ("down", "slow", "error5xx", "throttle")
DEFAULT_SLOW_MS = 2000
DEFAULT_DOWN_MS = 30000
MSG_UNAVAILABLE = "Service is unavailable. Please try again later."


DISCONNECT_WAIT_SECONDS = 300  # bound on how long a "down" request may hold a connection


class DropConnection(Exception):
    """Raised when a request must go unanswered."""


async def wait_for_disconnect(receive: Any) -> None:
    with anyio.move_on_after(DISCONNECT_WAIT_SECONDS):
        while (await receive())["type"] != "http.disconnect":
            pass


async def apply(fault: tuple[str, int] | None) -> None:
    if fault is None:
        return
    mode, delay_ms = fault
    if mode == "slow":
        await anyio.sleep((delay_ms or DEFAULT_SLOW_MS) / 1000)
    elif mode == "down":
        await anyio.sleep((delay_ms or DEFAULT_DOWN_MS) / 1000)
        raise DropConnection
    elif mode == "error5xx":
        raise ServiceUnavailable(MSG_UNAVAILABLE)
    elif mode == "throttle":
        raise Throttling(MSG_RATE_EXCEEDED)
