"""Who may call the IAM API: read-only users, explicit denies, permissions boundaries,
path-scoped policies, role sessions without a user name, and account isolation.

AccessDenied texts as IAM writes them: the ARN for entities being created ("iam:CreateUser on
resource: arn:aws:iam::...:user/x because no identity-based policy allows the iam:CreateUser
action", boundary#4287, f5devcentral#8; CreateRole, aws-parallelcluster#918), "role NAME" /
"user NAME" for existing ones (aws-cdk#27067 GetRole/DeleteRole, keikoproj#31
ListAttachedRolePolicies, aws-pdk#175 AttachRolePolicy, aws-nuke#294 GetLoginProfile,
aws-vault#190 CreateAccessKey), "policy NAME" for CreatePolicy (cloudlaunch#205), "policy ARN"
for existing policies (cds-snc/dns#523, terraform-provider-aws#32383) and "policy path /" for
ListPolicies (aws-sam-cli#394). "Must specify userName when calling with non-User credentials"
is AWS-recorded (LocalStack test_get_user_without_username_as_role).
"""

from __future__ import annotations

import json

import pytest

from stsd.testing import Credentials
from tests.conftest import listed, session_credentials
from tests.e2e.test_iam_support import (
    ACCOUNT_A,
    ACCOUNT_B,
    ADMIN_POLICY,
    MSG_NON_USER,
    READ_ONLY,
    allow,
    denied,
    expect_error,
    no_such_user,
    trust,
    unique,
)


@pytest.fixture
def read_only(server, iam_a, make_user):
    """A user whose only permissions are the AWS-managed IAMReadOnlyAccess."""
    creds = make_user()
    iam_a.attach_user_policy(UserName=creds.user_name, PolicyArn=READ_ONLY)
    return creds, server.client("iam", creds)


def test_read_only_user_can_read(iam_a, read_only):
    creds, iam = read_only
    target = unique("target")
    iam_a.create_user(UserName=target)
    role = iam_a.create_role(RoleName=unique("seen"), AssumeRolePolicyDocument=trust({"AWS": ACCOUNT_A}))["Role"]
    policy = iam_a.create_policy(PolicyName=unique("seen"), PolicyDocument=allow("s3:GetObject"))["Policy"]["Arn"]

    assert target in [u["UserName"] for u in listed(iam, "list_users", "Users")]
    assert iam.get_user(UserName=target)["User"]["UserName"] == target
    assert iam.get_user()["User"]["UserName"] == creds.user_name
    assert iam.get_role(RoleName=role["RoleName"])["Role"]["RoleId"] == role["RoleId"]
    assert role["RoleName"] in [r["RoleName"] for r in listed(iam, "list_roles", "Roles")]
    assert iam.get_policy(PolicyArn=policy)["Policy"]["Arn"] == policy
    assert policy in [p["Arn"] for p in listed(iam, "list_policies", "Policies", Scope="Local")]
    assert iam.list_access_keys(UserName=target)["AccessKeyMetadata"] == []
    assert iam.list_attached_user_policies(UserName=creds.user_name)["AttachedPolicies"] == [
        {"PolicyName": "IAMReadOnlyAccess", "PolicyArn": READ_ONLY}]
    assert iam.get_account_summary()["SummaryMap"]["Users"] >= 2


