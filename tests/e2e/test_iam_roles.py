"""IAM roles through boto3: CreateRole/GetRole/ListRoles shapes (trust policy decoded by
botocore to the dict that was sent), UpdateRole, UpdateAssumeRolePolicy, DeleteRole, and the
errors for bad trust documents, unknown principals, bad durations and names.

Shapes and texts as recorded against AWS in LocalStack's
tests/aws/services/iam/test_iam_roles.snapshot.json (2026): CreateRole answers without
Description and MaxSessionDuration; GetRole adds them and an empty RoleLastUsed; ListRoles
leaves out PermissionsBoundary, Tags and RoleLastUsed; "Scope ARN: ... does not exist or is not
attachable."; "AssumeRole policy may only specify STS AssumeRole actions.".
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_iam_support import (
    ACCOUNT_A,
    ACCOUNT_B,
    MSG_BAD_NAME,
    ROLE_ID,
    allow,
    assert_recent,
    coral,
    coral_any,
    expect_error,
    no_such_role,
    trust,
    unique,
)

ACCOUNT_ROOT = {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"}


def doc(text: str) -> dict:
    return json.loads(text)


def test_create_get_list_role(iam_a):
    name = unique("Deployer")
    path = f"/{unique('app')}/"
    policy = trust(ACCOUNT_ROOT, condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    boundary = "arn:aws:iam::aws:policy/PowerUserAccess"
    created = iam_a.create_role(
        RoleName=name, Path=path, AssumeRolePolicyDocument=policy, Description="deploys things",
        MaxSessionDuration=7200, PermissionsBoundary=boundary, Tags=[{"Key": "env", "Value": "prod"}],
    )["Role"]
    assert set(created) == {"Path", "RoleName", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument",
                            "PermissionsBoundary", "Tags"}
    assert created["RoleName"] == name
    assert created["Path"] == path
    assert ROLE_ID.fullmatch(created["RoleId"])
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:role{path}{name}"
    assert created["AssumeRolePolicyDocument"] == doc(policy)
    assert created["PermissionsBoundary"] == {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    assert created["Tags"] == [{"Key": "env", "Value": "prod"}]
    assert_recent(created["CreateDate"])

    got = iam_a.get_role(RoleName=name)["Role"]
    assert got == {**created, "Description": "deploys things", "MaxSessionDuration": 7200, "RoleLastUsed": {}}

    listed = iam_a.list_roles(PathPrefix=path)
    assert listed["IsTruncated"] is False
    assert listed["Roles"] == [{k: v for k, v in got.items() if k not in ("PermissionsBoundary", "Tags",
                                                                           "RoleLastUsed")}]


def test_role_defaults(iam_a):
    name = unique("plain")
    policy = trust({"Service": "ec2.amazonaws.com"})
    created = iam_a.create_role(RoleName=name, AssumeRolePolicyDocument=policy)["Role"]
    assert set(created) == {"Path", "RoleName", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument"}
    assert created["Path"] == "/"
    got = iam_a.get_role(RoleName=name)["Role"]
    assert got["MaxSessionDuration"] == 3600
    assert "Description" not in got
    assert "Tags" not in got
    assert got["RoleLastUsed"] == {}


def test_trust_documents_round_trip_exactly(iam_a):
    # Whitespace, key order, lists and unicode escapes come back byte for byte (URL-encoded on
    # the wire, decoded by botocore).
    policy = ('{\n  "Version": "2012-10-17",\n  "Statement": [{"Sid": "Caf\\u00e9 %2F & +", "Effect": "Allow",\n'
              '   "Principal": {"AWS": ["' + ACCOUNT_B + '", "arn:aws:iam::' + ACCOUNT_A + ':root"],'
              ' "Service": "lambda.amazonaws.com"},\n   "Action": ["sts:AssumeRole", "sts:TagSession"]}]\n}')
    name = unique("exact")
    assert iam_a.create_role(RoleName=name, AssumeRolePolicyDocument=policy)["Role"]["AssumeRolePolicyDocument"] \
        == doc(policy)
    assert iam_a.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == doc(policy)


def test_role_names_are_case_insensitive(iam_a):
    name = unique("Builder")
    role = iam_a.create_role(RoleName=name, AssumeRolePolicyDocument=trust(ACCOUNT_ROOT))["Role"]
    expect_error(iam_a.create_role, "EntityAlreadyExists", 409, f"Role with name {name.lower()} already exists.",
                 RoleName=name.lower(), AssumeRolePolicyDocument=trust(ACCOUNT_ROOT))
    assert iam_a.get_role(RoleName=name.lower())["Role"]["RoleId"] == role["RoleId"]


def test_unknown_role(iam_a):
    ghost = unique("ghost")
    for call, extra in (
        (iam_a.get_role, {}),
        (iam_a.delete_role, {}),
        (iam_a.update_role, {"Description": "x"}),
        (iam_a.update_assume_role_policy, {"PolicyDocument": trust(ACCOUNT_ROOT)}),
        (iam_a.list_role_policies, {}),
        (iam_a.list_attached_role_policies, {}),
    ):
        expect_error(call, "NoSuchEntity", 404, no_such_role(ghost), RoleName=ghost, **extra)


def test_update_role(server, iam_a):
    name = unique("tuned")
    iam_a.create_role(RoleName=name, AssumeRolePolicyDocument=trust(ACCOUNT_ROOT), Description="before")
    response = iam_a.update_role(RoleName=name, Description="after", MaxSessionDuration=43200)
    assert set(response) == {"ResponseMetadata"}
    got = iam_a.get_role(RoleName=name)["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("after", 43200)
    iam_a.update_role(RoleName=name, MaxSessionDuration=3600)  # Description untouched
    got = iam_a.get_role(RoleName=name)["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("after", 3600)

    raw = server.client("iam", server.admins[ACCOUNT_A], parameter_validation=False)
    expect_error(raw.update_role, "ValidationError", 400,
                 coral_any("maxSessionDuration", "Member must have value greater than or equal to 3600"),
                 RoleName=name, MaxSessionDuration=100)
    expect_error(raw.update_role, "ValidationError", 400,
                 coral_any("maxSessionDuration", "Member must have value less than or equal to 43200"),
                 RoleName=name, MaxSessionDuration=43201)
    expect_error(raw.update_role, "ValidationError", 400,
                 coral_any("description", "Member must have length less than or equal to 1000"),
                 RoleName=name, Description="d" * 1001)
    assert iam_a.get_role(RoleName=name)["Role"] == got


def test_create_role_max_session_duration_bounds(server, iam_a):
    raw = server.client("iam", server.admins[ACCOUNT_A], parameter_validation=False)
    name = unique("short")
    expect_error(raw.create_role, "ValidationError", 400,
                 coral_any("maxSessionDuration", "Member must have value greater than or equal to 3600"),
                 RoleName=name, AssumeRolePolicyDocument=trust(ACCOUNT_ROOT), MaxSessionDuration=100)
    expect_error(iam_a.get_role, "NoSuchEntity", 404, no_such_role(name), RoleName=name)
    for seconds in (3600, 43200):
        role = unique("bound")
        iam_a.create_role(RoleName=role, AssumeRolePolicyDocument=trust(ACCOUNT_ROOT), MaxSessionDuration=seconds)
        assert iam_a.get_role(RoleName=role)["Role"]["MaxSessionDuration"] == seconds


def test_max_session_duration_text_is_awss(server):
    raw = server.client("iam", server.admins[ACCOUNT_A], parameter_validation=False)
    expect_error(raw.create_role, "ValidationError", 400,
                 coral("maxSessionDuration", "Member must have value greater than or equal to 3600"),
                 RoleName=unique("short"), AssumeRolePolicyDocument=trust(ACCOUNT_ROOT), MaxSessionDuration=100)


def test_update_assume_role_policy(iam_a, make_user):
    name = unique("retrust")
    iam_a.create_role(RoleName=name, AssumeRolePolicyDocument=trust(ACCOUNT_ROOT))
    user = make_user()
    new = trust({"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/{user.user_name}"}, ["sts:AssumeRole", "sts:TagSession"])
    assert set(iam_a.update_assume_role_policy(RoleName=name, PolicyDocument=new)) == {"ResponseMetadata"}
    assert iam_a.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == doc(new)


BAD_TRUST = [
    ("{not json", "This policy contains invalid Json"),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": ACCOUNT_ROOT,
                                                          "Action": "sts:AssumeRole", "Resource": "*"}]}),
     "Has prohibited field Resource"),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": ACCOUNT_ROOT,
                                                          "Action": "s3:GetObject"}]}),
     "AssumeRole policy may only specify STS AssumeRole actions."),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}),
     "Missing required field Principal"),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": ACCOUNT_ROOT}]}),
     "Policy statement must contain actions."),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": ACCOUNT_ROOT,
                                                          "Action": "sts:AssumeRole", "Sid": "a"},
                                                         {"Effect": "Allow", "Principal": ACCOUNT_ROOT,
                                                          "Action": "sts:AssumeRole", "Sid": "a"}]}),
     "Statement IDs (SID) in a single policy must be unique."),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "AWS": f"arn:aws:iam::{ACCOUNT_A}:user/{'ghost-user-that-does-not-exist'}"}, "Action": "sts:AssumeRole"}]}),
     f'Invalid principal in policy: "AWS":"arn:aws:iam::{ACCOUNT_A}:user/ghost-user-that-does-not-exist"'),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "AWS": f"arn:aws:iam::{ACCOUNT_A}:role/ghost-role-that-does-not-exist"}, "Action": "sts:AssumeRole"}]}),
     f'Invalid principal in policy: "AWS":"arn:aws:iam::{ACCOUNT_A}:role/ghost-role-that-does-not-exist"'),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "not-an-arn"},
                                                          "Action": "sts:AssumeRole"}]}),
     'Invalid principal in policy: "AWS":"not-an-arn"'),
]


@pytest.mark.parametrize(("document", "message"), BAD_TRUST, ids=[m[:40] for _, m in BAD_TRUST])
def test_bad_trust_documents_change_nothing(iam_a, document, message):
    name = unique("untrusted")
    expect_error(iam_a.create_role, "MalformedPolicyDocument", 400, message,
                 RoleName=name, AssumeRolePolicyDocument=document)
    expect_error(iam_a.get_role, "NoSuchEntity", 404, no_such_role(name), RoleName=name)

    kept = unique("kept")
    original = trust(ACCOUNT_ROOT)
    iam_a.create_role(RoleName=kept, AssumeRolePolicyDocument=original)
    expect_error(iam_a.update_assume_role_policy, "MalformedPolicyDocument", 400, message,
                 RoleName=kept, PolicyDocument=document)
    assert iam_a.get_role(RoleName=kept)["Role"]["AssumeRolePolicyDocument"] == doc(original)


def test_trust_principals_that_exist_are_accepted(iam_a, make_user):
    user = make_user()
    target = iam_a.create_role(RoleName=unique("target"), AssumeRolePolicyDocument=trust(ACCOUNT_ROOT))["Role"]
    principals = [
        {"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/{user.user_name}"},
        {"AWS": target["Arn"]},
        {"AWS": ACCOUNT_B},
        {"AWS": f"arn:aws:iam::{ACCOUNT_B}:root"},
        {"AWS": "*"},
        {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]},
    ]
    for principal in principals:
        name = unique("ok")
        policy = trust(principal)
        assert iam_a.create_role(RoleName=name, AssumeRolePolicyDocument=policy)["Role"][
            "AssumeRolePolicyDocument"] == doc(policy)


def test_trust_naming_a_deleted_user_is_refused(iam_a):
    name = unique("gone")
    arn = iam_a.create_user(UserName=name)["User"]["Arn"]
    iam_a.delete_user(UserName=name)
    expect_error(iam_a.create_role, "MalformedPolicyDocument", 400, f'Invalid principal in policy: "AWS":"{arn}"',
                 RoleName=unique("r"), AssumeRolePolicyDocument=trust({"AWS": arn}))


def test_bad_role_names(iam_a):
    expect_error(iam_a.create_role, "ValidationError", 400, MSG_BAD_NAME.format(member="roleName"),
                 RoleName="has space", AssumeRolePolicyDocument=trust(ACCOUNT_ROOT))
    expect_error(iam_a.get_role, "ValidationError", 400, MSG_BAD_NAME.format(member="roleName"), RoleName="a*b")


def test_missing_boundary_creates_no_role(iam_a):
    name = unique("bounded")
    arn = f"arn:aws:iam::{ACCOUNT_A}:policy/{unique('missing')}"
    expect_error(iam_a.create_role, "NoSuchEntity", 404, f"Scope ARN: {arn} does not exist or is not attachable.",
                 RoleName=name, AssumeRolePolicyDocument=trust(ACCOUNT_ROOT), PermissionsBoundary=arn)
    expect_error(iam_a.get_role, "NoSuchEntity", 404, no_such_role(name), RoleName=name)


def test_delete_role_conflicts_in_order(iam_a):
    name = unique("attached")
    iam_a.create_role(RoleName=name, AssumeRolePolicyDocument=trust(ACCOUNT_ROOT))
    iam_a.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=allow("s3:ListBucket"))
    iam_a.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    expect_error(iam_a.delete_role, "DeleteConflict", 409, "Cannot delete entity, must delete policies first.",
                 RoleName=name)
    iam_a.delete_role_policy(RoleName=name, PolicyName="inline")
    expect_error(iam_a.delete_role, "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.",
                 RoleName=name)
    assert [p["PolicyName"] for p in iam_a.list_attached_role_policies(RoleName=name)["AttachedPolicies"]] == [
        "IAMReadOnlyAccess"]
    iam_a.detach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    assert set(iam_a.delete_role(RoleName=name)) == {"ResponseMetadata"}
    expect_error(iam_a.get_role, "NoSuchEntity", 404, no_such_role(name), RoleName=name)
    assert iam_a.list_roles(PathPrefix="/")["Roles"] == [r for r in iam_a.list_roles()["Roles"]
                                                        if r["RoleName"] != name]


def test_list_roles_path_prefix(iam_a):
    top = unique("svc")
    a = iam_a.create_role(RoleName=unique("a"), Path=f"/{top}/", AssumeRolePolicyDocument=trust(ACCOUNT_ROOT))
    b = iam_a.create_role(RoleName=unique("b"), Path=f"/{top}/x/", AssumeRolePolicyDocument=trust(ACCOUNT_ROOT))
    names = [r["RoleName"] for r in iam_a.list_roles(PathPrefix=f"/{top}/")["Roles"]]
    assert names == sorted([a["Role"]["RoleName"], b["Role"]["RoleName"]], key=str.lower)
    assert iam_a.list_roles(PathPrefix=f"/{unique('empty')}/")["Roles"] == []
