"""Unmodified botocore and the AWS CLI reach stsd by the real STS host names, over real TLS.

Everything is real: `stsd ca init` makes the CA, `stsd serve --tls-cert/--tls-key` serves
HTTPS on a loopback port, `stsd dns` answers the host names with 127.0.0.1. The only thing
the test changes is name resolution in the client process (see ``dnsroute``): host names
are asked of `stsd dns`, and port 443 is rewritten to the server's port. botocore builds
the URL itself from the Region and `sts_regional_endpoints` — no endpoint_url anywhere.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, SSLError
from dnslib import DNSRecord
from typer.testing import CliRunner

from stsd.cli import app
from stsd.testing import StsdServer
from tests.netsetup import dnsroute

ACCOUNT = "123456789012"
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("ca")
    result = CliRunner().invoke(app, ["ca", "init", "--dir", str(directory)])
    assert result.exit_code == 0, result.output
    return directory


@pytest.fixture(scope="module")
def tls_server(ca: Path) -> Iterator[StsdServer]:
    server = StsdServer(accounts=(ACCOUNT,), tls_cert=ca / "server.pem", tls_key=ca / "server-key.pem",
                        ca_file=ca / "ca.pem")
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def dns_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """`stsd dns` as its own process, answering the aws partition's names with 127.0.0.1."""
    port = dnsroute.free_udp_and_tcp_port()
    log = tmp_path_factory.mktemp("dns") / "dns.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "stsd", "dns", "--listen", f"127.0.0.1:{port}", "--answer", "127.0.0.1",
             "--partition", "aws", "--log-level", "debug"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60  # generous: a loaded CI machine starts Python slowly
        while True:
            try:
                DNSRecord.question("sts.amazonaws.com").send("127.0.0.1", port, timeout=0.2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"stsd dns did not start:\n{log.read_text()}") from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def resolved(monkeypatch: pytest.MonkeyPatch, tls_server: StsdServer, dns_port: int, ca: Path,
             tmp_path: Path) -> list[str]:
    """Route this process's name resolution through `stsd dns`; trust the stsd CA via AWS_CA_BUNDLE."""
    seen: list[str] = []
    monkeypatch.setattr(socket, "getaddrinfo", dnsroute.make_getaddrinfo(
        socket.getaddrinfo, dns_port=dns_port, https_port=tls_server.port, record=seen.append))
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca / "ca.pem"))
    for name in ("AWS_STS_REGIONAL_ENDPOINTS", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION",
                 "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return seen


@pytest.fixture
def client(tls_server: StsdServer) -> Iterator[Callable[..., Any]]:
    """Make plain botocore clients: no endpoint_url; `sts_regional_endpoints` set as a config variable.

    Each records (url, SigV4 scope Region) of what it sent in ``.sent``; all are closed after
    the test (an open TLS keep-alive connection would hold up the server's graceful shutdown).
    """
    made: list[Any] = []

    def make(service: str, region: str, mode: str | None = None, endpoint_url: str | None = None,
             **config: Any) -> Any:
        made.append(_client(tls_server, service, region, mode, endpoint_url, **config))
        return made[-1]

    yield make
    for each in made:
        each.close()


def _client(server: StsdServer, service: str, region: str, mode: str | None, endpoint_url: str | None,
            **config: Any) -> Any:
    session = botocore.session.Session()
    if mode is not None:
        session.set_config_variable("sts_regional_endpoints", mode)
    creds = server.admins[ACCOUNT]
    made = session.create_client(service, region_name=region, endpoint_url=endpoint_url,
                                 config=Config(retries={"max_attempts": 1}, **config),
                                 aws_access_key_id=creds.access_key_id,
                                 aws_secret_access_key=creds.secret_access_key)
    made.sent = []  # (url, credential scope) of every request, as botocore sent it
    made.meta.events.register(f"before-send.{service}", lambda request, **_: made.sent.append(
        (request.url, re.search(r"Credential=[^/]+/[0-9]+/([^/]+)/", request.headers["Authorization"].decode())[1])))
    return made


def serving_region(response: dict[str, Any]) -> str:
    return response["ResponseMetadata"]["HTTPHeaders"]["x-stsd-serving-region"]


def test_regional_mode_reaches_the_regional_endpoint(client: Callable[..., Any], resolved: list[str]) -> None:
    sts = client("sts", "eu-west-1", "regional")
    response = sts.get_caller_identity()
    assert sts.sent == [("https://sts.eu-west-1.amazonaws.com/", "eu-west-1")]
    assert resolved == ["sts.eu-west-1.amazonaws.com"]
    assert serving_region(response) == "eu-west-1"
    assert response["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin"


def test_legacy_mode_sends_a_legacy_region_to_the_global_endpoint(client: Callable[..., Any],
                                                                   resolved: list[str]) -> None:
    sts = client("sts", "eu-west-1", "legacy")
    response = sts.get_caller_identity()
    assert sts.sent == [("https://sts.amazonaws.com/", "us-east-1")]
    assert resolved == ["sts.amazonaws.com"]
    assert serving_region(response) == "us-east-1"
    assert response["Account"] == ACCOUNT


def test_legacy_mode_resolves_other_regions_regionally(client: Callable[..., Any], resolved: list[str]) -> None:
    """ap-northeast-2 is not in the SDK legacy list: even legacy mode uses its Regional endpoint."""
    sts = client("sts", "ap-northeast-2", "legacy")
    response = sts.get_caller_identity()
    assert sts.sent == [("https://sts.ap-northeast-2.amazonaws.com/", "ap-northeast-2")]
    assert resolved == ["sts.ap-northeast-2.amazonaws.com"]
    assert serving_region(response) == "ap-northeast-2"


def test_legacy_mode_opt_in_region_is_regional_and_refused_until_enabled(client: Callable[..., Any],
                                                                         resolved: list[str]) -> None:
    """An opt-in Region (ap-southeast-3) also resolves regionally; the account has not enabled it,
    so its endpoint refuses the long-term key as AWS does."""
    sts = client("sts", "ap-southeast-3", "legacy")
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert sts.sent == [("https://sts.ap-southeast-3.amazonaws.com/", "ap-southeast-3")]
    assert resolved == ["sts.ap-southeast-3.amazonaws.com"]
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert serving_region(caught.value.response) == "ap-southeast-3"


def test_regional_us_east_1_is_not_the_global_endpoint(client: Callable[..., Any], resolved: list[str]) -> None:
    response = (sts := client("sts", "us-east-1", "regional")).get_caller_identity()
    assert sts.sent == [("https://sts.us-east-1.amazonaws.com/", "us-east-1")]
    assert serving_region(response) == "us-east-1"


@pytest.mark.parametrize(
    ("region", "config", "url"),
    [
        ("us-east-1", {"use_fips_endpoint": True}, "https://sts-fips.us-east-1.amazonaws.com/"),
        ("eu-west-1", {"use_dualstack_endpoint": True}, "https://sts.eu-west-1.api.aws/"),
        ("ca-central-1", {"use_fips_endpoint": True, "use_dualstack_endpoint": True},
         "https://sts-fips.ca-central-1.api.aws/"),
    ],
)
def test_fips_and_dual_stack_host_names(client: Callable[..., Any], resolved: list[str], region: str,
                                        config: dict[str, bool], url: str) -> None:
    sts = client("sts", region, "regional", **config)
    response = sts.get_caller_identity()
    assert sts.sent == [(url, region)]
    assert serving_region(response) == region


def test_iam_by_its_global_host_name(client: Callable[..., Any], resolved: list[str]) -> None:
    iam = client("iam", "eu-west-1")
    user = iam.get_user()["User"]
    assert iam.sent == [("https://iam.amazonaws.com/", "us-east-1")]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin"


def test_scope_must_match_the_host_names_region(client: Callable[..., Any], resolved: list[str]) -> None:
    """The endpoint comes from the host name, so a client signing for another Region is refused."""
    sts = client("sts", "us-west-2", endpoint_url="https://sts.eu-west-1.amazonaws.com")
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert sts.sent == [("https://sts.eu-west-1.amazonaws.com/", "us-west-2")]
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert serving_region(caught.value.response) == "eu-west-1"


def test_without_the_stsd_ca_tls_fails(resolved: list[str]) -> None:
    """verify=True: botocore's default trust store instead of AWS_CA_BUNDLE, so the handshake fails."""
    fresh = botocore.session.Session().create_client(
        "sts", region_name="eu-west-1", verify=True,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x" * 40,
        config=Config(retries={"max_attempts": 1}))
    with pytest.raises(SSLError):
        fresh.get_caller_identity()


@pytest.mark.parametrize(("mode", "host", "region"), [
    ("regional", "sts.eu-west-1.amazonaws.com", "eu-west-1"),
    ("legacy", "sts.amazonaws.com", "us-east-1"),
])
def test_aws_cli(tls_server: StsdServer, dns_port: int, ca: Path, tmp_path: Path, mode: str, host: str,
                 region: str) -> None:
    """`aws sts get-caller-identity --region eu-west-1`, no --endpoint-url: the AWS CLI picks the host
    name itself; a sitecustomize.py routes its name resolution through `stsd dns` like the tests above."""
    aws = Path(sys.executable).with_name("aws")
    if not aws.exists():
        pytest.skip("the AWS CLI is not installed in this environment")
    (tmp_path / "sitecustomize.py").write_text(
        f"import sys\nsys.path.insert(0, {str(HERE)!r})\nimport dnsroute\ndnsroute.install_from_env()\n"
    )
    seen = tmp_path / "resolved.txt"
    creds = tls_server.admins[ACCOUNT]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "PYTHONPATH": str(tmp_path),
        dnsroute.ENV_DNS_PORT: str(dns_port),
        dnsroute.ENV_HTTPS_PORT: str(tls_server.port),
        dnsroute.ENV_SEEN_FILE: str(seen),
        "AWS_CA_BUNDLE": str(ca / "ca.pem"),
        "AWS_STS_REGIONAL_ENDPOINTS": mode,
        "AWS_ACCESS_KEY_ID": creds.access_key_id,
        "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
    })
    done = subprocess.run(
        [sys.executable, str(aws), "sts", "get-caller-identity", "--region", "eu-west-1", "--output", "json",
         "--debug"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/admin"
    assert seen.read_text().split() == [host]
    assert f"url=https://{host}/" in done.stderr
    assert f"'x-stsd-serving-region': '{region}'" in done.stderr
