"""The HTTP connection layer (stsd.server.http_protocol: uvicorn's httptools protocol with
Query API calls answered in the protocol callback and responses written in one piece):
keep-alive, pipelining, HEAD, Connection: close, HTTP/1.0, Expect: 100-continue, bodies in
pieces and over the fast path's limit, on a raw socket; one TCP segment per small response."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from stsd.server.http_protocol import FAST_BODY_LIMIT
from tests.conftest import ACCOUNT_A

HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
IDENTITY_BODY = b"Action=GetCallerIdentity&Version=2011-06-15"
IDENTITY_ARN = f"<Arn>arn:aws:iam::{ACCOUNT_A}:user/admin</Arn>".encode()


def _signed(server: Any, body: bytes, *, version: str = "1.1", extra: dict[str, str] | None = None) -> bytes:
    """A POST to / signed by account A's admin, as raw HTTP bytes: (head, body)."""
    creds = server.admins[ACCOUNT_A]
    request = AWSRequest(method="POST", url=f"{server.endpoint_url}/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                                  **(extra or {})})
    SigV4Auth(BotoCredentials(creds.access_key_id, creds.secret_access_key), "sts", "us-east-1").add_auth(request)
    lines = [f"POST / HTTP/{version}", f"Host: 127.0.0.1:{server.port}", f"Content-Length: {len(body)}",
             *(f"{name}: {value}" for name, value in request.headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _header_names(head: bytes) -> list[bytes]:
    return [line.split(b":", 1)[0].lower() for line in head.split(b"\r\n")[1:]]


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


def test_pipelined_query_calls_and_server_paths_keep_their_order(server: Any) -> None:
    # Query API calls are answered in the protocol callback, /health by an ASGI task: a call
    # pipelined behind /health must wait for it.
    call = _signed(server, IDENTITY_BODY)
    with _connect(server) as sock:
        sock.sendall(call + HEALTH + call + call)
        responses = _read_responses(sock, 4)
    assert [head.split(b"\r\n", 1)[0] for head, _ in responses] == [b"HTTP/1.1 200 OK"] * 4
    assert IDENTITY_ARN in responses[0][1]
    assert responses[1][1] == b'{"status":"ok"}'
    assert IDENTITY_ARN in responses[2][1] and IDENTITY_ARN in responses[3][1]


def test_a_body_arriving_in_pieces_is_collected(server: Any) -> None:
    request = _signed(server, IDENTITY_BODY)
    head, body = request.split(b"\r\n\r\n", 1)
    with _connect(server) as sock:
        for piece in (head + b"\r\n", b"\r\n", body[:10], body[10:]):
            sock.sendall(piece)
            time.sleep(0.05)
        ((status, payload),) = _read_responses(sock, 1)
    assert status.startswith(b"HTTP/1.1 200 ")
    assert IDENTITY_ARN in payload


def test_a_body_over_the_fast_path_limit_is_answered_the_same(server: Any) -> None:
    small = IDENTITY_BODY + b"&Pad=x"
    large = IDENTITY_BODY + b"&Pad=" + b"x" * (FAST_BODY_LIMIT + 1)
    with _connect(server) as sock:
        sock.sendall(_signed(server, small) + _signed(server, large) + _signed(server, small))
        answers = _read_responses(sock, 3)
    for head, payload in answers:
        assert head.startswith(b"HTTP/1.1 200 ")
        assert IDENTITY_ARN in payload
    # Both ways write the same header fields in the same order.
    assert _header_names(answers[0][0]) == _header_names(answers[1][0]) == _header_names(answers[2][0]) == [
        b"date", b"content-type", b"content-length", b"x-amzn-requestid", b"x-stsd-serving-region",
        b"x-amz-sts-extended-request-id"]


def test_http_1_0_gets_its_answer_and_the_connection_closes(server: Any) -> None:
    with _connect(server) as sock:
        sock.sendall(_signed(server, IDENTITY_BODY, version="1.0"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nconnection: close" in head
    assert IDENTITY_ARN in payload


def test_connection_close_on_a_query_call_closes_after_the_answer(server: Any) -> None:
    with _connect(server) as sock:
        sock.sendall(_signed(server, IDENTITY_BODY, extra={"Connection": "close"}) + HEALTH)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 ") == 1  # the pipelined /health after it is not answered
    assert b"\r\nconnection: close" in data and IDENTITY_ARN in data


def test_expect_100_continue_is_answered_before_the_body(server: Any) -> None:
    request = _signed(server, IDENTITY_BODY, extra={"Expect": "100-continue"})
    head, body = request.split(b"\r\n\r\n", 1)
    with _connect(server) as sock:
        sock.sendall(head + b"\r\n\r\n")
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        ((status, payload),) = _read_responses(sock, 1)
    assert status.startswith(b"HTTP/1.1 200 ")
    assert IDENTITY_ARN in payload


def test_an_action_that_touches_the_database_is_answered_in_order(server: Any) -> None:
    # IAM calls run in a worker thread (an ASGI task): calls pipelined behind one wait for it.
    iam_body = b"Action=ListUsers&Version=2010-05-08"
    creds = server.admins[ACCOUNT_A]
    request = AWSRequest(method="POST", url=f"{server.endpoint_url}/", data=iam_body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(BotoCredentials(creds.access_key_id, creds.secret_access_key), "iam", "us-east-1").add_auth(request)
    lines = ["POST / HTTP/1.1", f"Host: 127.0.0.1:{server.port}", f"Content-Length: {len(iam_body)}",
             *(f"{name}: {value}" for name, value in request.headers.items())]
    iam_call = ("\r\n".join(lines) + "\r\n\r\n").encode() + iam_body
    with _connect(server) as sock:
        sock.sendall(iam_call + _signed(server, IDENTITY_BODY))
        (first, second) = _read_responses(sock, 2)
    assert first[0].startswith(b"HTTP/1.1 200 ") and b"<ListUsersResponse" in first[1]
    assert second[0].startswith(b"HTTP/1.1 200 ") and IDENTITY_ARN in second[1]


def test_an_idle_connection_closes_five_seconds_after_its_last_answer(server: Any) -> None:
    call = _signed(server, IDENTITY_BODY)
    with _connect(server) as sock:
        sock.sendall(call)
        _read_responses(sock, 1)
        time.sleep(3)
        sock.sendall(call)  # the idle clock starts again from this answer
        _read_responses(sock, 1)
        answered = time.monotonic()
        time.sleep(3)  # 6 s after the first answer, 3 s after the last: still open
        sock.sendall(call)
        ((status, _),) = _read_responses(sock, 1)
        assert status.startswith(b"HTTP/1.1 200 ")
        answered = time.monotonic()
        sock.settimeout(10)
        assert sock.recv(65536) == b""  # closed by the server
        idle = time.monotonic() - answered
    assert 4.5 <= idle <= 7, idle


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


def test_a_client_that_does_not_read_cannot_make_the_server_buffer_its_answers(server: Any) -> None:
    # 300,000 pipelined calls (20 MB) whose answers (45 MB) go unread: the server answers in
    # the callback only while little is waiting to be sent, then lets uvicorn's cycle wait for
    # the socket with reading paused, so its memory stops growing at a few MB (what one read
    # holds) whatever the client sends; every answer still arrives once the client reads.
    count = 300_000
    request = b"POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    pid = server._process.pid
    before = _rss_kib(pid)
    with _connect(server) as sock:
        sender = threading.Thread(target=sock.sendall, args=(request * count,), daemon=True)
        sender.start()
        time.sleep(3)
        grown = _rss_kib(pid) - before
        answers = _read_responses(sock, count)
        sender.join(10)
    assert grown < 20 * 1024, f"server RSS grew by {grown} KiB"
    assert {head.split(b"\r\n", 1)[0] for head, _ in answers} == {b"HTTP/1.1 404 Not Found"}
    assert {body for _, body in answers} == {b"<UnknownOperationException/>\n"}
