"""Fixtures and helpers for the Region end-to-end suite (aws-sts-behaviour.md §3, §5).

Everything runs against real ``stsd serve`` processes on loopback. Region state is changed
the way an operator's tooling would: through the real store API (``RegionStore``) of the
same data directory, which the running server picks up on its next control-plane poll
(about a second) — hence the bounded :func:`eventually`.

Requests that must come from a given source network (the ``--topology`` file maps
127.0.1.0/24 and 127.0.2.0/24 to Regions) or carry a given ``Host`` header are sent with
httpx bound to a loopback source address and signed with botocore's ``SigV4Auth``; the
rest go through boto3 with ``endpoint_url=<server>/<region>``.
"""

from __future__ import annotations

import base64
import json
import re
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError

from stsd.bootstrap import init_account
from stsd.config import Settings
from stsd.server.runtime import Runtime
from stsd.testing import Credentials, StsdServer

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
MSG_INVALID_TOKEN = "The security token included in the request is invalid."
MSG_SCOPE_REGION = "Credential should be scoped to a valid region. "
MSG_RATE_EXCEEDED = "Rate exceeded"

# Networks of the topology file: callers "in" eu-north-1 (enabled by default) and in
# ap-east-1 (opt-in); 127.0.0.1 is in no listed network ("outside AWS").
NORTH_SOURCE = "127.0.1.5"
HONG_KONG_SOURCE = "127.0.2.5"
UNMAPPED_SOURCE = "127.0.0.1"
TOPOLOGY = {"networks": [{"cidr": "127.0.1.0/24", "region": "eu-north-1"},
                         {"cidr": "127.0.2.0/24", "region": "ap-east-1"}]}

# Accounts of the shared server; each test module owns its own so Region state never leaks.
ACTIVATION_A, ACTIVATION_B = "100000000001", "100000000002"
OPTIN_A, OPTIN_B = "200000000001", "200000000002"
TOKENS = "300000000001"
SERVING = "400000000001"
HOSTS = "500000000001"
FAULTS = "600000000001"
WORLD_ACCOUNTS = (ACTIVATION_A, ACTIVATION_B, OPTIN_A, OPTIN_B, TOKENS, SERVING, HOSTS, FAULTS)

T = TypeVar("T")


# --- servers ----------------------------------------------------------------------------------


@dataclass
class World:
    """A running server plus the store it uses, opened in the test process."""

    server: StsdServer
    runtime: Runtime

    def admin(self, account: str) -> Credentials:
        return self.server.admins[account]


def prepare_world(accounts: tuple[str, ...], extra_args: tuple[str, ...] = ()) -> World:
    """Open a fresh store and bootstrap the accounts in-process (much faster than one CLI run
    each; not thread-safe: alembic migrations use module globals). The server is not started."""
    data_dir = Path(tempfile.mkdtemp(prefix="stsd-regions-"))
    runtime = Runtime.open(Settings(data_dir=data_dir))
    admins = {}
    for account in accounts:
        boot = init_account(runtime, account)
        admins[account] = Credentials(account, boot.AccessKeyId, boot.SecretAccessKey, user_name=boot.UserName)
    server = StsdServer(data_dir=data_dir, accounts=accounts, admins=admins, extra_args=extra_args)
    server._owns_dir = True  # cleanup() removes the directory
    return World(server, runtime)


def start_world(world: World) -> World:
    """Start the server process and wait until it answers (safe to run in parallel)."""
    world.server.start()
    return world


def stop_world(world: World) -> None:
    world.runtime.close()
    world.server.cleanup()


@pytest.fixture(scope="session")
def topology_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("topology") / "topology.json"
    path.write_text(json.dumps(TOPOLOGY))
    return path


# The servers this suite uses: name → (accounts, serve flags given the topology file).
QUOTA_A, QUOTA_B, QUOTA_C = "700000000001", "700000000002", "700000000003"
QUOTA_RATE = QUOTA_BURST = 5
WORLD_SPECS: dict[str, tuple[tuple[str, ...], Callable[[Path], tuple[str, ...]]]] = {
    # 2025 ("local") global endpoint with the two-network topology.
    "world": (WORLD_ACCOUNTS, lambda topology: ("--topology", str(topology))),
    # Pre-2025: the global endpoint serves every caller in us-east-1.
    "legacy_world": ((SERVING,), lambda topology: ("--topology", str(topology), "--global-endpoint-mode", "legacy")),
    # Tiny request-rate quota.
    "quota_world": ((QUOTA_A, QUOTA_B, QUOTA_C),
                    lambda _topology: ("--quota-rate", str(QUOTA_RATE), "--quota-burst", str(QUOTA_BURST))),
}


