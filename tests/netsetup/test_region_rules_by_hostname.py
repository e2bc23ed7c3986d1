"""The Region rules, end to end through the real STS host names over real TLS.

Unmodified botocore picks `https://sts.<region>.amazonaws.com` (or `https://sts.amazonaws.com`)
itself; names resolve through `stsd dns`, TLS is verified against `stsd ca`'s CA (fixtures of
test_netsetup_e2e). Region state is changed through the real store the server polls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from stsd.config import Settings
from stsd.server.runtime import Runtime
from stsd.testing import Credentials, StsdServer
from tests.netsetup import dnsroute
from tests.netsetup.test_netsetup_e2e import HERE, ca, dns_port, serving_region  # noqa: F401

A = "111100002222"
B = "333300004444"
TRUST_A = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}]})
MSG_DISABLED = ("STS is not activated in this region for account:{}. Your account administrator can activate "
                "STS in this region using the IAM Console.")


@pytest.fixture(scope="module")
def server(ca: Path) -> Iterator[StsdServer]:  # noqa: F811 - the imported fixture
    srv = StsdServer(accounts=(A, B), tls_cert=ca / "server.pem", tls_key=ca / "server-key.pem",
                     ca_file=ca / "ca.pem")
    try:
        srv.start()
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def store(server: StsdServer) -> Iterator[Runtime]:
    runtime = Runtime.open(Settings(data_dir=server.data_dir))
    yield runtime
    runtime.close()


@pytest.fixture
def botocore_client(monkeypatch: pytest.MonkeyPatch, server: StsdServer, dns_port: int,  # noqa: F811
                    ca: Path, tmp_path: Path) -> Iterator[Callable[..., Any]]:  # noqa: F811
    monkeypatch.setattr("socket.getaddrinfo", dnsroute.make_getaddrinfo(
        __import__("socket").getaddrinfo, dns_port=dns_port, https_port=server.port))
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca / "ca.pem"))
    for name in ("AWS_STS_REGIONAL_ENDPOINTS", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION",
                 "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    made: list[Any] = []

    def make(service: str, creds: Credentials, region: str, mode: str = "regional") -> Any:
        session = botocore.session.Session()
        session.set_config_variable("sts_regional_endpoints", mode)
        client = session.create_client(service, region_name=region, config=Config(retries={"total_max_attempts": 1}),
                                       aws_access_key_id=creds.access_key_id,
                                       aws_secret_access_key=creds.secret_access_key,
                                       aws_session_token=creds.session_token)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def eventually(check: Callable[[], Any], seconds: float = 6.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return check()
        except (AssertionError, ClientError, pytest.fail.Exception):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def error(call: Callable[..., Any], **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def session_of(response: dict[str, Any], account: str) -> Credentials:
    c = response["Credentials"]
    return Credentials(account, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


@pytest.fixture(scope="module")
def role_in_b(server: StsdServer) -> str:
    import boto3

    creds = server.admins[B]
    iam = boto3.client("iam", endpoint_url=server.endpoint_url, region_name="us-east-1", verify=str(server.ca_file),
                       aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key)
    return iam.create_role(RoleName="by-hostname", AssumeRolePolicyDocument=TRUST_A)["Role"]["Arn"]


def test_cross_account_credentials_need_the_role_accounts_region(botocore_client: Callable[..., Any],
                                                                 server: StsdServer, store: Runtime,
                                                                 role_in_b: str) -> None:
    sts = botocore_client("sts", server.admins[A], "eu-west-1")
    response = sts.assume_role(RoleArn=role_in_b, RoleSessionName="s1")
    assert serving_region(response) == "eu-west-1"
    store.regions.set_sts_active(A, "eu-west-1", False)  # the caller's account: does not matter
    try:
        eventually(lambda: sts.assume_role(RoleArn=role_in_b, RoleSessionName="s2"))
        store.regions.set_sts_active(B, "eu-west-1", False)  # the role's account: it does
        assert eventually(lambda: error(sts.assume_role, RoleArn=role_in_b, RoleSessionName="s3")) == (
            403, "RegionDisabledException", MSG_DISABLED.format(B))
        # sts.eu-west-2.amazonaws.com is another Region: unaffected.
        other = botocore_client("sts", server.admins[A], "eu-west-2")
        assert serving_region(other.assume_role(RoleArn=role_in_b, RoleSessionName="s4")) == "eu-west-2"
    finally:
        store.regions.set_sts_active(A, "eu-west-1", True)
        store.regions.set_sts_active(B, "eu-west-1", True)
    eventually(lambda: sts.assume_role(RoleArn=role_in_b, RoleSessionName="s5"))


def test_opt_in_region_enabled_by_one_account_and_v1_global_tokens(botocore_client: Callable[..., Any],
                                                                   server: StsdServer, store: Runtime) -> None:
    store.regions.set_opt_status(B, "ap-east-1", "ENABLED", None)
    try:
        hk_b = botocore_client("sts", server.admins[B], "ap-east-1")
        assert eventually(lambda: serving_region(hk_b.get_caller_identity())) == "ap-east-1"
        # Account A never enabled ap-east-1: its credentials do not exist there.
        hk_a = botocore_client("sts", server.admins[A], "ap-east-1")
        assert error(hk_a.get_caller_identity) == (
            403, "InvalidClientTokenId", "The security token included in the request is invalid.")
        # A v1 token from the global endpoint (legacy mode sends us-east-1 to sts.amazonaws.com) ...
        global_b = botocore_client("sts", server.admins[B], "us-east-1", mode="legacy")
        v1 = session_of(global_b.get_session_token(DurationSeconds=900), B)
        # ... works in a Region enabled by default, and is refused in the opt-in Region.
        assert botocore_client("sts", v1, "eu-west-1").get_caller_identity()["Account"] == B
        assert error(botocore_client("sts", v1, "ap-east-1").get_caller_identity) == (
            403, "InvalidClientTokenId", "The security token included in the request is invalid.")
        # A Regional token is valid everywhere, the opt-in Region included.
        regional = session_of(botocore_client("sts", server.admins[B], "eu-west-1").get_session_token(
            DurationSeconds=900), B)
        assert botocore_client("sts", regional, "ap-east-1").get_caller_identity()["Account"] == B
    finally:
        store.regions.set_opt_status(B, "ap-east-1", "DISABLED", None)


def test_quotas_of_regional_and_global_endpoints_do_not_interfere(botocore_client: Callable[..., Any],
                                                                  server: StsdServer, store: Runtime) -> None:
    store.regions.set_quota(B, "eu-west-3", "regional", 1, 1)
    try:
        regional = botocore_client("sts", server.admins[B], "eu-west-3")

        def throttled() -> tuple[int, str, str]:
            for _ in range(20):
                try:
                    regional.get_caller_identity()
                except ClientError as exc:
                    r = exc.response
                    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]
            raise AssertionError("never throttled")

        assert eventually(throttled) == (400, "Throttling", "Rate exceeded")
        # The global endpoint (sts.amazonaws.com) has its own bucket, and so does another Region.
        global_b = botocore_client("sts", server.admins[B], "us-east-1", mode="legacy")
        for _ in range(5):
            assert serving_region(global_b.get_caller_identity()) == "us-east-1"
        assert serving_region(botocore_client("sts", server.admins[B], "eu-west-2").get_caller_identity()) == (
            "eu-west-2")
    finally:
        store.regions.set_quota(B, "eu-west-3", "regional", 0, 0)


def test_aws_cli_gets_region_disabled_by_host_name(server: StsdServer, store: Runtime, dns_port: int,  # noqa: F811
                                                  ca: Path, tmp_path: Path, role_in_b: str) -> None:  # noqa: F811
    aws = Path(sys.executable).with_name("aws")
    (tmp_path / "sitecustomize.py").write_text(
        f"import sys\nsys.path.insert(0, {str(HERE)!r})\nimport dnsroute\ndnsroute.install_from_env()\n")
    creds = server.admins[A]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "PYTHONPATH": str(tmp_path), dnsroute.ENV_DNS_PORT: str(dns_port),
        dnsroute.ENV_HTTPS_PORT: str(server.port), dnsroute.ENV_SEEN_FILE: str(tmp_path / "seen.txt"),
        "AWS_CA_BUNDLE": str(ca / "ca.pem"), "AWS_STS_REGIONAL_ENDPOINTS": "regional",
        "AWS_ACCESS_KEY_ID": creds.access_key_id, "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1",
    })
    store.regions.set_sts_active(B, "eu-central-1", False)
    try:
        def refused() -> subprocess.CompletedProcess[str]:
            done = subprocess.run(
                [sys.executable, str(aws), "sts", "assume-role", "--region", "eu-central-1", "--role-arn", role_in_b,
                 "--role-session-name", "cli"], capture_output=True, text=True, env=env, timeout=60)
            assert done.returncode == 254 or done.returncode == 255, done.stdout
            return done

        done = eventually(refused, seconds=10)
        assert (tmp_path / "seen.txt").read_text().split() == ["sts.eu-central-1.amazonaws.com"] * len(
            (tmp_path / "seen.txt").read_text().split())
        assert ("An error occurred (RegionDisabledException) when calling the AssumeRole operation: "
                + MSG_DISABLED.format(B)) in done.stderr
    finally:
        store.regions.set_sts_active(B, "eu-central-1", True)
