"""Keeps the benchmark harness from rotting: the load generator (a separate process, as in
``make bench``) drives a real stsd for a couple of seconds with pre-signed requests, and
every response must be a 200 carrying the expected result element."""

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
from bench.signing import ASSUME_ROLE, GET_CALLER_IDENTITY, RESULT_MARKER, Keys, sign_pool  # noqa: E402


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


@pytest.mark.timeout(30)
@pytest.mark.parametrize("operation", [GET_CALLER_IDENTITY, ASSUME_ROLE])
def test_loadgen_counts_only_200s(bench_server: StsdServer, operation: str) -> None:
    admin = bench_server.admins[ACCOUNT]
    keys = Keys(admin.access_key_id, admin.secret_access_key)
    role_arn = None
    if operation == ASSUME_ROLE:
        role_arn = create_bench_role(_Target(bench_server), keys)  # type: ignore[arg-type]
    pool = sign_pool(keys, bench_server.host, bench_server.port, operation, 16, role_arn)
    spec = Spec(host=pool.host, port=pool.port, requests=[r.decode("latin-1") for r in pool.requests],
                marker=RESULT_MARKER[operation].decode(), connections=4, duration=2.0, warmup=0.2)

    result = run_loadgen(spec, timeout=25)

    assert result.errors == {}
    assert result.bad_body == 0
    assert set(result.statuses) == {"200"}, result.sample_error
    assert result.ok == result.completed > 0
    assert result.rps > 0
    assert RESULT_MARKER[operation].decode() in result.sample_ok
