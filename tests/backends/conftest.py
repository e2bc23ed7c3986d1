"""Real PostgreSQL and Redis servers for the back-end tests (see stsd.testing_backends).

They are skipped only when the server binaries are not installed; with
``STSD_REQUIRE_BACKENDS=1`` (set by .ci/run) a missing binary is an error instead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from itertools import count

import pytest

from stsd.testing_backends import BackendUnavailable, create_database, postgres_server, redis_server


def _unavailable(error: BackendUnavailable) -> None:
    if os.environ.get("STSD_REQUIRE_BACKENDS") == "1":
        pytest.fail(f"STSD_REQUIRE_BACKENDS=1 but {error}", pytrace=False)
    pytest.skip(str(error))


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """One PostgreSQL cluster per test process; its database ``stsd`` stays empty."""
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(postgres_server())
        except BackendUnavailable as error:
            _unavailable(error)
        yield url


@pytest.fixture(scope="session")
def new_pg_database(pg_server_url: str) -> Callable[[], str]:
    """Factory: the URL of a new, empty database on the shared cluster."""
    numbers = count(1)

    def _new() -> str:
        return create_database(pg_server_url, f"stsd_{os.getpid()}_{next(numbers)}")

    return _new


class RedisService:
    """A Redis server that a test may stop and start again on the same port."""

    def __init__(self) -> None:
        self.url = ""
        self._running: contextlib.AbstractContextManager[str] | None = None

    def start(self) -> str:
        port = int(self.url.rsplit(":", 1)[1].split("/")[0]) if self.url else None
        running = redis_server(port=port)
        self.url = running.__enter__()
        self._running = running
        return self.url

    def stop(self) -> None:
        running, self._running = self._running, None
        if running is not None:
            running.__exit__(None, None, None)


@pytest.fixture(scope="module")
def redis_service() -> Iterator[RedisService]:
    service = RedisService()
    try:
        service.start()
    except BackendUnavailable as error:
        _unavailable(error)
    try:
        yield service
    finally:
        service.stop()
