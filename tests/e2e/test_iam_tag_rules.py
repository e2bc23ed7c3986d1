"""IAM tag keys are case-insensitive: two tags whose keys differ only in case (or not at all)
are refused with 400 InvalidInput "Duplicate tag keys found. Please note that Tag keys are case
insensitive." (IAM's tagging text, quoted in shared/reference/aws-sts-behaviour.md), and nothing
is created. STS session tags have their own rule (tests/e2e/test_sts_session_features.py).
"""

from __future__ import annotations

import pytest

from tests.e2e.test_iam_support import ACCOUNT_A, allow, coral, expect_error, no_such_role, no_such_user, trust, unique

MSG_DUPLICATE = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
TRUST = trust({"Service": "ec2.amazonaws.com"})

DUPLICATES = [
    [{"Key": "Env", "Value": "prod"}, {"Key": "env", "Value": "dev"}],
    [{"Key": "team", "Value": "a"}, {"Key": "team", "Value": "a"}],
    [{"Key": "a", "Value": "1"}, {"Key": "CostCenter", "Value": "2"}, {"Key": "COSTCENTER", "Value": "3"}],
    [{"Key": "Ünïcode", "Value": ""}, {"Key": "üNÏCODE", "Value": ""}],
]


@pytest.mark.parametrize("tags", DUPLICATES)
def test_create_role_refuses_duplicate_keys(iam_a, tags):
    name = unique("tagged")
    expect_error(iam_a.create_role, "InvalidInput", 400, MSG_DUPLICATE, RoleName=name,
                 AssumeRolePolicyDocument=TRUST, Tags=tags)
    expect_error(iam_a.get_role, "NoSuchEntity", 404, no_such_role(name), RoleName=name)


@pytest.mark.parametrize("tags", DUPLICATES)
def test_create_user_refuses_duplicate_keys(iam_a, tags):
    name = unique("tagged")
    expect_error(iam_a.create_user, "InvalidInput", 400, MSG_DUPLICATE, UserName=name, Tags=tags)
    expect_error(iam_a.get_user, "NoSuchEntity", 404, no_such_user(name), UserName=name)


def test_create_policy_refuses_duplicate_keys(iam_a):
    name = unique("tagged")
    expect_error(iam_a.create_policy, "InvalidInput", 400, MSG_DUPLICATE, PolicyName=name,
                 PolicyDocument=allow("s3:GetObject"), Tags=DUPLICATES[0])
    arn = f"arn:aws:iam::{ACCOUNT_A}:policy/{name}"
    expect_error(iam_a.get_policy, "NoSuchEntity", 404, f"Policy {arn} was not found.", PolicyArn=arn)


def test_create_oidc_provider_refuses_duplicate_keys(iam_a):
    url = f"https://{unique('issuer')}.example.com"
    expect_error(iam_a.create_open_id_connect_provider, "InvalidInput", 400, MSG_DUPLICATE, Url=url,
                 ClientIDList=["client"], ThumbprintList=["a" * 40], Tags=DUPLICATES[0])
    arns = [p["Arn"] for p in iam_a.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert f"arn:aws:iam::{ACCOUNT_A}:oidc-provider/{url[len('https://'):]}" not in arns


def test_create_virtual_mfa_device_refuses_duplicate_keys(iam_a):
    name = unique("tagged")
    expect_error(iam_a.create_virtual_mfa_device, "InvalidInput", 400, MSG_DUPLICATE, VirtualMFADeviceName=name,
                 Tags=DUPLICATES[1])
    # Nothing was stored: the same name is still free.
    serial = iam_a.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]["SerialNumber"]
    assert serial == f"arn:aws:iam::{ACCOUNT_A}:mfa/{name}"


def test_distinct_keys_are_accepted_as_given(iam_a):
    tags = [{"Key": "Env", "Value": "prod"}, {"Key": "Env2", "Value": "prod"}, {"Key": "team", "Value": "Env"}]
    role = unique("tagged")
    iam_a.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST, Tags=tags)
    assert iam_a.get_role(RoleName=role)["Role"]["Tags"] == tags
    user = unique("tagged")
    iam_a.create_user(UserName=user, Tags=tags)
    assert iam_a.get_user(UserName=user)["User"]["Tags"] == tags


def test_model_validation_comes_first(server, iam_a):
    """A tag key too long is a ValidationError even when keys also repeat."""
    iam = server.client("iam", server.admins[ACCOUNT_A], parameter_validation=False)
    name = unique("tagged")
    expect_error(iam.create_user, "ValidationError", 400,
                 coral("tags.2.member.key", "Member must have length less than or equal to 128"),
                 UserName=name, Tags=[{"Key": "k", "Value": "v"}, {"Key": "K" * 129, "Value": "v"},
                                      {"Key": "K", "Value": "v"}])
    expect_error(iam_a.get_user, "NoSuchEntity", 404, no_such_user(name), UserName=name)
