"""The AWS CLI (awscli v1 in the venv) against stsd: output JSON and error text on stderr.

The CLI is slow to start, so every command of this module runs at once in a module fixture
and the tests only look at the results."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from stsd.testing import Credentials
from tests.conftest import trust
from tests.e2e.test_sts_helpers import (
    ACCOUNT_A,
    ASIA_RE,
    SECRET_RE,
    assumed_arn,
    role_id,
    session_credentials,
    sts_client,
    user_arn,
)

AWS = str(Path(sys.executable).with_name("aws"))


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def cli_env(creds: Credentials, config_file: str = os.devnull) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=creds.access_key_id, AWS_SECRET_ACCESS_KEY=creds.secret_access_key,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=config_file,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_PAGER="")
    if creds.session_token:
        env["AWS_SESSION_TOKEN"] = creds.session_token
    return env


@pytest.fixture(scope="module")
def runs(server, make_user, make_role, tmp_path_factory):
    user = make_user()
    role = make_role(trust({"AWS": user_arn(user)}))
    other = make_role(trust({"AWS": "210987654321"}))
    session = session_credentials(sts_client(server, user).assume_role(RoleArn=role, RoleSessionName="boto"),
                                  ACCOUNT_A)
    no_validation = tmp_path_factory.mktemp("cli") / "config"
    no_validation.write_text("[default]\nparameter_validation = false\n")
    base = [AWS, "--endpoint-url", server.endpoint_url, "--output", "json", "sts"]
    commands = {
        "assume": ([*base, "assume-role", "--role-arn", role, "--role-session-name", "cli-session",
                    "--duration-seconds", "900"], cli_env(user)),
        "denied": ([*base, "assume-role", "--role-arn", other, "--role-session-name", "cli-session"],
                   cli_env(user)),
        "whoami": ([*base, "get-caller-identity"], cli_env(session)),
        "invalid": ([*base, "assume-role", "--role-arn", role, "--role-session-name", "x",
                     "--duration-seconds", "43201"], cli_env(user, str(no_validation))),
        "gst": ([*base, "get-session-token"], cli_env(session)),
    }
    procs = {name: subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, (cmd, env) in commands.items()}
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        results[name] = Run(proc.returncode, out, err)
    return {"user": user, "role": role, "other": other, "session": session, **results}


def test_assume_role_output(server, runs):
    run = runs["assume"]
    assert (run.returncode, run.stderr) == (0, "")
    out = json.loads(run.stdout)
    assert list(out) == ["Credentials", "AssumedRoleUser"]
    assert out["AssumedRoleUser"] == {"AssumedRoleId": f"{role_id(server, runs['role'])}:cli-session",
                                      "Arn": assumed_arn(runs["role"], "cli-session")}
    creds = out["Credentials"]
    assert list(creds) == ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]
    assert re.fullmatch(ASIA_RE, creds["AccessKeyId"])
    assert re.fullmatch(SECRET_RE, creds["SecretAccessKey"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", creds["Expiration"])
    # The credentials the CLI printed work.
    minted = Credentials(ACCOUNT_A, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert sts_client(server, minted).get_caller_identity()["Arn"] == assumed_arn(runs["role"], "cli-session")


def test_assume_role_denied(runs):
    run = runs["denied"]
    assert (run.returncode, run.stdout) == (255, "")
    assert run.stderr == (
        "\nAn error occurred (AccessDenied) when calling the AssumeRole operation: "
        f"User: {user_arn(runs['user'])} is not authorized to perform: sts:AssumeRole on resource: {runs['other']}\n")


def test_get_caller_identity_with_session_credentials(server, runs):
    run = runs["whoami"]
    assert (run.returncode, run.stderr) == (0, "")
    assert json.loads(run.stdout) == {"UserId": f"{role_id(server, runs['role'])}:boto", "Account": ACCOUNT_A,
                                      "Arn": assumed_arn(runs["role"], "boto")}


def test_server_side_validation_through_the_cli(runs):
    run = runs["invalid"]
    assert (run.returncode, run.stdout) == (255, "")
    assert run.stderr == (
        "\nAn error occurred (ValidationError) when calling the AssumeRole operation: 2 validation errors detected: "
        "Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or "
        "equal to 2; Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less "
        "than or equal to 43200\n")


def test_get_session_token_with_session_credentials(runs):
    run = runs["gst"]
    assert (run.returncode, run.stdout) == (255, "")
    assert run.stderr == ("\nAn error occurred (AccessDenied) when calling the GetSessionToken operation: "
                          "Cannot call GetSessionToken with session credentials\n")
