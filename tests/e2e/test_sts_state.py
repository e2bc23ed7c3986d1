"""Bad input never changes stored state: failed AssumeRole/GetSessionToken calls leave IAM
exactly as it was, and a rejected CreateRole creates nothing (not even half a role)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import allow, trust
from tests.e2e.test_sts_helpers import (
    ACCOUNT_A,
    aws_error,
    error_of,
    iam_client,
    make_mfa_user,
    problem,
    role_name,
    sts_client,
    unique,
    validation,
)


def snapshot(server: Any, role_arn: str, user_name: str) -> dict[str, Any]:
    iam = iam_client(server)
    roles = sorted(r["Arn"] for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"])
    role = iam.get_role(RoleName=role_name(role_arn))["Role"]
    return {
        "roles": roles,
        "role": role,
        "role_policies": iam.list_role_policies(RoleName=role_name(role_arn))["PolicyNames"],
        "keys": iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"],
        "mfa": iam.list_mfa_devices(UserName=user_name)["MFADevices"],
        "users": sorted(u["Arn"] for page in iam.get_paginator("list_users").paginate() for u in page["Users"]),
    }


def test_failed_assume_role_calls_leave_nothing(server, make_user, make_role):
    mfa = make_mfa_user(server, make_user, policy=allow(["sts:AssumeRole", "sts:TagSession"]))
    role = make_role(trust({"AWS": ACCOUNT_A}, condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
                     MaxSessionDuration=3600)
    before = snapshot(server, role, mfa.creds.user_name)
    sts = sts_client(server, mfa.creds, validate=False)
    failures = [
        dict(RoleArn=role, RoleSessionName="x"),  # validation
        dict(RoleArn="nothing-valid-in-here", RoleSessionName="ok"),  # "is invalid"
        dict(RoleArn=role, RoleSessionName="ok"),  # MFA missing → trust denies
        dict(RoleArn=role, RoleSessionName="ok", SerialNumber=mfa.serial, TokenCode=mfa.wrong_code()),
        dict(RoleArn=role, RoleSessionName="ok", Policy="{oops"),
        dict(RoleArn=role, RoleSessionName="ok", Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]),
        dict(RoleArn=role, RoleSessionName="ok", DurationSeconds="abc"),
    ]
    codes = [error_of(sts.assume_role, **kwargs)["Code"] for kwargs in failures]
    assert codes == ["ValidationError", "ValidationError", "AccessDenied", "AccessDenied",
                     "MalformedPolicyDocument", "InvalidParameterValue", "MalformedInput"]
    assert snapshot(server, role, mfa.creds.user_name) == before
    # The wrong code did not spend the device's next code either.
    sts.assume_role(RoleArn=role, RoleSessionName="ok", SerialNumber=mfa.serial, TokenCode=mfa.next_code())


def test_failed_get_session_token_leaves_nothing(server, make_user, make_role):
    user = make_user()
    role = make_role(trust({"AWS": ACCOUNT_A}))
    before = snapshot(server, role, user.user_name)
    sts = sts_client(server, user, validate=False)
    assert error_of(sts.get_session_token, DurationSeconds=1)["Code"] == "ValidationError"
    assert error_of(sts.get_session_token, SerialNumber=f"arn:aws:iam::{ACCOUNT_A}:mfa/none",
                    TokenCode="123456")["Code"] == "AccessDenied"
    assert snapshot(server, role, user.user_name) == before


def role_absent(iam: Any, name: str) -> bool:
    listed = [r["RoleName"] for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]]
    missing = error_of(iam.get_role, RoleName=name)
    return name not in listed and missing == aws_error(404, "NoSuchEntity",
                                                       f"The role with name {name} cannot be found.")


@pytest.mark.parametrize("case", ["max-duration", "bad-json", "principal-missing", "bad-path"])
def test_rejected_create_role_creates_nothing(server, case):
    iam = server.client("iam", server.admins[ACCOUNT_A], parameter_validation=False)
    name = unique("role")
    good = trust({"AWS": ACCOUNT_A})
    kwargs: dict[str, Any] = {"RoleName": name, "AssumeRolePolicyDocument": good}
    if case == "max-duration":
        kwargs["MaxSessionDuration"] = 43201
        expected = validation(problem("43201", "maxSessionDuration",
                                      "Member must have value less than or equal to 43200"))
        # IAM (unlike STS) no longer echoes the value; either form proves the point here.
        expected = [expected, {**expected, "Message": expected["Message"].replace("Value '43201' at", "Value at")}]
    elif case == "bad-json":
        kwargs["AssumeRolePolicyDocument"] = "{not json"
        expected = aws_error(400, "MalformedPolicyDocument", "This policy contains invalid Json")
    elif case == "principal-missing":
        kwargs["AssumeRolePolicyDocument"] = json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]})
        expected = aws_error(400, "MalformedPolicyDocument", "Missing required field Principal")
    else:
        kwargs["Path"] = "no-slashes"
        expected = aws_error(400, "ValidationError",
                             "The specified value for path is invalid. It must begin and end with / and contain "
                             "only alphanumeric characters and/or / characters.")
    assert error_of(iam.create_role, **kwargs) in (expected if isinstance(expected, list) else [expected])
    assert role_absent(iam, name)
    # Nothing half-written blocks the name: the same role can be created properly now.
    created = iam.create_role(RoleName=name, AssumeRolePolicyDocument=good)["Role"]
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:role/{name}"
    assert iam.get_role(RoleName=name)["Role"]["MaxSessionDuration"] == 3600