@pytest.fixture(scope="session")
def worlds(request: pytest.FixtureRequest, topology_file: Path) -> Iterator[dict[str, Future[World]]]:
    """Start every server the selected tests need, in parallel, once per session."""
    here = Path(__file__).parent
    ours = [item for item in request.session.items if Path(str(item.fspath)).is_relative_to(here)]
    needed = [name for name in WORLD_SPECS if any(name in getattr(item, "fixturenames", ()) for item in ours)]
    prepared = {name: prepare_world(WORLD_SPECS[name][0], WORLD_SPECS[name][1](topology_file)) for name in needed}
    pool = ThreadPoolExecutor(max_workers=len(WORLD_SPECS))
    futures = {name: pool.submit(start_world, w) for name, w in prepared.items()}
    yield futures
    for future in futures.values():
        future.exception()  # wait for a start still under way
    for w in prepared.values():
        stop_world(w)
    pool.shutdown()


def _world(worlds: dict[str, Future[World]], name: str) -> World:
    assert name in worlds, f"{name} is started only for tests that name it as a fixture"
    return worlds[name].result(timeout=120)


@pytest.fixture(scope="session")
def world(worlds: dict[str, Future[World]]) -> World:
    """The shared server (2025 global endpoint, topology of two networks)."""
    return _world(worlds, "world")


@pytest.fixture(scope="session")
def legacy_world(worlds: dict[str, Future[World]]) -> World:
    return _world(worlds, "legacy_world")


@pytest.fixture(scope="session")
def quota_world(worlds: dict[str, Future[World]]) -> World:
    return _world(worlds, "quota_world")


# --- waiting ----------------------------------------------------------------------------------


def eventually(check: Callable[[], T], timeout: float = 6.0, interval: float = 0.1) -> T:
    """Retry ``check`` until it neither fails an assertion nor gets an AWS error (bounded:
    ``timeout`` seconds; the last failure is raised)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, ClientError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(interval)


# --- boto3 ------------------------------------------------------------------------------------


def endpoint_region(endpoint: str) -> str:
    """The SigV4 scope Region of a path-prefix endpoint (``global`` signs as us-east-1)."""
    return "us-east-1" if endpoint in ("global", "aws-global") else endpoint


def sts_at(world: World, creds: Credentials, endpoint: str) -> Any:
    """boto3 STS client for ``<server>/<endpoint>`` (a Region or ``global``)."""
    return world.server.client("sts", creds, region=endpoint_region(endpoint),
                               endpoint_url=f"{world.server.endpoint_url}/{endpoint}")


def iam(world: World, account: str) -> Any:
    return world.server.client("iam", world.admin(account))


def error_of(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """Call a boto3 operation that must fail; returns {status, Type, Code, Message}."""
    try:
        call(**kwargs)
    except ClientError as exc:
        error = exc.response["Error"]
        return {"status": exc.response["ResponseMetadata"]["HTTPStatusCode"], "Type": error.get("Type"),
                "Code": error.get("Code"), "Message": error.get("Message")}
    raise AssertionError(f"{getattr(call, '__name__', call)} succeeded; an error was expected")


def aws_error(status: int, code: str, message: str, type_: str = "Sender") -> dict[str, Any]:
    return {"status": status, "Type": type_, "Code": code, "Message": message}


def region_disabled(account: str) -> dict[str, Any]:
    return aws_error(403, "RegionDisabledException",
                     f"STS is not activated in this region for account:{account}. Your account administrator "
                     "can activate STS in this region using the IAM Console.")


INVALID_TOKEN = aws_error(403, "InvalidClientTokenId", MSG_INVALID_TOKEN)


def denied(caller_arn: str, role_arn: str) -> dict[str, Any]:
    return aws_error(403, "AccessDenied",
                     f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}")


def session_of(response: dict[str, Any], account: str) -> Credentials:
    c = response["Credentials"]
    return Credentials(account, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


def admin_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:user/admin"


def make_role(world: World, account: str, name: str, trusted: Any, condition: dict | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    return iam(world, account).create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"]["Arn"]


# --- raw, source-bound, SigV4-signed requests --------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    @property
    def request_id(self) -> str:
        return self.headers["x-amzn-requestid"]

    @property
    def serving_region(self) -> str | None:
        return self.headers.get("x-stsd-serving-region")

    def error(self) -> dict[str, Any]:
        root = ET.fromstring(self.body)
        assert root.tag == f"{{{STS_NS}}}ErrorResponse", self.text
        node = root.find(f"{{{STS_NS}}}Error")
        assert node is not None
        fields = {child.tag.split("}", 1)[1]: child.text for child in node}
        return {"status": self.status, "Type": fields.get("Type"), "Code": fields.get("Code"),
                "Message": fields.get("Message")}

    def result(self, action: str) -> dict[str, Any]:
        """The ``<action>Result`` element as nested dicts of strings."""
        assert self.status == 200, self.text
        root = ET.fromstring(self.body)
        node = root.find(f"{{{STS_NS}}}{action}Result")
        assert node is not None, self.text
        return _as_dict(node)


def _as_dict(node: ET.Element) -> Any:
    children = list(node)
    if not children:
        return node.text or ""
    return {child.tag.split("}", 1)[1]: _as_dict(child) for child in children}


def exact_error_xml(reply: Reply, code: str, message: str, type_: str = "Sender") -> bytes:
    """AWS's STS error envelope, byte for byte (aws-sts-behaviour.md §6.3)."""
    return (
        f'<ErrorResponse xmlns="{STS_NS}">\n'
        f"  <Error>\n"
        f"    <Type>{type_}</Type>\n"
        f"    <Code>{code}</Code>\n"
        f"    <Message>{message}</Message>\n"
        f"  </Error>\n"
        f"  <RequestId>{reply.request_id}</RequestId>\n"
        f"</ErrorResponse>\n"
    ).encode()