def test_read_only_user_cannot_write(iam_a, read_only):
    creds, iam = read_only
    me = f"arn:aws:iam::{ACCOUNT_A}:user/{creds.user_name}"
    target = unique("victim")
    iam_a.create_user(UserName=target)
    role = unique("keep")
    iam_a.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"AWS": ACCOUNT_A}))
    policy = iam_a.create_policy(PolicyName=unique("keep"), PolicyDocument=allow("s3:GetObject"))["Policy"]["Arn"]
    new_user, new_role, new_policy = unique("new"), unique("new"), unique("new")
    users_before = sorted(u["UserName"] for u in iam_a.list_users()["Users"])

    cases = [
        (iam.create_user, {"UserName": new_user}, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT_A}:user/{new_user}"),
        (iam.create_user, {"UserName": new_user, "Path": "/eng/"}, "iam:CreateUser",
         f"arn:aws:iam::{ACCOUNT_A}:user/eng/{new_user}"),
        (iam.delete_user, {"UserName": target}, "iam:DeleteUser", f"user {target}"),
        (iam.create_access_key, {"UserName": target}, "iam:CreateAccessKey", f"user {target}"),
        (iam.put_user_policy, {"UserName": target, "PolicyName": "p", "PolicyDocument": allow("*")},
         "iam:PutUserPolicy", f"user {target}"),
        (iam.attach_user_policy, {"UserName": creds.user_name, "PolicyArn": ADMIN_POLICY},
         "iam:AttachUserPolicy", f"user {creds.user_name}"),
        (iam.create_role, {"RoleName": new_role, "AssumeRolePolicyDocument": trust({"AWS": ACCOUNT_A})},
         "iam:CreateRole", f"arn:aws:iam::{ACCOUNT_A}:role/{new_role}"),
        (iam.delete_role, {"RoleName": role}, "iam:DeleteRole", f"role {role}"),
        (iam.update_role, {"RoleName": role, "Description": "x"}, "iam:UpdateRole", f"role {role}"),
        (iam.update_assume_role_policy, {"RoleName": role, "PolicyDocument": trust({"AWS": ACCOUNT_B})},
         "iam:UpdateAssumeRolePolicy", f"role {role}"),
        (iam.create_policy, {"PolicyName": new_policy, "PolicyDocument": allow("s3:*")}, "iam:CreatePolicy",
         f"policy {new_policy}"),
        (iam.delete_policy, {"PolicyArn": policy}, "iam:DeletePolicy", f"policy {policy}"),
        (iam.create_virtual_mfa_device, {"VirtualMFADeviceName": new_user}, "iam:CreateVirtualMFADevice",
         f"arn:aws:iam::{ACCOUNT_A}:mfa/{new_user}"),
        (iam.set_security_token_service_preferences, {"GlobalEndpointTokenVersion": "v2Token"},
         "iam:SetSecurityTokenServicePreferences", "*"),
    ]
    for call, kwargs, action, shown in cases:
        expect_error(call, "AccessDenied", 403, denied(me, action, shown), **kwargs)

    assert sorted(u["UserName"] for u in iam_a.list_users()["Users"]) == users_before
    assert iam_a.get_role(RoleName=role)["Role"]["RoleName"] == role
    assert iam_a.get_policy(PolicyArn=policy)["Policy"]["Arn"] == policy
    assert iam_a.list_access_keys(UserName=target)["AccessKeyMetadata"] == []
    expect_error(iam_a.get_role, "NoSuchEntity", 404, f"The role with name {new_role} cannot be found.",
                 RoleName=new_role)


def test_list_denials_name_the_collection(server, make_user):
    creds = make_user(policy=allow("s3:ListAllMyBuckets"))
    me = f"arn:aws:iam::{ACCOUNT_A}:user/{creds.user_name}"
    iam = server.client("iam", creds)
    expect_error(iam.list_policies, "AccessDenied", 403, denied(me, "iam:ListPolicies", "policy path /"))
    expect_error(iam.list_policies, "AccessDenied", 403, denied(me, "iam:ListPolicies", "policy path /eng/"),
                 PathPrefix="/eng/")
    expect_error(iam.get_policy, "AccessDenied", 403, denied(me, "iam:GetPolicy", f"policy {READ_ONLY}"),
                 PolicyArn=READ_ONLY)
    expect_error(iam.get_user, "AccessDenied", 403, denied(me, "iam:GetUser", f"user {creds.user_name}"))


def test_explicit_deny_wins(server, iam_a, make_user):
    creds = make_user(policy=allow("iam:*"))
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}]})
    iam_a.put_user_policy(UserName=creds.user_name, PolicyName="no-delete", PolicyDocument=deny)
    iam = server.client("iam", creds)
    target = unique("spared")
    iam.create_user(UserName=target)
    expect_error(iam.delete_user, "AccessDenied", 403,
                 denied(f"arn:aws:iam::{ACCOUNT_A}:user/{creds.user_name}", "iam:DeleteUser", f"user {target}",
                        "with an explicit deny in an identity-based policy"), UserName=target)
    assert iam.get_user(UserName=target)["User"]["UserName"] == target


def test_permissions_boundary_limits_an_admin(server, iam_a):
    name = unique("fenced")
    iam_a.create_user(UserName=name, PermissionsBoundary=READ_ONLY)
    iam_a.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=allow("*"))
    key = iam_a.create_access_key(UserName=name)["AccessKey"]
    iam = server.client("iam", Credentials(ACCOUNT_A, key["AccessKeyId"], key["SecretAccessKey"]))
    assert iam.get_user()["User"]["UserName"] == name
    new = unique("nope")
    expect_error(iam.create_user, "AccessDenied", 403,
                 denied(f"arn:aws:iam::{ACCOUNT_A}:user/{name}", "iam:CreateUser",
                        f"arn:aws:iam::{ACCOUNT_A}:user/{new}",
                        "because no permissions boundary allows the iam:CreateUser action"), UserName=new)


