"""Server lifecycle: key rotation without logging anybody out, revocation of older role
sessions, emulator mode, and the CLI a newcomer uses."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stsd.testing import Credentials, StsdServer
from tests.conftest import allow, session_credentials, trust

ACCOUNT = "111122223333"


@pytest.fixture(scope="module")
def own_server() -> Iterator[StsdServer]:
    server = StsdServer(accounts=(ACCOUNT,))
    server.start()
    yield server
    server.cleanup()


def eventually(check: Any, seconds: float = 5.0) -> Any:
    """Writes made by another process reach a running server within its poll interval."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return check()
        except (AssertionError, ClientError, pytest.fail.Exception):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def assume(server: StsdServer, creds: Credentials, role_arn: str, name: str = "s1") -> Credentials:
    response = server.client("sts", creds).assume_role(RoleArn=role_arn, RoleSessionName=name)
    return session_credentials(response, ACCOUNT)


def key_id_of(token: str) -> int:
    import base64

    return int.from_bytes(base64.b64decode(token)[2:4], "big")


def test_key_rotation_keeps_old_sessions_valid(own_server: StsdServer) -> None:
    admin = own_server.admins[ACCOUNT]
    iam = own_server.client("iam", admin)
    arn = iam.create_role(RoleName="rotate", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]["Arn"]
    before = assume(own_server, admin, arn)
    old_key = key_id_of(before.session_token or "")

    out = own_server.run_cli("keys", "rotate")
    assert "new active key ids" in out

    def sealed_with_new_key() -> Credentials:
        fresh = assume(own_server, admin, arn)
        assert key_id_of(fresh.session_token or "") != old_key
        return fresh

    fresh = eventually(sealed_with_new_key)
    for creds in (before, fresh):
        identity = own_server.client("sts", creds).get_caller_identity()
        assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/rotate/s1"
    listing = own_server.run_cli("keys", "list")
    assert "retired (opens old tokens)" in listing
    # Purging now removes nothing: retired keys live until their longest session expired.
    assert "purged 0 retired key(s)" in own_server.run_cli("keys", "purge")
    assert own_server.client("sts", before).get_caller_identity()["Account"] == ACCOUNT


def test_revoke_older_sessions(own_server: StsdServer) -> None:
    admin = own_server.admins[ACCOUNT]
    iam = own_server.client("iam", admin)
    arn = iam.create_role(RoleName="revoke-me", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]["Arn"]
    target = iam.create_role(RoleName="next-hop", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]["Arn"]
    iam.put_role_policy(RoleName="revoke-me", PolicyName="hop", PolicyDocument=allow("sts:AssumeRole", target))
    old = assume(own_server, admin, arn, "old")
    own_server.client("sts", old).assume_role(RoleArn=target, RoleSessionName="works")

    out = own_server.run_cli("roles", "revoke-sessions", "--role", "revoke-me", "--account-id", ACCOUNT)
    assert "are revoked" in out

    def denied() -> None:
        with pytest.raises(ClientError) as caught:
            own_server.client("sts", old).assume_role(RoleArn=target, RoleSessionName="blocked")
        assert caught.value.response["Error"]["Code"] == "AccessDenied"
        assert caught.value.response["Error"]["Message"] == (
            f"User: arn:aws:sts::{ACCOUNT}:assumed-role/revoke-me/old is not authorized to perform: "
            f"sts:AssumeRole on resource: {target}"
        )

    eventually(denied)
    # GetCallerIdentity needs no permission, so it still answers (as on AWS).
    assert own_server.client("sts", old).get_caller_identity()["Account"] == ACCOUNT
    policy = iam.get_role_policy(RoleName="revoke-me", PolicyName="AWSRevokeOlderSessions")["PolicyDocument"]
    assert policy["Statement"][0]["Effect"] == "Deny"
    assert "aws:TokenIssueTime" in policy["Statement"][0]["Condition"]["DateLessThan"]
    time.sleep(1.1)  # a session issued after the cut-off second is not affected
    new = assume(own_server, admin, arn, "new")
    own_server.client("sts", new).assume_role(RoleArn=target, RoleSessionName="works-again")


def test_emulator_mode_accepts_any_credentials() -> None:
    with StsdServer(emulator=True) as server:
        anyone = Credentials("000000000000", "444455556666", "whatever")
        sts = server.client("sts", anyone)
        identity = sts.get_caller_identity()
        assert (identity["Account"], identity["Arn"], identity["UserId"]) == (
            "444455556666", "arn:aws:iam::444455556666:root", "444455556666")
        # Roles need not exist; the rest behaves as in strict mode.
        other = Credentials("000000000000", "AKIAEMULATORTESTKEY1", "whatever")
        response = server.client("sts", other).assume_role(
            RoleArn="arn:aws:iam::777788889999:role/made-up", RoleSessionName="emu")
        assert response["AssumedRoleUser"]["Arn"] == "arn:aws:sts::777788889999:assumed-role/made-up/emu"
        session = session_credentials(response, "777788889999")
        assert server.client("sts", session).get_caller_identity()["Arn"] == (
            "arn:aws:sts::777788889999:assumed-role/made-up/emu")
        with pytest.raises(ClientError) as caught:
            server.client("sts", anyone).assume_role(RoleArn="nothing-valid-in-here", RoleSessionName="emu")
        assert caught.value.response["Error"]["Message"] == "nothing-valid-in-here is invalid"
        server.cleanup()


def test_cli_help_and_init_json(tmp_path: Any) -> None:
    help_text = subprocess.run([sys.executable, "-m", "stsd", "--help"], capture_output=True, text=True,
                               check=True).stdout
    for command in ("serve", "init", "keys", "roles"):
        assert command in help_text
    out = subprocess.run([sys.executable, "-m", "stsd", "init", "--data-dir", str(tmp_path), "--account-id",
                          "999988887777", "--json"], capture_output=True, text=True, check=True).stdout
    creds = json.loads(out)
    assert list(creds) == ["AccountId", "UserName", "AccessKeyId", "SecretAccessKey"]
    assert creds["AccountId"] == "999988887777"
    assert creds["UserName"] == "admin"
    assert creds["AccessKeyId"].startswith("AKIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40
    bad = subprocess.run([sys.executable, "-m", "stsd", "init", "--data-dir", str(tmp_path), "--account-id",
                          "12345"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "must be 12 digits" in bad.stderr


def test_writes_reach_every_worker() -> None:
    """With several workers, an IAM write through one is visible in all within the poll
    interval: a new key authenticates on every connection afterwards."""
    with StsdServer(accounts=(ACCOUNT,), extra_args=("--workers", "2")) as server:
        iam = server.client("iam", server.admins[ACCOUNT])
        iam.create_user(UserName="multi")
        key = iam.create_access_key(UserName="multi")["AccessKey"]
        creds = Credentials(ACCOUNT, key["AccessKeyId"], key["SecretAccessKey"])

        def all_workers_know_it() -> None:
            # Fresh clients open fresh connections, which the kernel spreads over workers.
            for _ in range(12):
                arn = server.client("sts", creds).get_caller_identity()["Arn"]
                assert arn == f"arn:aws:iam::{ACCOUNT}:user/multi"

        eventually(all_workers_know_it, seconds=10)
        server.cleanup()
