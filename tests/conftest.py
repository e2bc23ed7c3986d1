"""Shared fixtures: one real stsd server per test session (see stsd.testing), plus helpers
to create IAM users and roles through the real IAM API with boto3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stsd.testing import Credentials, StsdServer

ACCOUNT_A = "123456789012"
ACCOUNT_B = "210987654321"


@pytest.fixture(scope="session")
def server() -> StsdServer:
    srv = StsdServer(accounts=(ACCOUNT_A, ACCOUNT_B))
    srv.start()
    yield srv
    srv.cleanup()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


AWS_CLI = Path(sys.executable).with_name("aws")  # the AWS CLI installed in the test venv


def run_aws_cli(server: StsdServer, home: Path, *args: str,
                creds: Credentials | None = None) -> subprocess.CompletedProcess[str]:
    """``aws --endpoint-url <server> ARGS`` with only the given credentials (no config files, no
    pager, us-east-1), as a user would run it."""
    creds = creds or server.admins[ACCOUNT_A]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"),
        "AWS_ACCESS_KEY_ID": creds.access_key_id,
        "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
    }
    return subprocess.run([str(AWS_CLI), "--endpoint-url", server.endpoint_url, *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def listed(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of an IAM listing, through all its pages (the shared server holds more users,
    roles and policies than one page of 100)."""
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page[key]]


def trust(principal: Any, actions: Any = "sts:AssumeRole", condition: dict | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": actions}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def allow(actions: Any, resource: Any = "*") -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}
    )


@pytest.fixture(scope="session")
def iam_a(server: StsdServer) -> Any:
    return server.client("iam", server.admins[ACCOUNT_A])


@pytest.fixture(scope="session")
def iam_b(server: StsdServer) -> Any:
    return server.client("iam", server.admins[ACCOUNT_B])


@pytest.fixture(scope="session")
def make_user(server: StsdServer) -> Callable[..., Credentials]:
    """Create an IAM user (optionally with an inline policy) and an access key for it."""

    def _make(account: str = ACCOUNT_A, policy: str | None = None, name: str | None = None) -> Credentials:
        iam = server.client("iam", server.admins[account])
        name = name or unique("user")
        iam.create_user(UserName=name)
        if policy:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return Credentials(account, key["AccessKeyId"], key["SecretAccessKey"], user_name=name)

    return _make


@pytest.fixture(scope="session")
def make_role(server: StsdServer) -> Callable[..., str]:
    """Create a role with the given trust policy; returns its ARN."""

    def _make(trust_policy: str, account: str = ACCOUNT_A, name: str | None = None, **extra: Any) -> str:
        iam = server.client("iam", server.admins[account])
        return iam.create_role(RoleName=name or unique("role"), AssumeRolePolicyDocument=trust_policy,
                               **extra)["Role"]["Arn"]

    return _make


def session_credentials(response: dict[str, Any], account: str) -> Credentials:
    c = response["Credentials"]
    return Credentials(account, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
