"""Audit-trail test helpers: a stsd server with a source-network topology, boto3 clients whose
requests leave from a chosen loopback address with the Host the SDK resolved, and readers for
what the trail wrote (store rows and S3-layout files)."""

from __future__ import annotations

import gzip
import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
import httpx
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from stsd.testing import Credentials, StsdServer

ACCOUNT_A = "123456789012"
ACCOUNT_B = "210987654321"
EU_NORTH_NET = "127.0.1.10"  # 127.0.1.0/24 → eu-north-1 (enabled by default: served there)
SYDNEY_NET = "127.0.2.10"  # 127.0.2.0/24 → ap-southeast-2
CAPE_TOWN_NET = "127.0.3.10"  # 127.0.3.0/24 → af-south-1 (opt-in: the global endpoint serves in us-east-1)
OUTSIDE = "127.0.0.1"  # no network listed: "outside AWS", the global endpoint serves in us-east-1
TOPOLOGY = {"networks": [{"cidr": "127.0.1.0/24", "region": "eu-north-1"},
                         {"cidr": "127.0.2.0/24", "region": "ap-southeast-2"},
                         {"cidr": "127.0.3.0/24", "region": "af-south-1"}]}
FLUSH = "0.2"


def start_server(tmp: Path, *extra_args: str, **env: str) -> StsdServer:
    topology = tmp / "topology.json"
    topology.write_text(json.dumps(TOPOLOGY))
    server = StsdServer(accounts=(ACCOUNT_A, ACCOUNT_B), extra_args=("--topology", str(topology), *extra_args),
                        env={"STSD_AUDIT_FLUSH_SECONDS": FLUSH, **env})
    server.start()
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StsdServer]:
    srv = start_server(tmp_path_factory.mktemp("audit"))
    yield srv
    srv.cleanup()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StsdServer]:
    """stsd over HTTPS (``stsd serve --tls-cert/--tls-key`` with a CA from ``stsd ca init``)."""
    from typer.testing import CliRunner

    from stsd.cli import app

    ca = tmp_path_factory.mktemp("ca")
    result = CliRunner().invoke(app, ["ca", "init", "--dir", str(ca)])
    assert result.exit_code == 0, result.output
    srv = StsdServer(accounts=(ACCOUNT_A,), tls_cert=ca / "server.pem", tls_key=ca / "server-key.pem",
                     ca_file=ca / "ca.pem", env={"STSD_AUDIT_FLUSH_SECONDS": FLUSH})
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


class _Body:
    def __init__(self, content: bytes):
        self.content = content

    def stream(self, **_kw: Any) -> Iterator[bytes]:
        yield self.content


def client(server: StsdServer, service: str = "sts", creds: Credentials | None = None, *, region: str = "us-east-1",
           source_ip: str = OUTSIDE, setting: str | None = None, user_agent: str | None = None,
           endpoint_url: str | None = None) -> Any:
    """A boto3 client that resolves its endpoint as the SDK does (``setting`` is
    ``sts_regional_endpoints``) and sends each request to the test server from ``source_ip``,
    keeping the Host header of the resolved endpoint (e.g. ``sts.amazonaws.com``)."""
    creds = creds or server.admins[ACCOUNT_A]
    session = botocore.session.Session()
    if setting is not None:
        session.set_config_variable("sts_regional_endpoints", setting)
    b3 = boto3.Session(botocore_session=session, region_name=region, **creds.as_boto())
    sdk = b3.client(service, endpoint_url=endpoint_url, config=Config(retries={"max_attempts": 1}))
    http = httpx.Client(transport=httpx.HTTPTransport(local_address=source_ip), timeout=30)

    def send(request: Any, **_kw: Any) -> AWSResponse:
        url = urlsplit(request.url)
        headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        headers["Host"] = url.netloc  # what the SDK signed
        if user_agent is not None:
            headers["User-Agent"] = user_agent  # not signed by SigV4
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif hasattr(body, "read"):
            body = body.read()
        target = f"http://127.0.0.1:{server.port}{url.path or '/'}" + (f"?{url.query}" if url.query else "")
        response = http.request(request.method, target, headers=headers, content=body)
        return AWSResponse(request.url, response.status_code, dict(response.headers), _Body(response.content))

    sdk.meta.events.register("before-send", send)
    return sdk


def request_id(response_or_error: Any) -> str:
    meta = response_or_error["ResponseMetadata"] if isinstance(response_or_error, dict) \
        else response_or_error.response["ResponseMetadata"]
    return meta["RequestId"]


# --- what the trail wrote ------------------------------------------------------------------------------

def store_rows(server: StsdServer) -> list[dict[str, Any]]:
    assert server.data_dir is not None
    with sqlite3.connect(server.data_dir / "stsd.db", timeout=30) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM audit_events")]


def store_records(server: StsdServer) -> list[dict[str, Any]]:
    return [json.loads(row["record"]) for row in store_rows(server)]


def trail_dir(server: StsdServer) -> Path:
    assert server.data_dir is not None
    return server.data_dir / "cloudtrail"


def trail_files(server: StsdServer) -> dict[Path, list[dict[str, Any]]]:
    root = trail_dir(server)
    return {path: json.loads(gzip.decompress(path.read_bytes()))["Records"]
            for path in sorted(root.rglob("*.json.gz"))} if root.exists() else {}


def file_records(server: StsdServer) -> list[dict[str, Any]]:
    return [record for records in trail_files(server).values() for record in records]


def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the audit trail")
        time.sleep(0.05)


def records_of(server: StsdServer, rid: str, count: int = 1, *, files: bool = False) -> list[dict[str, Any]]:
    """The records of one request, once ``count`` of them are in the store (and files)."""
    def check() -> list[dict[str, Any]] | None:
        found = [r for r in store_records(server) if r["requestID"] == rid]
        if len(found) < count:
            return None
        if files and len([r for r in file_records(server) if r["requestID"] == rid]) < count:
            return None
        return found

    return sorted(wait_for(check), key=lambda r: r.get("recipientAccountId", ""))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def trust(principal: Any, actions: Any = ("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity")) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": list(actions)}]})
