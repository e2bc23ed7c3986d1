"""IAM users and access keys through boto3: shapes, ids, case-insensitive names, errors,
the access-key quota and status, DeleteConflict ordering, validation texts.

Texts: NoSuchEntity / EntityAlreadyExists / DeleteConflict / LimitExceeded / access-key texts
as recorded against AWS (LocalStack tests/aws/services/iam/test_iam_users.snapshot.json, 2026;
aws-nuke#281, ansible#27247, aws-controllers-k8s#2229, s3-credentials#64); the name/path texts
from IAM responses quoted in cfn-lint#722/#996, aws-cdk#16256, qontract-reconcile#2640.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stsd.testing import Credentials
from tests.conftest import listed
from tests.e2e.test_iam_support import (
    ACCESS_KEY_ID,
    ACCOUNT_A,
    MSG_BAD_NAME,
    MSG_BAD_PATH,
    MSG_BAD_PATH_PREFIX,
    MSG_STS_INVALID_TOKEN,
    SECRET,
    USER_ID,
    allow,
    assert_recent,
    coral,
    coral_any,
    expect_error,
    no_such_user,
    settled_step,
    totp,
    unique,
)
from tests.e2e.test_sts_helpers import ROOT_ACCOUNT, root_credentials


def user_names(iam, prefix: str = "/") -> list[str]:
    return sorted(u["UserName"] for u in iam.list_users(PathPrefix=prefix)["Users"])


# --- users ------------------------------------------------------------------------------
def test_create_get_list_delete_user(iam_a):
    name = unique("Alice")
    path = f"/{unique('division')}/subdivision/"
    created = iam_a.create_user(UserName=name, Path=path, Tags=[{"Key": "team", "Value": "blue"}])["User"]
    assert set(created) == {"Path", "UserName", "UserId", "Arn", "CreateDate", "Tags"}
    assert created["Path"] == path
    assert created["UserName"] == name
    assert USER_ID.fullmatch(created["UserId"])
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user{path}{name}"
    assert created["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert_recent(created["CreateDate"])

    got = iam_a.get_user(UserName=name)["User"]
    assert got == created

    # ListUsers leaves out PermissionsBoundary and Tags (IAM API reference, ListUsers).
    listed = iam_a.list_users(PathPrefix=path)
    assert listed["IsTruncated"] is False
    assert listed["Users"] == [{k: v for k, v in created.items() if k != "Tags"}]

    iam_a.delete_user(UserName=name)
    expect_error(iam_a.get_user, "NoSuchEntity", 404, no_such_user(name), UserName=name)
    expect_error(iam_a.delete_user, "NoSuchEntity", 404, no_such_user(name), UserName=name)
    assert iam_a.list_users(PathPrefix=path)["Users"] == []


def test_default_path_and_no_tags(iam_a):
    name = unique("plain")
    created = iam_a.create_user(UserName=name)["User"]
    assert set(created) == {"Path", "UserName", "UserId", "Arn", "CreateDate"}
    assert created["Path"] == "/"
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/{name}"


def test_user_ids_are_unique(iam_a):
    ids = {iam_a.create_user(UserName=unique("uid"))["User"]["UserId"] for _ in range(3)}
    assert len(ids) == 3


def test_user_names_are_case_insensitive(iam_a):
    name = unique("Bob")
    user = iam_a.create_user(UserName=name)["User"]
    expect_error(iam_a.create_user, "EntityAlreadyExists", 409, f"User with name {name.lower()} already exists.",
                 UserName=name.lower())
    expect_error(iam_a.create_user, "EntityAlreadyExists", 409, f"User with name {name} already exists.",
                 UserName=name, Path="/elsewhere/")
    # Any case finds the user, which keeps the case it was created with.
    assert iam_a.get_user(UserName=name.upper())["User"] == user
    assert [n for n in user_names(iam_a) if n.lower() == name.lower()] == [name]


def test_path_prefix_filters_users(iam_a):
    top = unique("org")
    inside = iam_a.create_user(UserName=unique("in"), Path=f"/{top}/eng/")["User"]["UserName"]
    deeper = iam_a.create_user(UserName=unique("deep"), Path=f"/{top}/eng/platform/")["User"]["UserName"]
    iam_a.create_user(UserName=unique("out"), Path=f"/{top}-other/")
    assert user_names(iam_a, f"/{top}/") == sorted([inside, deeper])
    assert user_names(iam_a, f"/{top}/eng/platform/") == [deeper]
    assert user_names(iam_a, f"/{unique('none')}/") == []


def test_get_user_without_name_is_the_caller(server, make_user):
    creds = make_user(policy=allow("iam:GetUser"))
    me = server.client("iam", creds).get_user()["User"]
    assert me["UserName"] == creds.user_name
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/{creds.user_name}"


@pytest.mark.parametrize("bad", ["bad name", "semi;colon", "quote'", "slash/inside", "ünicode"])
def test_invalid_user_names(iam_a, bad):
    before = user_names(iam_a)
    expect_error(iam_a.create_user, "ValidationError", 400, MSG_BAD_NAME.format(member="userName"), UserName=bad)
    expect_error(iam_a.get_user, "ValidationError", 400, MSG_BAD_NAME.format(member="userName"), UserName=bad)
    assert user_names(iam_a) == before


@pytest.mark.parametrize("bad", ["noslash", "/no-trailing", "no-leading/", "/with space/", "/tab\there/"])
def test_invalid_paths(iam_a, bad):
    before = user_names(iam_a)
    expect_error(iam_a.create_user, "ValidationError", 400, MSG_BAD_PATH, UserName=unique("p"), Path=bad)
    assert user_names(iam_a) == before


def test_invalid_path_prefix(iam_a):
    # aws-cli#5860: ListPolicies --path-prefix '/foo' (no trailing slash) is refused with this text.
    expect_error(iam_a.list_users, "ValidationError", 400, MSG_BAD_PATH_PREFIX, PathPrefix="/foo")
    expect_error(iam_a.list_roles, "ValidationError", 400, MSG_BAD_PATH_PREFIX, PathPrefix="foo/")


def test_length_constraints(server, iam_a):
    iam = server.client("iam", server.admins[ACCOUNT_A], parameter_validation=False)
    before = user_names(iam_a)
    expect_error(iam.create_user, "ValidationError", 400,
                 coral_any("userName", "Member must have length less than or equal to 64"), UserName="u" * 65)
    expect_error(iam.create_user, "ValidationError", 400,
                 coral_any("userName", "Member must have length greater than or equal to 1"), UserName="")
    expect_error(iam.create_user, "ValidationError", 400,
                 coral_any("path", "Member must have length less than or equal to 512"),
                 UserName=unique("long"), Path="/" + "p" * 511 + "/")
    assert user_names(iam_a) == before
    # 64 characters is fine.
    base = unique("x")
    name = base + "x" * (64 - len(base))
    assert iam_a.create_user(UserName=name)["User"]["UserName"] == name


def test_length_error_text_is_awss(server):
    iam = server.client("iam", server.admins[ACCOUNT_A], parameter_validation=False)
    expect_error(iam.create_user, "ValidationError", 400,
                 coral("userName", "Member must have length less than or equal to 64"), UserName="u" * 65)


def test_missing_boundary_policy_creates_nothing(iam_a):
    name = unique("bounded")
    arn = f"arn:aws:iam::{ACCOUNT_A}:policy/{unique('nope')}"
    expect_error(iam_a.create_user, "NoSuchEntity", 404, f"Scope ARN: {arn} does not exist or is not attachable.",
                 UserName=name, PermissionsBoundary=arn)
    expect_error(iam_a.get_user, "NoSuchEntity", 404, no_such_user(name), UserName=name)


def test_user_with_permissions_boundary(iam_a):
    name = unique("bounded")
    boundary = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    created = iam_a.create_user(UserName=name, PermissionsBoundary=boundary)["User"]
    expected = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    assert created["PermissionsBoundary"] == expected
    assert iam_a.get_user(UserName=name)["User"]["PermissionsBoundary"] == expected
    found = [u for u in listed(iam_a, "list_users", "Users") if u["UserName"] == name]
    assert "PermissionsBoundary" not in found[0]


# --- access keys ------------------------------------------------------------------------
def test_access_key_lifecycle(server, iam_a):
    name = unique("keys")
    iam_a.create_user(UserName=name)
    assert iam_a.list_access_keys(UserName=name)["AccessKeyMetadata"] == []

    key = iam_a.create_access_key(UserName=name)["AccessKey"]
    assert set(key) == {"UserName", "AccessKeyId", "Status", "SecretAccessKey", "CreateDate"}
    assert key["UserName"] == name
    assert ACCESS_KEY_ID.fullmatch(key["AccessKeyId"])
    assert SECRET.fullmatch(key["SecretAccessKey"])
    assert key["Status"] == "Active"
    assert_recent(key["CreateDate"])

    listed = iam_a.list_access_keys(UserName=name)
    assert listed["IsTruncated"] is False
    assert listed["AccessKeyMetadata"] == [{k: v for k, v in key.items() if k != "SecretAccessKey"}]

    creds = Credentials(ACCOUNT_A, key["AccessKeyId"], key["SecretAccessKey"], user_name=name)
    sts = server.client("sts", creds)
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/{name}"

    # Inactive: the key no longer authenticates anywhere.
    iam_a.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert iam_a.list_access_keys(UserName=name)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    expect_error(sts.get_caller_identity, "InvalidClientTokenId", 403, MSG_STS_INVALID_TOKEN)

    iam_a.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Active")
    assert sts.get_caller_identity()["UserId"] == iam_a.get_user(UserName=name)["User"]["UserId"]

    iam_a.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    assert iam_a.list_access_keys(UserName=name)["AccessKeyMetadata"] == []
    expect_error(sts.get_caller_identity, "InvalidClientTokenId", 403, MSG_STS_INVALID_TOKEN)
    expect_error(iam_a.delete_access_key, "NoSuchEntity", 404,
                 f"The Access Key with id {key['AccessKeyId']} cannot be found.",
                 UserName=name, AccessKeyId=key["AccessKeyId"])
    iam_a.delete_user(UserName=name)


def test_access_key_quota_counts_inactive_keys(iam_a):
    name = unique("quota")
    iam_a.create_user(UserName=name)
    first = iam_a.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    second = iam_a.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    expect_error(iam_a.create_access_key, "LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2",
                 UserName=name)
    iam_a.update_access_key(UserName=name, AccessKeyId=first, Status="Inactive")
    expect_error(iam_a.create_access_key, "LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2",
                 UserName=name)
    assert {k["AccessKeyId"] for k in iam_a.list_access_keys(UserName=name)["AccessKeyMetadata"]} == {first, second}
    iam_a.delete_access_key(UserName=name, AccessKeyId=first)
    third = iam_a.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    assert {k["AccessKeyId"] for k in iam_a.list_access_keys(UserName=name)["AccessKeyMetadata"]} == {second, third}


def test_a_user_manages_its_own_keys_without_user_name(server, make_user):
    creds = make_user(policy=allow(["iam:CreateAccessKey", "iam:ListAccessKeys", "iam:UpdateAccessKey",
                                    "iam:DeleteAccessKey"]))
    iam = server.client("iam", creds)
    new = iam.create_access_key()["AccessKey"]
    assert new["UserName"] == creds.user_name
    assert {k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]} == {
        creds.access_key_id, new["AccessKeyId"]}
    iam.update_access_key(AccessKeyId=new["AccessKeyId"], Status="Inactive")
    iam.delete_access_key(AccessKeyId=new["AccessKeyId"])
    assert [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == [creds.access_key_id]


def test_access_key_errors_change_nothing(server, iam_a):
    owner, other = unique("owner"), unique("other")
    iam_a.create_user(UserName=owner)
    iam_a.create_user(UserName=other)
    key = iam_a.create_access_key(UserName=owner)["AccessKey"]["AccessKeyId"]
    ghost = unique("ghost")

    expect_error(iam_a.create_access_key, "NoSuchEntity", 404, no_such_user(ghost), UserName=ghost)
    expect_error(iam_a.list_access_keys, "NoSuchEntity", 404, no_such_user(ghost), UserName=ghost)
    expect_error(iam_a.update_access_key, "NoSuchEntity", 404,
                 "The Access Key with id AKIAIOSFODNN7EXAMPLE cannot be found.",
                 UserName=owner, AccessKeyId="AKIAIOSFODNN7EXAMPLE", Status="Inactive")
    # Another user's key is not found under this user (and is left alone).
    expect_error(iam_a.update_access_key, "NoSuchEntity", 404, f"The Access Key with id {key} cannot be found.",
                 UserName=other, AccessKeyId=key, Status="Inactive")
    expect_error(iam_a.delete_access_key, "NoSuchEntity", 404, f"The Access Key with id {key} cannot be found.",
                 UserName=other, AccessKeyId=key)

    raw = server.client("iam", server.admins[ACCOUNT_A], parameter_validation=False)
    expect_error(raw.update_access_key, "ValidationError", 400,
                 coral_any("status", "Member must satisfy enum value set: [Active, Inactive, Expired]"),
                 UserName=owner, AccessKeyId=key, Status="Disabled")
    expect_error(raw.update_access_key, "ValidationError", 400,
                 coral_any("accessKeyId", "Member must have length greater than or equal to 16"),
                 UserName=owner, AccessKeyId="AKIASHORT", Status="Inactive")

    assert [(k["AccessKeyId"], k["Status"]) for k in iam_a.list_access_keys(UserName=owner)["AccessKeyMetadata"]] \
        == [(key, "Active")]
    assert iam_a.list_access_keys(UserName=other)["AccessKeyMetadata"] == []


# --- DeleteConflict ---------------------------------------------------------------------
def test_delete_user_conflicts_in_order(iam_a):
    name = unique("busy")
    iam_a.create_user(UserName=name)
    key = iam_a.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    iam_a.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=allow("s3:GetObject"))
    iam_a.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    device = iam_a.create_virtual_mfa_device(VirtualMFADeviceName=unique("busy-mfa"))["VirtualMFADevice"]
    step = settled_step()
    iam_a.enable_mfa_device(UserName=name, SerialNumber=device["SerialNumber"],
                            AuthenticationCode1=totp(device["Base32StringSeed"], step - 1),
                            AuthenticationCode2=totp(device["Base32StringSeed"], step))

    def conflict(message: str) -> None:
        expect_error(iam_a.delete_user, "DeleteConflict", 409, message, UserName=name)
        assert iam_a.get_user(UserName=name)["User"]["UserName"] == name  # still there

    conflict("Cannot delete entity, must delete access keys first.")
    assert len(iam_a.list_access_keys(UserName=name)["AccessKeyMetadata"]) == 1
    iam_a.delete_access_key(UserName=name, AccessKeyId=key)
    conflict("Cannot delete entity, must delete policies first.")
    assert iam_a.list_user_policies(UserName=name)["PolicyNames"] == ["inline"]
    iam_a.delete_user_policy(UserName=name, PolicyName="inline")
    conflict("Cannot delete entity, must detach all policies first.")
    iam_a.detach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    # stsd has no DeactivateMFADevice: the MFA conflict is the last word for this user.
    conflict("Cannot delete entity, must delete MFA device first.")
    assert [d["SerialNumber"] for d in iam_a.list_mfa_devices(UserName=name)["MFADevices"]] == [
        device["SerialNumber"]]


def test_delete_user_after_clean_up(iam_a):
    name = unique("tidy")
    iam_a.create_user(UserName=name)
    key = iam_a.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    iam_a.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=allow("s3:GetObject"))
    iam_a.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam_a.delete_access_key(UserName=name, AccessKeyId=key)
    iam_a.delete_user_policy(UserName=name, PolicyName="p")
    iam_a.detach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam_a.delete_user(UserName=name)
    # The name is free again, for a brand-new user.
    again = iam_a.create_user(UserName=name.upper())["User"]
    assert again["UserName"] == name.upper()
    assert iam_a.list_access_keys(UserName=name)["AccessKeyMetadata"] == []
    assert iam_a.list_user_policies(UserName=name)["PolicyNames"] == []
    assert iam_a.list_attached_user_policies(UserName=name)["AttachedPolicies"] == []


def test_get_user_as_root_describes_the_root_user(server):
    me = server.client("iam", root_credentials(server)).get_user()["User"]
    assert set(me) == {"UserId", "Arn", "CreateDate"}
    assert me["UserId"] == ROOT_ACCOUNT
    assert me["Arn"] == f"arn:aws:iam::{ROOT_ACCOUNT}:root"
    assert abs(me["CreateDate"] - datetime.now(UTC)) < timedelta(hours=1)
