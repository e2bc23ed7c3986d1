"""Web identity federation tests: one stsd server that trusts a test CA for OIDC issuers
(``--oidc-ca-file``), real issuers over TLS on loopback (tests.federation.issuer), boto3 clients
(signed for IAM, unsigned for AssumeRoleWithWebIdentity) and the AWS CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from stsd.testing import Credentials, StsdServer, start_server
from tests.federation.issuer import AUDIENCE, Issuer, TestCA

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
WEB_ACTION = "sts:AssumeRoleWithWebIdentity"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """The CA stsd is told to trust (``--oidc-ca-file``)."""
    return TestCA(tmp_path_factory.mktemp("oidc-ca"))


@pytest.fixture(scope="session")
def rogue_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """A CA nobody trusts."""
    return TestCA(tmp_path_factory.mktemp("rogue-ca"), label="rogue")


@pytest.fixture(scope="session")
def server(ca: TestCA) -> Iterator[StsdServer]:
    srv = start_server((ACCOUNT, OTHER_ACCOUNT), extra_args=("--oidc-ca-file", str(ca.root_pem), "--quota-rate", "0"),
                       env={"STSD_AUDIT_FLUSH_SECONDS": "0.2"})
    yield srv
    srv.cleanup()


@pytest.fixture(scope="session")
def iam(server: StsdServer) -> Any:
    return server.client("iam")


def sts_unsigned(server: StsdServer, region: str = "us-east-1", endpoint_url: str | None = None) -> Any:
    """An STS client that sends no credentials at all (as SDKs call AssumeRoleWithWebIdentity)."""
    return boto3.client("sts", region_name=region, endpoint_url=endpoint_url or server.endpoint_url,
                        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}))


@pytest.fixture(scope="session")
def sts(server: StsdServer) -> Any:
    return sts_unsigned(server)


@pytest.fixture(scope="session")
def issuer(ca: TestCA) -> Iterator[Issuer]:
    """A long-lived trusted issuer (tests that rotate keys or break things start their own)."""
    with Issuer(ca) as started:
        yield started


def create_provider(iam: Any, issuer: Issuer, client_ids: tuple[str, ...] = (AUDIENCE,),
                    thumbprints: tuple[str, ...] | None = None) -> str:
    kwargs: dict[str, Any] = {"Url": issuer.iss, "ClientIDList": list(client_ids)}
    if thumbprints is not None:
        kwargs["ThumbprintList"] = list(thumbprints)
    return iam.create_open_id_connect_provider(**kwargs)["OpenIDConnectProviderArn"]


@pytest.fixture(scope="session")
def provider(iam: Any, issuer: Issuer) -> str:
    return create_provider(iam, issuer)


def web_trust(issuer: Issuer, *, condition: dict[str, Any] | None = None,
              actions: tuple[str, ...] = (WEB_ACTION,), account: str = ACCOUNT) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::{account}:oidc-provider/{issuer.host_path}"},
        "Action": list(actions),
    }
    if condition is not None:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture(scope="session")
def make_role(server: StsdServer) -> Callable[..., str]:
    def make(trust: str, *, account: str = ACCOUNT, name: str | None = None, **extra: Any) -> str:
        client = server.client("iam", server.admins[account])
        return client.create_role(RoleName=name or unique("web"), AssumeRolePolicyDocument=trust,
                                  **extra)["Role"]["Arn"]

    return make


def error(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str, int]:
    """(Code, Message, HTTP status) of a call that must fail."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return response["Error"]["Code"], response["Error"].get("Message", ""), response["ResponseMetadata"][
        "HTTPStatusCode"]


def credentials_of(response: dict[str, Any], account: str = ACCOUNT) -> Credentials:
    c = response["Credentials"]
    return Credentials(account, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


def aws_cli(server: StsdServer, *args: str, credentials: Credentials | None = None,
            extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The AWS CLI (v1, from the venv) against the server; no credentials unless given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"})
    if credentials is not None:
        env.update({"AWS_ACCESS_KEY_ID": credentials.access_key_id,
                    "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key})
        if credentials.session_token:
            env["AWS_SESSION_TOKEN"] = credentials.session_token
    env.update(extra_env or {})
    cli = str(Path(sys.executable).with_name("aws"))
    return subprocess.run(
        [sys.executable, cli, "--endpoint-url", server.endpoint_url, "--output", "json", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
