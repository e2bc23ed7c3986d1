"""The AWS CLI (awscli v1, as installed in the venv) against stsd's IAM: exact output."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from stsd.testing import Credentials, StsdServer
from tests.conftest import run_aws_cli
from tests.e2e.test_iam_support import ACCOUNT_A, ROLE_ID, USER_ID, trust, unique

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture(scope="module")
def aws(server: StsdServer, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("aws-home")

    def run(*args: str, creds: Credentials | None = None) -> subprocess.CompletedProcess[str]:
        return run_aws_cli(server, home, *args, creds=creds)

    return run


def test_cli_create_user_prints_the_user(aws: Any):
    name = unique("cli-user")
    result = aws("iam", "create-user", "--user-name", name, "--path", "/cli/")
    assert (result.returncode, result.stderr) == (0, "")
    out = json.loads(result.stdout)
    user = out["User"]
    assert list(out) == ["User"]
    assert list(user) == ["Path", "UserName", "UserId", "Arn", "CreateDate"]
    assert (user["Path"], user["UserName"], user["Arn"]) == ("/cli/", name, f"arn:aws:iam::{ACCOUNT_A}:user/cli/{name}")
    assert USER_ID.fullmatch(user["UserId"])
    assert TIMESTAMP.fullmatch(user["CreateDate"])
    # The CLI's own layout: four-space indentation, one trailing newline.
    assert result.stdout == json.dumps(out, indent=4) + "\n"

    listed = aws("iam", "list-users", "--path-prefix", "/cli/", "--query", "Users[].UserName", "--output", "text")
    assert (listed.returncode, listed.stdout) == (0, f"{name}\n")


def test_cli_error_output(aws: Any):
    ghost = unique("nope")
    result = aws("iam", "get-user", "--user-name", ghost)
    assert result.returncode == 255
    assert result.stdout == ""
    assert result.stderr == (f"\nAn error occurred (NoSuchEntity) when calling the GetUser operation: "
                             f"The user with name {ghost} cannot be found.\n")
    name = unique("twice")
    assert aws("iam", "create-user", "--user-name", name).returncode == 0
    again = aws("iam", "create-user", "--user-name", name.upper())
    assert (again.returncode, again.stderr) == (
        255, f"\nAn error occurred (EntityAlreadyExists) when calling the CreateUser operation: "
             f"User with name {name.upper()} already exists.\n")


def test_cli_role_documents_are_decoded(aws: Any, tmp_path: Path):
    name = unique("cli-role")
    policy = trust({"Service": "ec2.amazonaws.com"})
    document = tmp_path / "trust.json"
    document.write_text(policy)
    created = aws("iam", "create-role", "--role-name", name, "--assume-role-policy-document", f"file://{document}",
                  "--description", "from the CLI", "--max-session-duration", "7200")
    assert (created.returncode, created.stderr) == (0, "")
    role = json.loads(created.stdout)["Role"]
    assert ROLE_ID.fullmatch(role["RoleId"])
    assert role["AssumeRolePolicyDocument"] == json.loads(policy)
    got = json.loads(aws("iam", "get-role", "--role-name", name).stdout)["Role"]
    assert (got["Description"], got["MaxSessionDuration"], got["RoleLastUsed"]) == ("from the CLI", 7200, {})


def test_cli_account_summary_and_preferences(aws: Any):
    version = aws("iam", "get-account-summary", "--query", "SummaryMap.GlobalEndpointTokenVersion")
    assert version.returncode == 0
    assert version.stdout in ("1\n", "2\n")
    original = version.stdout.strip()
    try:
        done = aws("iam", "set-security-token-service-preferences", "--global-endpoint-token-version", "v2Token")
        assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
        assert aws("iam", "get-account-summary", "--query", "SummaryMap.GlobalEndpointTokenVersion").stdout == "2\n"
    finally:
        aws("iam", "set-security-token-service-preferences", "--global-endpoint-token-version", f"v{original}Token")
