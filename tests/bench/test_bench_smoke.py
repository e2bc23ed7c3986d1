"""Keeps the benchmark harness from rotting: the load generator (a separate process, as in
``make bench``) drives a real stsd for a couple of seconds with pre-signed requests, and
every response must be a 200 carrying the expected result element — also for the Region
mix of path-prefix endpoints, each request signed for its endpoint's Region."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stsd.testing import StsdServer

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loadgen import Spec, run_loadgen  # noqa: E402 - bench/ is not an installed package
from bench.servers import ACCOUNT, create_bench_role, unthrottled_stsd  # noqa: E402
from bench.signing import (  # noqa: E402
    ASSUME_ROLE,
    GET_CALLER_IDENTITY,
    PLAIN,
    REGION_MIX,
    RESULT_MARKER,
    Keys,
    sign_pool,
)


class _Target:
    name = "stsd"

    def __init__(self, server: StsdServer):
        self.host, self.port, self.endpoint_url = server.host, server.port, server.endpoint_url


@pytest.fixture(scope="module")
def bench_server() -> StsdServer:
    server = unthrottled_stsd(accounts=(ACCOUNT,))
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def role_arn(bench_server: StsdServer) -> str:
    admin = bench_server.admins[ACCOUNT]
    return create_bench_role(_Target(bench_server), Keys(admin.access_key_id, admin.secret_access_key))  # type: ignore[arg-type]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("operation", "endpoints"), [(GET_CALLER_IDENTITY, PLAIN), (ASSUME_ROLE, PLAIN),
                                                      (ASSUME_ROLE, REGION_MIX)], ids=["GCI", "AR", "AR-mix"])
def test_loadgen_counts_only_200s(bench_server: StsdServer, role_arn: str, operation: str,
                                  endpoints: tuple[tuple[str, str], ...]) -> None:
    admin = bench_server.admins[ACCOUNT]
    keys = Keys(admin.access_key_id, admin.secret_access_key)
    pool = sign_pool(keys, bench_server.host, bench_server.port, operation, 16,
                     role_arn if operation == ASSUME_ROLE else None, endpoints)
    spec = Spec(host=pool.host, port=pool.port, requests=[r.decode("latin-1") for r in pool.requests],
                marker=RESULT_MARKER[operation].decode(), connections=4, duration=2.0, warmup=0.2)

    result = run_loadgen(spec, timeout=25)

    assert result.errors == {}
    assert result.bad_body == 0
    assert set(result.statuses) == {"200"}, result.sample_error
    assert result.ok == result.completed > 0
    assert result.rps > 0
    assert RESULT_MARKER[operation].decode() in result.sample_ok
