"""uvicorn's httptools protocol, with Query API calls answered in the protocol callback and
every response written in one piece at the end of the loop step.

Fast path: a Query API request whose body has fully arrived is handed to the pipeline's
synchronous entry point (:meth:`QueryPipeline.respond_now`) as soon as the parser completes
it. That skips what uvicorn spends on every request around the application (an asyncio task,
an Event, the ASGI receive and send messages, header re-validation). Everything the fast path
does not cover goes to uvicorn's machinery unchanged: server paths (/health, /admin, ...),
calls the pipeline must await (a simulated Region fault, an action that touches the
database), bodies over :data:`FAST_BODY_LIMIT`, ``Expect: 100-continue``, upgrades, a request
pipelined behind one still in progress, a client that is not reading its answers, and any
app that is not stsd's own.

Two changes to uvicorn's connection handling come with it: one keep-alive timer per
connection (re-armed from the idle time) instead of one per response, and reading stays
paused while pipelined requests are queued (uvicorn resumed it after every answer, so a
client pipelining without reading could grow the queue without bound).

One write per response: uvicorn writes a response's status line and headers when the
application sends ``http.response.start`` and the body on ``http.response.body``: two
``send()`` system calls and two TCP segments for every STS answer. Writes made within one
event-loop step are gathered here and handed to the transport together at the end of that
step, which halves the per-response system calls without holding anything back (the flush
is the very next callback of the loop); the answers to all the connections served in one
step leave back to back, so the client is woken once for them. It also hands the
application what CloudTrail records of a TLS connection (``tlsDetails.tlsVersion`` and
``cipherSuite``) in the scope's ``state`` under :data:`TLS_SCOPE_KEY`, read once per
connection.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

log = logging.getLogger("stsd")

# Bodies up to this size are collected by the fast path; a larger one goes to uvicorn's flow
# control (Query API calls are a few hundred bytes to a few KB; AWS allows up to 10 MB).
FAST_BODY_LIMIT = 64 * 1024
# Answers gathered for one connection within one loop step, past which its next request goes to
# uvicorn's cycle (which waits for the socket and pauses reading): uvicorn's own high-water mark.
FAST_PENDING_LIMIT = 64 * 1024
SERVER_ERROR = (b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"content-length: 21\r\nconnection: close\r\n\r\nInternal Server Error")

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
                 "pending_size", "resume_reading")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None
        self.pending_size = 0  # bytes gathered for the next flush
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
        self.pending_size += len(data)

    def flush(self) -> None:
        pending, self._pending = self._pending, None
        self.pending_size = 0
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


class StsdHttpProtocol(CoalescingHttpToolsProtocol):
    """The fast path described in the module docstring, on top of the coalescing protocol."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # stsd's app (not wrapped by uvicorn middleware) exposes the synchronous entry point.
        self.respond_now = getattr(self.app, "respond_now", None)
        self.is_query_path = getattr(self.app, "is_query_path", None)
        self.fast = False  # the current request is being collected for the fast path
        self.fast_body: list[bytes] = []
        self.fast_size = 0
        self.keep_alive = True
        self.fast_path, self.fast_raw_path, self.fast_query = "", b"", b""
        self.idle_since: float | None = None  # loop time the last response completed; None: busy

    def on_headers_complete(self) -> None:
        self.idle_since = None  # busy until this request's answer is complete (see keep-alive below)
        if self.respond_now is None or not self._fast_eligible():
            super().on_headers_complete()
            return
        scope = self.scope
        http_version = self.parser.get_http_version()
        scope["method"] = self.parser.get_method().decode("ascii")
        if http_version != "1.1":
            scope["http_version"] = http_version
        scope["path"] = self.fast_path
        scope["raw_path"] = self.fast_raw_path
        scope["query_string"] = self.fast_query
        self.keep_alive = http_version != "1.0" and self.parser.should_keep_alive()
        self.fast = True
        self.fast_body = []
        self.fast_size = 0

    def _fast_eligible(self) -> bool:
        """Whether this request can be answered in the callback; parses the URL for it."""
        if (self.expect_100_continue or self.parser.should_upgrade() or self.access_log
                or self.limit_concurrency is not None or self.root_path or self.pipeline
                or (self.cycle is not None and not self.cycle.response_complete)
                # A client not reading its answers, or pipelining faster than one loop step
                # can flush: uvicorn's cycle takes the request and waits for the socket to
                # drain, and the requests behind it queue with reading paused.
                or self.flow.write_paused or self.transport.pending_size >= FAST_PENDING_LIMIT):  # type: ignore[attr-defined]
            return False
        parsed = httptools.parse_url(self.url)
        raw_path = parsed.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        if not self.is_query_path(path):  # type: ignore[misc]
            return False
        self.fast_path, self.fast_raw_path, self.fast_query = path, raw_path, parsed.query or b""
        return True

    def on_body(self, body: bytes) -> None:
        if not self.fast:
            super().on_body(body)
            return
        self.fast_body.append(body)
        self.fast_size += len(body)
        if self.fast_size > FAST_BODY_LIMIT:  # a large body: uvicorn's flow control takes over
            self._to_asgi(more_body=True)

    def on_message_complete(self) -> None:
        if not self.fast:
            super().on_message_complete()
            return
        self.fast = False
        body = b"".join(self.fast_body)
        self.fast_body = []
        try:
            outcome = self.respond_now(self.scope, body)  # type: ignore[misc]
        except Exception:
            log.exception("Exception in the fast path")
            self.transport.write(SERVER_ERROR)
            self.transport.close()
            return
        if outcome is None:  # the pipeline must await something: run it as an ASGI task
            self._to_asgi(more_body=False, body=body)
            return
        self._write(outcome.status, outcome.headers, b"" if self.scope["method"] == "HEAD" else outcome.body)

    def _write(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """The response, as uvicorn's send() would write it (our headers are well-formed and
        always carry content-length), in one write."""
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:  # date (and server, if configured)
            content += (name, b": ", value, b"\r\n")
        for name, value in headers:
            content += (name, b": ", value, b"\r\n")
        if not self.keep_alive:
            content.append(b"connection: close\r\n")
        content += (b"\r\n", body)
        # Gathered until the end of the loop step like every other write: the answers to all
        # the connections served in one step then leave back to back, and the client is woken
        # once for them rather than once per answer (sending each at once cost more CPU here).
        self.transport.write(b"".join(content))
        if not self.keep_alive:
            self.transport.close()
        self.on_response_complete()

    def _to_asgi(self, *, more_body: bool, body: bytes | None = None) -> None:
        """Hand the request to uvicorn's request cycle, with the body received so far."""
        self.fast = False
        cycle = RequestResponseCycle(
            scope=self.scope,  # type: ignore[arg-type]
            transport=self.transport,
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=self.access_log,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=False,
            keep_alive=self.keep_alive,
            on_response=self.on_response_complete,
        )
        cycle.body += body if body is not None else b"".join(self.fast_body)
        cycle.more_body = more_body
        cycle.message_event.set()
        self.fast_body = []
        self.cycle = cycle
        self._start_asgi_task(cycle, self.app)

    # Keep-alive: uvicorn arms a timer after every response and cancels it when the next
    # request arrives. Here one timer stays armed while the connection is in use and checks,
    # when it fires, how long the connection has been idle (the same 5 s rule, at a fraction
    # of the cost per request).
    def _unset_keepalive_if_required(self) -> None:
        self.idle_since = None  # a request is arriving

    def on_response_complete(self) -> None:
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        if self.pipeline:  # a pipelined request waited for this one
            # Reading stays paused until the queue is empty (uvicorn resumes it after every
            # answer, so a client pipelining without reading grew the queue without bound).
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self.flow.resume_reading()
        self.idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive,
                                                                self.timeout_keep_alive_handler)

    def timeout_keep_alive_handler(self) -> None:
        self.timeout_keep_alive_task = None
        if self.idle_since is None or self.transport.is_closing():
            return  # busy (re-armed when its response is complete) or gone
        remaining = self.idle_since + self.timeout_keep_alive - self.loop.time()
        if remaining > 0:
            self.timeout_keep_alive_task = self.loop.call_later(remaining, self.timeout_keep_alive_handler)
        else:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None

    def shutdown(self) -> None:
        if self.fast:  # a request is arriving: answer it, then close
            self.keep_alive = False
            return
        super().shutdown()


UVICORN_HTTP = f"{__name__}:{StsdHttpProtocol.__name__}"  # uvicorn's ``http=`` setting
