"""uvicorn's httptools protocol with one change: a response goes out in one write.

uvicorn writes a response's status line and headers when the application sends
``http.response.start`` and the body on ``http.response.body``: two ``send()`` system calls
and two TCP segments for every STS answer. Writes made within one event-loop step are
gathered here and handed to the transport together at the end of that step, which halves
the per-response system calls without holding anything back (the flush is the very next
callback of the loop). It also hands the application what CloudTrail records of a TLS
connection (``tlsDetails.tlsVersion`` and ``cipherSuite``) in the scope's ``state`` under
:data:`TLS_SCOPE_KEY`, read once per connection. Everything else is uvicorn's own protocol, unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# (protocol version, cipher suite) as OpenSSL names them, e.g. ("TLSv1.3", "TLS_AES_128_GCM_SHA256"):
# the names CloudTrail writes. Absent for plain HTTP.
TLS_SCOPE_KEY = "stsd.tls"


def scope_tls(scope: dict[str, Any]) -> tuple[str, str] | None:
    """The (version, cipher suite) of the connection a request came on; None for plain HTTP."""
    state = scope.get("state")
    return state.get(TLS_SCOPE_KEY) if state else None


def tls_details(transport: asyncio.BaseTransport) -> tuple[str, str] | None:
    """The negotiated TLS version and cipher of a connection (the handshake is complete by the
    time the protocol sees the transport), or None for a plain connection."""
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    version, cipher = ssl_object.version(), ssl_object.cipher()
    if version is None or cipher is None:
        return None
    return version, cipher[0]


class CoalescingTransport:
    __slots__ = ("_loop", "_pending", "_transport", "get_extra_info", "is_closing", "pause_reading",
                 "resume_reading")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None
        # What uvicorn calls on every request, bound once (``__getattr__`` serves the rest).
        self.get_extra_info = transport.get_extra_info
        self.is_closing = transport.is_closing
        self.pause_reading = transport.pause_reading
        self.resume_reading = transport.resume_reading

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pending = self._pending
        if pending is None:
            self._pending = [bytes(data)]
            self._loop.call_soon(self.flush)
        else:
            pending.append(bytes(data))

    def flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()  # what was written before close() still goes out, as with the transport
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        tls = tls_details(transport)
        if tls is not None:
            # Every request's scope gets a copy of this connection's ``state`` (ASGI): the TLS
            # details ride along without a step per request, and plain HTTP pays nothing.
            self.app_state = {**self.app_state, TLS_SCOPE_KEY: tls}
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]


UVICORN_HTTP = f"{__name__}:{CoalescingHttpToolsProtocol.__name__}"  # uvicorn's ``http=`` setting
