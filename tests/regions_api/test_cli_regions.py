"""``stsd regions`` / ``stsd quotas`` against the store of a running server: the server sees the
writes within about a second (its control-plane poll), hence ``eventually``.

Most commands run in-process through typer's CliRunner (a fresh interpreter costs seconds);
the deactivation scenario runs the real ``python -m stsd`` once.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from stsd.cli import app
from tests.regions_api.conftest import ACCOUNT_A, ACCOUNT_B, error_of, eventually, sts_at, unique

MSG_ALWAYS = "STS is always active in us-east-1; it cannot be activated or deactivated."


def region_disabled(account: str) -> str:
    return (f"STS is not activated in this region for account:{account}. Your account administrator can activate "
            "STS in this region using the IAM Console.")


@pytest.fixture(scope="module")
def cli(regions_server):
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(app, [*args, "--data-dir", str(regions_server.data_dir)])
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    return run


def regions_of(cli, account: str) -> dict[str, dict]:
    return {r["region"]: r for r in json.loads(cli("regions", "list", "--account-id", account, "--json").stdout)}


@pytest.fixture(scope="module")
def shared_role(regions_server):
    """A role in account A that accounts A and B may assume."""
    iam = regions_server.client("iam", regions_server.admins[ACCOUNT_A])
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
        "AWS": [f"arn:aws:iam::{ACCOUNT_A}:root", f"arn:aws:iam::{ACCOUNT_B}:root"]}}]}
    return iam.create_role(RoleName=unique("shared"), AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def test_deactivate_blocks_credentials_for_the_account(regions_server, cli, shared_role):
    sts_a = sts_at(regions_server, regions_server.admins[ACCOUNT_A], "eu-west-1")
    sts_b = sts_at(regions_server, regions_server.admins[ACCOUNT_B], "eu-west-1")
    assume = {"RoleArn": shared_role, "RoleSessionName": "cli"}
    assert sts_a.assume_role(**assume)["AssumedRoleUser"]["Arn"].endswith("/cli")

    # The real entry point, once.
    out = subprocess.run([sys.executable, "-m", "stsd", "regions", "deactivate", "--account-id", ACCOUNT_A,
                          "eu-west-1", "--data-dir", str(regions_server.data_dir)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert (out.returncode, out.stdout, out.stderr) == (
        0, "eu-west-1: STS deactivated (opt status ENABLED_BY_DEFAULT, STS inactive)\n", "")
    try:
        expected = (403, "RegionDisabledException", region_disabled(ACCOUNT_A))
        eventually(lambda: _fails(lambda: sts_a.assume_role(**assume), expected))
        # The role's account issues the credentials: a caller from B is refused too ...
        assert error_of(lambda: sts_b.assume_role(**assume)) == expected
        # ... while B's own credentials are still issued there, and A's elsewhere.
        assert sts_b.get_session_token()["Credentials"]["AccessKeyId"].startswith("ASIA")
        assert sts_at(regions_server, regions_server.admins[ACCOUNT_A], "eu-west-2").assume_role(**assume)
        assert regions_of(cli, ACCOUNT_A)["eu-west-1"] == {
            "region": "eu-west-1", "name": "Europe (Ireland)", "optIn": False, "optStatus": "ENABLED_BY_DEFAULT",
            "stsActive": False, "stsDeactivatable": True}
    finally:
        result = cli("regions", "activate", "--account-id", ACCOUNT_A, "eu-west-1")
    assert result.stdout == "eu-west-1: STS activated (opt status ENABLED_BY_DEFAULT, STS active)\n"
    eventually(lambda: sts_a.assume_role(**assume))
    assert sts_b.assume_role(**assume)["AssumedRoleUser"]["Arn"].endswith("/cli")


def _fails(call, expected) -> None:
    assert error_of(call) == expected


@pytest.mark.parametrize(("command", "region", "message"), [
    ("deactivate", "us-east-1", MSG_ALWAYS),
    ("activate", "us-east-1", MSG_ALWAYS),
    ("deactivate", "ap-southeast-3", "ap-southeast-3 is an opt-in Region. Enabling an opt-in Region activates STS "
                                      "there; it cannot be deactivated. Enable or disable the Region instead."),
    ("deactivate", "cn-northwest-1", "Region cn-northwest-1 does not exist in the aws partition."),
    ("deactivate", "moon-base-1", "Region moon-base-1 does not exist in the aws partition."),
])
def test_refused_activation_changes(cli, command, region, message):
    before = regions_of(cli, ACCOUNT_A)
    result = cli("regions", command, "--account-id", ACCOUNT_A, region, code=1)
    assert (result.stdout, result.stderr) == ("", f"error: {message}\n")
    assert regions_of(cli, ACCOUNT_A) == before


def test_unknown_account(cli):
    result = cli("regions", "list", "--account-id", "999999999999", code=1)
    assert result.stderr == "error: No such account: 999999999999.\n"
    result = cli("regions", "list", "--account-id", "12", code=1)
    assert result.stderr == "error: Invalid account id '12': it must be 12 digits.\n"


def test_enable_and_disable_opt_in_regions(cli):
    args = ("--account-id", ACCOUNT_B, "eu-south-2", "--transition-seconds", "0")
    assert cli("regions", "enable", *args).stdout == "eu-south-2: enabling (opt status ENABLED, STS active)\n"
    assert regions_of(cli, ACCOUNT_B)["eu-south-2"] == {
        "region": "eu-south-2", "name": "Europe (Spain)", "optIn": True, "optStatus": "ENABLED", "stsActive": True,
        "stsDeactivatable": False}
    result = cli("regions", "enable", *args, code=1)
    assert result.stderr == "error: Unable to switch region status because of its current opt-in status.\n"
    result = cli("regions", "disable", "--account-id", ACCOUNT_B, "eu-south-2", "--transition-seconds", "30")
    assert result.stdout == "eu-south-2: disabling (opt status DISABLING, STS inactive)\n"
    result = cli("regions", "enable", *args, code=1)
    assert result.stderr == (f"error: Account {ACCOUNT_B} and region eu-south-2 is currently being enabled or "
                             "disabled. Please wait until it finishes and then try again.\n")
    assert regions_of(cli, ACCOUNT_B)["eu-south-2"]["optStatus"] == "DISABLING"


def test_fail_and_restore(regions_server, cli):
    sts = sts_at(regions_server, regions_server.admins[ACCOUNT_B], "eu-west-3")
    result = cli("regions", "fail", "eu-west-3", "--mode", "error5xx")
    assert result.stdout == "eu-west-3: simulating 'error5xx'\n"
    try:
        assert json.loads(cli("regions", "faults", "--json").stdout) == [
            {"region": "eu-west-3", "mode": "error5xx", "delayMs": 0}]
        eventually(lambda: _fails(sts.get_caller_identity,
                                  (503, "ServiceUnavailable", "Service is unavailable. Please try again later.")))
        result = cli("regions", "fail", "eu-west-3", "--mode", "melt", code=1)
        assert result.stderr == ("error: Unknown fault mode 'melt': expected one of down, slow, error5xx, "
                                 "throttle.\n")
    finally:
        result = cli("regions", "restore", "eu-west-3")
    assert result.stdout == "removed 1 simulated fault(s)\n"
    assert json.loads(cli("regions", "faults", "--json").stdout) == []
    assert eventually(sts.get_caller_identity)["Account"] == ACCOUNT_B


def test_quotas(regions_server, cli):
    set_args = ("quotas", "set", "--account-id", ACCOUNT_B, "--region", "eu-north-1", "--endpoint-type", "regional")
    result = cli(*set_args, "--rate", "1")
    assert result.stdout == f"account {ACCOUNT_B}, Region eu-north-1, endpoint type regional: 1/s, burst 1\n"
    assert json.loads(cli("quotas", "list", "--account-id", ACCOUNT_B, "--json").stdout) == [
        {"accountId": ACCOUNT_B, "region": "eu-north-1", "endpointType": "regional", "rate": 1, "burst": 1}]
    sts = sts_at(regions_server, regions_server.admins[ACCOUNT_B], "eu-north-1")
    try:
        def throttled() -> None:
            results = []
            for _ in range(3):
                try:
                    sts.get_caller_identity()
                    results.append("ok")
                except ClientError as error:
                    results.append(error.response["Error"])
            assert {"Code": "Throttling", "Message": "Rate exceeded", "Type": "Sender"} in results

        eventually(throttled)
    finally:
        cli(*set_args, "--rate", "0")
    assert eventually(sts.get_caller_identity)["Account"] == ACCOUNT_B
    result = cli("quotas", "set", "--account-id", ACCOUNT_B, "--region", "*", "--endpoint-type", "fast", "--rate",
                 "5", code=1)
    assert result.stderr == "error: Unknown endpoint type 'fast': expected one of global, regional, *.\n"
