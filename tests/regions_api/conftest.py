"""One real stsd server for the Region management suite: two accounts, Region transitions of
one second, plus helpers (IAM users, STS clients at path-prefix endpoints, signed admin calls)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError

from stsd.bootstrap import init_account
from stsd.config import Settings
from stsd.server.runtime import Runtime
from stsd.testing import Credentials, StsdServer

ACCOUNT_A = "123456789012"
ACCOUNT_B = "210987654321"
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})
DEFAULT_REGIONS = (
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
    "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
)
OPT_IN_REGIONS = (
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
    "me-central-1", "me-south-1", "me-west-1", "mx-central-1", "sa-west-1",
)


@pytest.fixture(scope="package")
def regions_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StsdServer]:
    # The accounts are initialised in-process: every fresh interpreter costs seconds.
    data_dir = tmp_path_factory.mktemp("stsd-regions")
    runtime = Runtime.open(Settings(data_dir=data_dir))
    try:
        created = [init_account(runtime, account) for account in (ACCOUNT_A, ACCOUNT_B)]
    finally:
        runtime.close()
    admins = {c.AccountId: Credentials(c.AccountId, c.AccessKeyId, c.SecretAccessKey, user_name=c.UserName)
              for c in created}
    srv = StsdServer(data_dir=data_dir, accounts=(ACCOUNT_A, ACCOUNT_B), admins=admins,
                     extra_args=("--region-transition-seconds", "1"))
    srv.start()
    yield srv
    srv.cleanup()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def policy(actions: Any, condition: dict | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture(scope="package")
def make_user(regions_server: StsdServer) -> Callable[..., Credentials]:
    """An IAM user with an optional inline policy, and an access key for it."""

    def _make(account: str = ACCOUNT_A, inline: str | None = None) -> Credentials:
        iam = regions_server.client("iam", regions_server.admins[account])
        name = unique("user")
        iam.create_user(UserName=name)
        if inline:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=inline)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return Credentials(account, key["AccessKeyId"], key["SecretAccessKey"], user_name=name)

    return _make


def client(server: StsdServer, service: str, creds: Credentials, region: str = "us-east-1",
           endpoint_url: str | None = None) -> Any:
    """A boto3 client that never retries (a retried throttle could find a refilled bucket)."""
    return boto3.client(service, endpoint_url=endpoint_url or server.endpoint_url, region_name=region,
                        config=NO_RETRIES, **creds.as_boto())


def sts_at(server: StsdServer, creds: Credentials, region: str) -> Any:
    """STS at the path-prefix endpoint of ``region`` (``http://host:port/<region>/``)."""
    return client(server, "sts", creds, region, f"{server.endpoint_url}/{region}/")


def error_of(call: Callable[[], Any]) -> tuple[int, str, str]:
    """(HTTP status, code, message) of a call that must fail."""
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def eventually(check: Callable[[], Any], timeout: float = 6.0, interval: float = 0.1) -> Any:
    """Retry ``check`` until it stops raising (the server polls the store about every second)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, ClientError, pytest.fail.Exception):
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)


def signed_request(server: StsdServer, creds: Credentials, method: str, path: str, body: Any = None, *,
                   service: str = "stsd", region: str = "us-east-1", raw: bytes | None = None) -> httpx.Response:
    """An HTTP request signed with botocore's SigV4Auth, sent with httpx."""
    url = server.endpoint_url + path
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    request = AWSRequest(method=method, url=url, data=data, headers={"Content-Type": "application/json"})
    boto_creds = BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token)
    SigV4Auth(boto_creds, service, region).add_auth(request)
    return httpx.request(method, url, headers=dict(request.headers.items()), content=data, timeout=10)