EXTENDED_ID = re.compile(r"1:([a-z0-9-]+):S:([0-9]{13}):R:([0-9A-Za-z]{8})")


def extended_request_id(reply: Reply) -> tuple[str, int, str]:
    """Decode ``x-amz-sts-extended-request-id``: (serving Region, epoch ms, 8 chars)."""
    raw = base64.b64decode(reply.headers["x-amz-sts-extended-request-id"], validate=True).decode()
    match = EXTENDED_ID.fullmatch(raw)
    assert match is not None, raw
    return match.group(1), int(match.group(2)), match.group(3)


class RawSts:
    """Signed Query-API POSTs to one server, optionally from a given loopback source address."""

    def __init__(self, server: StsdServer):
        self.server = server
        self._clients: dict[tuple[str | None, float], httpx.Client] = {}

    def _client(self, source: str | None, timeout: float) -> httpx.Client:
        key = (source, timeout)
        if key not in self._clients:
            transport = httpx.HTTPTransport(local_address=source) if source else httpx.HTTPTransport()
            self._clients[key] = httpx.Client(transport=transport, timeout=timeout)
        return self._clients[key]

    def call(
        self,
        creds: Credentials,
        action: str,
        params: dict[str, str] | None = None,
        *,
        endpoint: str | None = "eu-west-1",
        host: str | None = None,
        sign_region: str | None = None,
        source: str | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """``endpoint`` is a path prefix (Region or ``global``); with ``host`` and
        ``endpoint=None`` the request goes to ``/`` with that ``Host`` header."""
        path = f"/{endpoint}/" if endpoint else "/"
        host_header = host or f"{self.server.host}:{self.server.port}"
        region = sign_region or (endpoint_region(endpoint) if endpoint else "us-east-1")
        body = urlencode({"Action": action, "Version": "2011-06-15", **(params or {})})
        request = AWSRequest("POST", f"http://{host_header}{path}", data=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                                      "Host": host_header})
        boto = BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token)
        SigV4Auth(boto, "sts", region).add_auth(request)
        response = self._client(source, timeout).post(
            f"{self.server.endpoint_url}{path}", content=body.encode(), headers=dict(request.headers.items())
        )
        return Reply(response.status_code, response.headers, response.content)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


@pytest.fixture(scope="session")
def raw(world: World) -> Iterator[RawSts]:
    sender = RawSts(world.server)
    yield sender
    sender.close()
