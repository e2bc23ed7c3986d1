"""A trivial keep-alive HTTP server that answers every request with one fixed 200 response.

Used only to measure the load generator's own ceiling: run it on the server core and drive
it like a real server. Its answers carry both ``<…Result>`` markers so any pool passes.
Run as ``python -m bench.static_server PORT CPU``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import cast

BODY = b"<R><GetCallerIdentityResult></GetCallerIdentityResult><AssumeRoleResult></AssumeRoleResult></R>"
RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: "
            + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)


class Static(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            i = head.find(b"\r\ncontent-length:")
            length = int(head[i + 17 :].split(b"\r\n", 1)[0]) if i >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[: end + 4 + length]
            assert self.transport is not None
            self.transport.write(RESPONSE)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Static, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> int:
    port, cpu = int(argv[0]), int(argv[1])
    os.sched_setaffinity(0, {cpu})
    import uvloop

    uvloop.run(serve(port))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
