"""Shared helpers for the IAM end-to-end tests (tests/e2e/test_iam_*.py). No tests here.

The expected texts below are AWS's, as recorded against live IAM (LocalStack's AWS-validated
snapshots, 2026) or quoted from real IAM responses in public issue trackers; each test file
names its sources next to the assertions that are less obvious.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stsd.testing import Credentials, StsdServer
from tests.conftest import ACCOUNT_A, ACCOUNT_B, allow, trust, unique

__all__ = ["ACCOUNT_A", "ACCOUNT_B", "allow", "trust", "unique"]

USER_ID = re.compile(r"AIDA[A-Z2-7]{17}")
ROLE_ID = re.compile(r"AROA[A-Z2-7]{17}")
POLICY_ID = re.compile(r"ANPA[A-Z2-7]{17}")
ACCESS_KEY_ID = re.compile(r"AKIA[A-Z2-7]{16}")
SECRET = re.compile(r"[A-Za-z0-9+/]{40}")

READ_ONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"

# IAM's own texts.
MSG_IAM_INVALID_TOKEN = "The security token included in the request is invalid"  # IAM: no period
MSG_STS_INVALID_TOKEN = "The security token included in the request is invalid."  # STS: with period
MSG_NON_USER = "Must specify userName when calling with non-User credentials"
MSG_BAD_NAME = (
    "The specified value for {member} is invalid. It must contain only alphanumeric characters "
    "and/or the following: +=,.@_-"
)
MSG_BAD_PATH = (
    "The specified value for path is invalid. It must begin and end with / and contain only "
    "alphanumeric characters and/or / characters."
)
MSG_BAD_PATH_PREFIX = (
    "The specified value for pathPrefix is invalid. It must begin with the / character and "
    "contain only alphanumeric characters and/or / characters."
)


def no_such_user(name: str) -> str:
    return f"The user with name {name} cannot be found."


def no_such_role(name: str) -> str:
    return f"The role with name {name} cannot be found."


def denied(caller_arn: str, action: str, shown: str, why: str | None = None) -> str:
    why = why or f"because no identity-based policy allows the {action} action"
    return f"User: {caller_arn} is not authorized to perform: {action} on resource: {shown} {why}"


def coral(member: str, constraint: str) -> str:
    """AWS's model-validation text as IAM sends it today: without the offending value
    ("Value at 'roleName' failed...", aws/eks-hybrid#113 (2024); LocalStack's IAM snapshots
    for 'tags', 'versionId', 'path' (2026))."""
    return f"1 validation error detected: Value at '{member}' failed to satisfy constraint: {constraint}"


def coral_any(member: str, constraint: str) -> re.Pattern[str]:
    """IAM's valueless validation text, exactly, as a pattern (for expect_error)."""
    return re.compile(re.escape(coral(member, constraint)))


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"].get("Message", ""),
    )


def expect_error(call: Callable[..., Any], code: str, status: int, message: str | re.Pattern[str],
                 /, **kwargs: Any) -> None:
    """``call(**kwargs)`` fails with exactly this Code, HTTP status and Message (or pattern)."""
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    got_code, got_status, got_message = error_of(excinfo)
    assert (got_code, got_status) == (code, status), got_message
    assert excinfo.value.response["Error"]["Type"] == "Sender"
    if isinstance(message, re.Pattern):
        assert message.fullmatch(got_message), got_message
    else:
        assert got_message == message


def assert_recent(moment: datetime, *, slack: timedelta = timedelta(minutes=5)) -> None:
    """A timezone-aware CreateDate close to now, whole seconds as IAM sends them."""
    assert moment.tzinfo is not None
    assert moment.microsecond == 0
    assert abs(datetime.now(UTC) - moment) < slack


def iam_client(server: StsdServer, creds: Credentials, **config: Any) -> Any:
    return server.client("iam", creds, **config)


# --- RFC 6238 TOTP for virtual MFA devices ---------------------------------------------
def totp(seed_b32: bytes | str, step: int) -> str:
    """The 6-digit HMAC-SHA1 code of a base32 seed (as Base32StringSeed gives it) at a step."""
    text = seed_b32.decode() if isinstance(seed_b32, bytes) else seed_b32
    key = base64.b32decode(text + "=" * (-len(text) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def settled_step(margin: float = 4.0) -> int:
    """The current 30-second step, after waiting out the end of a step if it is near, so that
    codes computed now are judged against the same step by the server."""
    if 30 - time.time() % 30 < margin:
        time.sleep(30 - time.time() % 30 + 0.2)
    return int(time.time()) // 30
