"""Shared helpers for the STS end-to-end tests (tests/e2e/test_sts_*.py). No tests here.

Everything talks to the real session server (``server`` fixture): boto3 clients for the
ordinary calls, raw SigV4-signed httpx requests (botocore's signer) when the bytes matter.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError

from stsd.testing import Credentials, StsdServer
from tests.conftest import ACCOUNT_A, ACCOUNT_B, session_credentials, unique

__all__ = ["ACCOUNT_A", "ACCOUNT_B", "session_credentials", "unique"]

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ASIA_RE = r"ASIA[A-Z2-7]{16}"
# The <Credentials> element of a response as STS lays it out (a regular expression, indented
# for its place inside <…Result>).
CREDENTIALS_XML = (
    "    <Credentials>\n"
    f"      <AccessKeyId>{ASIA_RE}</AccessKeyId>\n"
    "      <SecretAccessKey>[A-Za-z0-9+/=]{40}</SecretAccessKey>\n"
    "      <SessionToken>[A-Za-z0-9+/=]+</SessionToken>\n"
    r"      <Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</Expiration>" "\n"
    "    </Credentials>\n"
)
SECRET_RE = r"[A-Za-z0-9+/=]{40}"
SESSION_NAME_PATTERN = r"[\w+=,.@-]*"

MSG_INVALID_TOKEN = "The security token included in the request is invalid."
MSG_EXPIRED_TOKEN = "The security token included in the request is expired"
MSG_MAX_SESSION = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
MSG_CHAINED = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
)
MSG_ROOT = "Roles may not be assumed by root accounts."
MSG_GST_SESSION = "Cannot call GetSessionToken with session credentials"
MSG_SOURCE_IDENTITY_SET = "The source identity is already set for this assume role session"
MSG_MFA_BAD_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
MSG_MFA_BAD_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA "
    "serial number is valid and associated with this user."
)
MSG_DUPLICATE_TAGS = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
MSG_TRANSITIVE_NOT_IN_TAGS = "The specified transitive tag key must be included in the requested tags."
MSG_TRANSITIVE_CONFLICT = (
    "One of the specified transitive tag keys can't be set because it conflicts with a transitive "
    "tag key from the calling session."
)

# An account used only by the STS tests for root credentials (IAM allows two keys per
# principal, so the key is made once per server and shared).
ROOT_ACCOUNT = "731731731731"


# --- errors -----------------------------------------------------------------------------------


def error_of(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """Call a boto3 operation that must fail; returns {status, Type, Code, Message}."""
    try:
        call(**kwargs)
    except ClientError as exc:
        error = exc.response["Error"]
        out = {"status": exc.response["ResponseMetadata"]["HTTPStatusCode"], "Type": error.get("Type"),
               "Code": error.get("Code")}
        if "Message" in error:
            out["Message"] = error["Message"]
        return out
    raise AssertionError(f"{call.__name__} succeeded; an error was expected")


def aws_error(status: int, code: str, message: str | None = None, type_: str = "Sender") -> dict[str, Any]:
    out: dict[str, Any] = {"status": status, "Type": type_, "Code": code}
    if message is not None:
        out["Message"] = message
    return out


def denied(caller_arn: str, action: str, resource: str) -> dict[str, Any]:
    return aws_error(403, "AccessDenied", f"User: {caller_arn} is not authorized to perform: {action} "
                                          f"on resource: {resource}")


def validation(*problems: str) -> dict[str, Any]:
    noun = "error" if len(problems) == 1 else "errors"
    return aws_error(400, "ValidationError",
                     f"{len(problems)} validation {noun} detected: " + "; ".join(problems))


def problem(value: str | None, member: str, constraint: str) -> str:
    shown = "null" if value is None else f"'{value}'"
    return f"Value {shown} at '{member}' failed to satisfy constraint: {constraint}"


def pattern_problem(value: str, member: str, pattern: str = SESSION_NAME_PATTERN) -> str:
    return problem(value, member, f"Member must satisfy regular expression pattern: {pattern}")


def max_len_problem(value: str, member: str, limit: int) -> str:
    return problem(value, member, f"Member must have length less than or equal to {limit}")


def min_len_problem(value: str, member: str, limit: int) -> str:
    return problem(value, member, f"Member must have length greater than or equal to {limit}")


# --- clients ----------------------------------------------------------------------------------


def sts_client(server: StsdServer, creds: Credentials, *, validate: bool = True) -> Any:
    if validate:
        return server.client("sts", creds)
    return server.client("sts", creds, parameter_validation=False)


def iam_client(server: StsdServer, account: str = ACCOUNT_A) -> Any:
    return server.client("iam", server.admins[account])


def role_name(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[1]


def role_id(server: StsdServer, role_arn: str) -> str:
    account = role_arn.split(":")[4]
    return iam_client(server, account).get_role(RoleName=role_name(role_arn))["Role"]["RoleId"]


def user_arn(creds: Credentials) -> str:
    return f"arn:aws:iam::{creds.account_id}:user/{creds.user_name}"


def assumed_arn(role_arn: str, session: str) -> str:
    account = role_arn.split(":")[4]
    return f"arn:aws:sts::{account}:assumed-role/{role_name(role_arn)}/{session}"


def put_role_policy(server: StsdServer, role_arn: str, document: str) -> None:
    account = role_arn.split(":")[4]
    iam_client(server, account).put_role_policy(RoleName=role_name(role_arn), PolicyName="p",
                                                PolicyDocument=document)


# --- raw HTTP ---------------------------------------------------------------------------------


def signed_request(server: StsdServer, params: Mapping[str, str] | str, creds: Credentials, *,
                   headers: Mapping[str, str] | None = None, client: httpx.Client | None = None,
                   secret: str | None = None) -> httpx.Response:
    """POST a form body signed with botocore's SigV4 (``secret`` overrides the signing key)."""
    body = params if isinstance(params, str) else urlencode(dict(params))
    url = server.endpoint_url + "/"
    request = AWSRequest(method="POST", url=url, data=body.encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", **(headers or {})})
    boto_creds = BotoCredentials(creds.access_key_id, secret or creds.secret_access_key, creds.session_token)
    SigV4Auth(boto_creds, "sts", "us-east-1").add_auth(request)
    send = client.post if client is not None else httpx.post
    return send(url, content=request.body, headers=dict(request.headers.items()))


def assume_role_params(role_arn: str, session: str = "session", **extra: str) -> dict[str, str]:
    return {"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": role_arn,
            "RoleSessionName": session, **extra}


# --- MFA (RFC 6238, HMAC-SHA1, 6 digits, 30 s) -------------------------------------------------


def totp(seed: bytes, step: int) -> str:
    digest = hmac.new(seed, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def current_step() -> int:
    return int(time.time()) // 30


@dataclass
class MfaUser:
    creds: Credentials
    serial: str
    seed: bytes
    enabled_step: int  # the last code used (by EnableMFADevice)

    def next_code(self) -> str:
        """The first code the device has not used yet (valid now: one step of drift is allowed)."""
        return totp(self.seed, self.enabled_step + 1)

    def wrong_code(self) -> str:
        valid = {totp(self.seed, s) for s in range(self.enabled_step - 2, self.enabled_step + 4)}
        return next(c for c in ("000000", "111111", "222222", "123456") if c not in valid)


def make_mfa_user(server: StsdServer, make_user: Callable[..., Credentials], policy: str | None = None,
                  account: str = ACCOUNT_A) -> MfaUser:
    """A user with an enabled virtual MFA device (codes computed from Base32StringSeed)."""
    creds = make_user(account=account, policy=policy)
    iam = iam_client(server, account)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=unique("mfa"))["VirtualMFADevice"]
    seed = base64.b32decode(device["Base32StringSeed"])
    step = current_step()
    iam.enable_mfa_device(UserName=creds.user_name, SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step))
    return MfaUser(creds, device["SerialNumber"], seed, step)


# --- root -------------------------------------------------------------------------------------

_ROOTS: dict[int, Credentials] = {}


def root_credentials(server: StsdServer) -> Credentials:
    """Root access key of ROOT_ACCOUNT, made once per server and waited for (the running server
    picks up writes made by ``stsd init`` on its next cache poll)."""
    if id(server) not in _ROOTS:
        creds = server.init_account(ROOT_ACCOUNT, root_key=True)
        sts = server.client("sts", creds)
        deadline = time.monotonic() + 10
        while True:
            try:
                sts.get_caller_identity()
                break
            except ClientError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        _ROOTS[id(server)] = creds
    return _ROOTS[id(server)]