def test_path_scoped_policy_uses_the_entitys_path(server, iam_a, make_user):
    division = unique("division")
    inside = iam_a.create_user(UserName=unique("in"), Path=f"/{division}/")["User"]["UserName"]
    outside = iam_a.create_user(UserName=unique("out"))["User"]["UserName"]
    creds = make_user(policy=allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT_A}:user/{division}/*"))
    iam = server.client("iam", creds)
    assert iam.get_user(UserName=inside)["User"]["Path"] == f"/{division}/"
    expect_error(iam.get_user, "AccessDenied", 403,
                 denied(f"arn:aws:iam::{ACCOUNT_A}:user/{creds.user_name}", "iam:GetUser", f"user {outside}"),
                 UserName=outside)


def test_role_session_must_name_the_user(server, iam_a, make_user):
    caller = make_user(policy=allow("sts:AssumeRole"))
    role = iam_a.create_role(RoleName=unique("reader"),
                             AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/"
                                                                    f"{caller.user_name}"}))["Role"]
    iam_a.attach_role_policy(RoleName=role["RoleName"], PolicyArn=READ_ONLY)
    response = server.client("sts", caller).assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    iam = server.client("iam", session_credentials(response, ACCOUNT_A))
    expect_error(iam.get_user, "ValidationError", 400, MSG_NON_USER)
    expect_error(iam.list_access_keys, "ValidationError", 400, MSG_NON_USER)
    expect_error(iam.list_mfa_devices, "ValidationError", 400, MSG_NON_USER)
    # Naming the user works, with the role's permissions.
    assert iam.get_user(UserName=caller.user_name)["User"]["UserName"] == caller.user_name
    expect_error(iam.create_user, "AccessDenied", 403,
                 denied(f"arn:aws:sts::{ACCOUNT_A}:assumed-role/{role['RoleName']}/s1", "iam:CreateUser",
                        f"arn:aws:iam::{ACCOUNT_A}:user/x"), UserName="x")


def test_accounts_are_isolated(iam_a, iam_b):
    a_user = unique("only-in-a")
    iam_a.create_user(UserName=a_user)
    a_policy = iam_a.create_policy(PolicyName=unique("a-policy"), PolicyDocument=allow("s3:*"))["Policy"]["Arn"]
    a_role = iam_a.create_role(RoleName=unique("a-role"), AssumeRolePolicyDocument=trust({"AWS": ACCOUNT_A}))["Role"]

    assert a_user not in [u["UserName"] for u in iam_b.list_users()["Users"]]
    assert all(u["Arn"].startswith(f"arn:aws:iam::{ACCOUNT_B}:") for u in iam_b.list_users()["Users"])
    assert a_role["RoleName"] not in [r["RoleName"] for r in iam_b.list_roles()["Roles"]]
    assert a_policy not in [p["Arn"] for p in iam_b.list_policies()["Policies"]]
    expect_error(iam_b.get_user, "NoSuchEntity", 404, no_such_user(a_user), UserName=a_user)
    expect_error(iam_b.delete_user, "NoSuchEntity", 404, no_such_user(a_user), UserName=a_user)
    expect_error(iam_b.get_role, "NoSuchEntity", 404, f"The role with name {a_role['RoleName']} cannot be found.",
                 RoleName=a_role["RoleName"])
    b_admin = f"arn:aws:iam::{ACCOUNT_B}:user/admin"
    expect_error(iam_b.get_policy, "AccessDenied", 403,
                 denied(b_admin, "iam:GetPolicy", f"policy {a_policy}",
                        "because no resource-based policy allows the iam:GetPolicy action"), PolicyArn=a_policy)
    expect_error(iam_b.delete_policy, "AccessDenied", 403,
                 denied(b_admin, "iam:DeletePolicy", f"policy {a_policy}",
                        "because no resource-based policy allows the iam:DeletePolicy action"), PolicyArn=a_policy)
    b_user = unique("in-b")
    iam_b.create_user(UserName=b_user)
    expect_error(iam_b.attach_user_policy, "NoSuchEntity", 404,
                 f"Policy {a_policy} does not exist or is not attachable.", UserName=b_user, PolicyArn=a_policy)
    assert iam_b.list_attached_user_policies(UserName=b_user)["AttachedPolicies"] == []
    # The same name is free in the other account.
    assert iam_b.create_user(UserName=a_user)["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT_B}:user/{a_user}"
    assert iam_a.get_policy(PolicyArn=a_policy)["Policy"]["AttachmentCount"] == 0
