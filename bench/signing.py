"""Pre-signed SigV4 request pools.

A SigV4 signature is bound to its ``X-Amz-Date`` (accepted for ±15 minutes) but not to a
single use, so a pool of signed requests can be replayed many times. Every pool is signed
fresh right before the run that uses it; long runs are split into chunks, each with a new
pool, so no request is ever older than a few minutes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

STS_VERSION = "2011-06-15"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
REGION = "us-east-1"
USER_AGENT = "stsd-bench/1"

GET_CALLER_IDENTITY = "GetCallerIdentity"
ASSUME_ROLE = "AssumeRole"
OPERATIONS = (GET_CALLER_IDENTITY, ASSUME_ROLE)
# A 200 body must contain this (checked for every response by the load generator).
RESULT_MARKER = {op: f"<{op}Result>".encode() for op in OPERATIONS}
# (request path, SigV4 scope Region): the bare endpoint, signed for us-east-1.
PLAIN = (("/", REGION),)
# stsd's path-prefix endpoints, each signed for its own Region (``/global/``: us-east-1).
REGION_MIX = (("/eu-west-1/", "eu-west-1"), ("/eu-west-2/", "eu-west-2"), ("/ap-northeast-1/", "ap-northeast-1"),
              ("/us-east-1/", "us-east-1"), ("/global/", "us-east-1"))
GLOBAL = (("/global/", "us-east-1"),)


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class SignedPool:
    operation: str
    host: str
    port: int
    requests: list[bytes]  # complete HTTP/1.1 requests, ready to write to a socket
    signed_at: float  # time.time()

    @property
    def age(self) -> float:
        return time.time() - self.signed_at


def form_body(operation: str, index: int, role_arn: str | None = None) -> bytes:
    params = {"Action": operation, "Version": STS_VERSION}
    if operation == ASSUME_ROLE:
        if role_arn is None:
            raise ValueError("AssumeRole needs a role ARN")
        params["RoleArn"] = role_arn
        params["RoleSessionName"] = f"bench-{index:06d}"
    elif operation != GET_CALLER_IDENTITY:
        raise ValueError(f"unsupported operation {operation}")
    return urlencode(params).encode()


def sign(keys: Keys, host: str, port: int, body: bytes, path: str = "/", region: str = REGION) -> bytes:
    """One POST to ``path`` signed for ``sts`` in ``region``, serialised as raw HTTP/1.1 bytes."""
    authority = f"{host}:{port}"
    request = AWSRequest(method="POST", url=f"http://{authority}{path}", data=body,
                         headers={"Content-Type": FORM})
    SigV4Auth(Credentials(keys.access_key_id, keys.secret_access_key), "sts", region).add_auth(request)
    lines = [f"POST {path} HTTP/1.1", f"Host: {authority}", f"User-Agent: {USER_AGENT}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()
              if name.lower() not in ("host", "content-length", "user-agent")]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def sign_pool(keys: Keys, host: str, port: int, operation: str, size: int,
              role_arn: str | None = None, endpoints: Sequence[tuple[str, str]] = PLAIN) -> SignedPool:
    """``size`` signed requests (AssumeRole: distinct RoleSessionNames) for one server, going
    round-robin over ``endpoints`` (path, Region) — by default all to ``/`` for us-east-1."""
    requests = [sign(keys, host, port, form_body(operation, i, role_arn), *endpoints[i % len(endpoints)])
                for i in range(size)]
    return SignedPool(operation, host, port, requests, time.time())
