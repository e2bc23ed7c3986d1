"""The HTTP connection layer (uvicorn's httptools protocol with responses written in one
piece, stsd.server.http_protocol): keep-alive, pipelining, HEAD and Connection: close on a
raw socket, and one TCP segment per small response."""

from __future__ import annotations

import socket
from typing import Any

HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def _connect(server: Any) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_responses(sock: socket.socket, count: int, *, heads: tuple[bool, ...] = ()) -> list[tuple[bytes, bytes]]:
    """``count`` complete responses (status line + headers, body), by Content-Length;
    ``heads[i]``: response i answers a HEAD request (no body whatever the length says)."""
    buffer = b""
    responses = []
    while len(responses) < count:
        head = len(responses) < len(heads) and heads[len(responses)]
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {len(responses)} responses"
            buffer += chunk
        head_bytes, buffer = buffer.split(b"\r\n\r\n", 1)
        length = 0
        for line in head_bytes.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if head:
            length = 0
        while len(buffer) < length:
            chunk = sock.recv(65536)
            assert chunk
            buffer += chunk
        responses.append((head_bytes, buffer[:length]))
        buffer = buffer[length:]
    return responses


def test_pipelined_requests_are_answered_in_order_on_one_connection(server: Any) -> None:
    unknown = b"POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    with _connect(server) as sock:
        sock.sendall(HEALTH + unknown + HEALTH)
        first, second, third = _read_responses(sock, 3)
    assert first[0].startswith(b"HTTP/1.1 200 ")
    assert second == (second[0], b"<UnknownOperationException/>\n") and second[0].startswith(b"HTTP/1.1 404 ")
    assert third[0].startswith(b"HTTP/1.1 200 ")


def test_keep_alive_serves_many_requests_on_one_connection(server: Any) -> None:
    with _connect(server) as sock:
        for _ in range(50):
            sock.sendall(HEALTH)
            (status, _body), = _read_responses(sock, 1)
            assert status.startswith(b"HTTP/1.1 200 ")


def test_a_small_response_arrives_as_one_segment(server: Any) -> None:
    # Head and body are written together: the first recv() holds the whole response.
    request = b"POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    with _connect(server) as sock:
        for _ in range(5):
            sock.sendall(request)
            data = sock.recv(65536)
            assert data.startswith(b"HTTP/1.1 404 ")
            assert data.endswith(b"\r\n\r\n<UnknownOperationException/>\n")


def test_head_has_headers_and_no_body(server: Any) -> None:
    with _connect(server) as sock:
        sock.sendall(b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + HEALTH)
        (head, body), (status, _) = _read_responses(sock, 2, heads=(True, False))
    assert head.startswith(b"HTTP/1.1 302 ")  # no Action: the Query API's redirect
    assert body == b""
    assert status.startswith(b"HTTP/1.1 200 ")


def test_connection_close_is_honoured_after_the_response(server: Any) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 ")
    assert b"connection: close" in data.lower()
