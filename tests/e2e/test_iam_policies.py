"""Inline policies of users and roles, customer managed policies and attachments.

Texts and shapes as recorded against AWS (LocalStack tests/aws/services/iam/
test_iam_policies / test_iam_roles / test_iam_users / test_iam_managed_policies snapshots,
2026): CreatePolicy answers without Description, GetPolicy with Description and Tags (an empty
list when none), ListPolicies without either; "Policy <arn> was not found." (GetPolicy,
DeletePolicy, detaching what is not attached), "... does not exist or is not attachable."
(attaching), "Policy <arn> version vN does not exist or is not attachable." (GetPolicyVersion,
also for an unknown policy), "ARN x is not valid.", "Cannot delete a policy attached to
entities.". MalformedPolicyDocument texts as IAM returns them (moto's AWS-validated table,
aws-cdk#9633, 99designs/iamy#74).
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import listed
from tests.e2e.test_iam_support import (
    ACCOUNT_A,
    MSG_BAD_NAME,
    POLICY_ID,
    assert_recent,
    coral_any,
    expect_error,
    no_such_role,
    no_such_user,
    trust,
    unique,
)

ACCOUNT_ROOT = {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"}
READ_ONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"


def s3_policy(*actions: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": list(actions), "Resource": ["arn:aws:s3:::bucket/*"]}]})


@pytest.fixture
def owners(iam_a):
    """(owner type, name, put, get, delete, list) for a fresh user and a fresh role."""
    user, role = unique("pu"), unique("pr")
    iam_a.create_user(UserName=user)
    iam_a.create_role(RoleName=role, AssumeRolePolicyDocument=trust(ACCOUNT_ROOT))
    return [
        ("user", {"UserName": user}, iam_a.put_user_policy, iam_a.get_user_policy, iam_a.delete_user_policy,
         iam_a.list_user_policies),
        ("role", {"RoleName": role}, iam_a.put_role_policy, iam_a.get_role_policy, iam_a.delete_role_policy,
         iam_a.list_role_policies),
    ]


# --- inline policies --------------------------------------------------------------------
def test_inline_policy_lifecycle(owners):
    for kind, owner, put, get, delete, list_ in owners:
        empty = list_(**owner)
        empty.pop("ResponseMetadata")
        assert empty == {"PolicyNames": [], "IsTruncated": False}
        document = s3_policy("s3:GetObject")
        assert set(put(**owner, PolicyName="Zeta", PolicyDocument=document)) == {"ResponseMetadata"}
        put(**owner, PolicyName="alpha", PolicyDocument=s3_policy("s3:PutObject"))
        got = get(**owner, PolicyName="Zeta")
        got.pop("ResponseMetadata")
        assert got == {**{k[:-4] + "Name": v for k, v in owner.items()}, "PolicyName": "Zeta",
                       "PolicyDocument": json.loads(document)}
        assert list_(**owner)["PolicyNames"] == ["alpha", "Zeta"]

        # Names are case-insensitive; putting again replaces the document, keeps the name.
        replaced = s3_policy("s3:GetObject", "s3:ListBucket")
        put(**owner, PolicyName="ZETA", PolicyDocument=replaced)
        again = get(**owner, PolicyName="zeta")
        assert (again["PolicyName"], again["PolicyDocument"]) == ("Zeta", json.loads(replaced))
        assert list_(**owner)["PolicyNames"] == ["alpha", "Zeta"]

        delete(**owner, PolicyName="zeta")
        assert list_(**owner)["PolicyNames"] == ["alpha"]
        missing = f"The {kind} policy with name Zeta cannot be found."
        expect_error(get, "NoSuchEntity", 404, missing, **owner, PolicyName="Zeta")
        expect_error(delete, "NoSuchEntity", 404, missing, **owner, PolicyName="Zeta")


def test_inline_policy_on_missing_owner(iam_a):
    ghost = unique("ghost")
    document = s3_policy("s3:GetObject")
    expect_error(iam_a.put_user_policy, "NoSuchEntity", 404, no_such_user(ghost),
                 UserName=ghost, PolicyName="p", PolicyDocument=document)
    expect_error(iam_a.get_user_policy, "NoSuchEntity", 404, no_such_user(ghost), UserName=ghost, PolicyName="p")
    expect_error(iam_a.list_user_policies, "NoSuchEntity", 404, no_such_user(ghost), UserName=ghost)
    expect_error(iam_a.put_role_policy, "NoSuchEntity", 404, no_such_role(ghost),
                 RoleName=ghost, PolicyName="p", PolicyDocument=document)
    expect_error(iam_a.delete_role_policy, "NoSuchEntity", 404, no_such_role(ghost), RoleName=ghost, PolicyName="p")


BAD_IDENTITY = [
    ("[broken", "This policy contains invalid Json"),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}),
     "Policy statement must contain resources."),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
     "Policy statement must contain actions."),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                                          "Resource": "*"}]}),
     "Policy document should not specify a principal."),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "GetObject",
                                                          "Resource": "*"}]}),
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                          "Resource": "bucket"}]}),
     'Resource bucket must be in ARN format or "*".'),
    (json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}}),
     "Syntax errors in policy."),
]


@pytest.mark.parametrize(("document", "message"), BAD_IDENTITY, ids=[m[:40] for _, m in BAD_IDENTITY])
def test_malformed_identity_documents_change_nothing(owners, iam_a, document, message):
    for _kind, owner, put, get, _delete, list_ in owners:
        put(**owner, PolicyName="keep", PolicyDocument=s3_policy("s3:GetObject"))
        before = list_(**owner)["PolicyNames"]
        expect_error(put, "MalformedPolicyDocument", 400, message, **owner, PolicyName="new", PolicyDocument=document)
        expect_error(put, "MalformedPolicyDocument", 400, message, **owner, PolicyName="keep",
                     PolicyDocument=document)
        assert list_(**owner)["PolicyNames"] == before
        assert get(**owner, PolicyName="keep")["PolicyDocument"] == json.loads(s3_policy("s3:GetObject"))
    name = unique("bad")
    expect_error(iam_a.create_policy, "MalformedPolicyDocument", 400, message, PolicyName=name, PolicyDocument=document)
    assert name not in [p["PolicyName"] for p in listed(iam_a, "list_policies", "Policies", Scope="Local")]


def test_bad_policy_names(owners):
    for _kind, owner, put, *_rest in owners:
        expect_error(put, "ValidationError", 400, MSG_BAD_NAME.format(member="policyName"),
                     **owner, PolicyName="no spaces", PolicyDocument=s3_policy("s3:GetObject"))


# --- managed policies -------------------------------------------------------------------
def test_create_get_list_delete_policy(iam_a):
    name = unique("ReadBucket")
    path = f"/{unique('team')}/"
    document = s3_policy("s3:GetObject")
    created = iam_a.create_policy(PolicyName=name, Path=path, PolicyDocument=document,
                                  Description="reads the bucket")["Policy"]
    arn = f"arn:aws:iam::{ACCOUNT_A}:policy{path}{name}"
    assert set(created) == {"PolicyName", "PolicyId", "Arn", "Path", "DefaultVersionId", "AttachmentCount",
                            "PermissionsBoundaryUsageCount", "IsAttachable", "CreateDate", "UpdateDate"}
    assert (created["PolicyName"], created["Arn"], created["Path"]) == (name, arn, path)
    assert POLICY_ID.fullmatch(created["PolicyId"])
    assert (created["DefaultVersionId"], created["AttachmentCount"], created["PermissionsBoundaryUsageCount"],
            created["IsAttachable"]) == ("v1", 0, 0, True)
    assert_recent(created["CreateDate"])
    assert created["UpdateDate"] == created["CreateDate"]

    got = iam_a.get_policy(PolicyArn=arn)["Policy"]
    assert got == {**created, "Description": "reads the bucket", "Tags": []}

    version = iam_a.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version == {"Document": json.loads(document), "VersionId": "v1", "IsDefaultVersion": True,
                       "CreateDate": created["CreateDate"]}

    listed = iam_a.list_policies(Scope="Local", PathPrefix=path)
    assert listed["IsTruncated"] is False
    assert listed["Policies"] == [created]
    assert iam_a.list_policies(Scope="AWS", PathPrefix=path)["Policies"] == []

    assert set(iam_a.delete_policy(PolicyArn=arn)) == {"ResponseMetadata"}
    expect_error(iam_a.get_policy, "NoSuchEntity", 404, f"Policy {arn} was not found.", PolicyArn=arn)
    expect_error(iam_a.delete_policy, "NoSuchEntity", 404, f"Policy {arn} was not found.", PolicyArn=arn)
    expect_error(iam_a.get_policy_version, "NoSuchEntity", 404,
                 f"Policy {arn} version v1 does not exist or is not attachable.", PolicyArn=arn, VersionId="v1")
    assert iam_a.list_policies(Scope="Local", PathPrefix=path)["Policies"] == []


def test_create_policy_with_tags_echoes_them(iam_a):
    created = iam_a.create_policy(PolicyName=unique("tagged"), PolicyDocument=s3_policy("s3:GetObject"),
                                  Tags=[{"Key": "owner", "Value": "ops"}])["Policy"]
    assert created["Tags"] == [{"Key": "owner", "Value": "ops"}]


def test_policy_errors_change_nothing(server, iam_a):
    name = unique("Dup")
    arn = iam_a.create_policy(PolicyName=name, PolicyDocument=s3_policy("s3:GetObject"))["Policy"]["Arn"]
    before = sorted(p["Arn"] for p in listed(iam_a, "list_policies", "Policies", Scope="Local"))

    expect_error(iam_a.create_policy, "EntityAlreadyExists", 409,
                 f"A policy called {name.lower()} already exists. Duplicate names are not allowed.",
                 PolicyName=name.lower(), PolicyDocument=s3_policy("s3:GetObject"), Path="/other/")
    no_version = json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    expect_error(iam_a.create_policy, "MalformedPolicyDocument", 400,
                 "Policy document must be version 2012-10-17 or greater.",
                 PolicyName=unique("old"), PolicyDocument=no_version)
    old_version = json.dumps({"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                                      "Resource": "*"}]})
    expect_error(iam_a.create_policy, "MalformedPolicyDocument", 400,
                 "Policy document must be version 2012-10-17 or greater.",
                 PolicyName=unique("old"), PolicyDocument=old_version)
    expect_error(iam_a.get_policy_version, "NoSuchEntity", 404,
                 f"Policy {arn} version v2 does not exist or is not attachable.", PolicyArn=arn, VersionId="v2")
    raw = server.client("iam", server.admins[ACCOUNT_A], parameter_validation=False)
    expect_error(raw.get_policy_version, "ValidationError", 400,
                 coral_any("versionId",
                           "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?"),
                 PolicyArn=arn, VersionId="1")
    expect_error(raw.list_policies, "ValidationError", 400,
                 coral_any("scope", "Member must satisfy enum value set: [All, AWS, Local]"), Scope="Mine")
    assert sorted(p["Arn"] for p in listed(iam_a, "list_policies", "Policies", Scope="Local")) == before


def test_aws_managed_policies_are_listed_and_readable(iam_a):
    aws = {p["PolicyName"]: p for p in listed(iam_a, "list_policies", "Policies", Scope="AWS")}
    assert {"AdministratorAccess", "IAMReadOnlyAccess", "PowerUserAccess"} <= set(aws)
    assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in aws.values())
    got = iam_a.get_policy(PolicyArn=READ_ONLY)["Policy"]
    assert (got["PolicyName"], got["Arn"], got["IsAttachable"], got["Tags"]) == (
        "IAMReadOnlyAccess", READ_ONLY, True, [])
    assert got["Description"] == "Provides read only access to IAM via the AWS Management Console."
    document = iam_a.get_policy_version(PolicyArn=READ_ONLY, VersionId=got["DefaultVersionId"])["PolicyVersion"]
    assert "iam:Get*" in document["Document"]["Statement"][0]["Action"]
    local = [p["Arn"] for p in listed(iam_a, "list_policies", "Policies", Scope="Local")]
    assert not [a for a in local if a.startswith("arn:aws:iam::aws:")]


def test_attach_detach_and_counts(iam_a):
    user, role = unique("au"), unique("ar")
    iam_a.create_user(UserName=user)
    iam_a.create_role(RoleName=role, AssumeRolePolicyDocument=trust(ACCOUNT_ROOT))
    name = unique("Shared")
    path = f"/{unique('att')}/"
    arn = iam_a.create_policy(PolicyName=name, Path=path, PolicyDocument=s3_policy("s3:GetObject"))["Policy"]["Arn"]

    assert iam_a.list_policies(Scope="Local", PathPrefix=path, OnlyAttached=True)["Policies"] == []
    assert set(iam_a.attach_user_policy(UserName=user, PolicyArn=arn)) == {"ResponseMetadata"}
    iam_a.attach_user_policy(UserName=user.upper(), PolicyArn=arn)  # again, any case: a no-op
    iam_a.attach_role_policy(RoleName=role, PolicyArn=arn)
    iam_a.attach_role_policy(RoleName=role, PolicyArn=READ_ONLY)

    assert iam_a.list_attached_user_policies(UserName=user)["AttachedPolicies"] == [
        {"PolicyName": name, "PolicyArn": arn}]
    attached = iam_a.list_attached_role_policies(RoleName=role)
    assert attached["IsTruncated"] is False
    assert attached["AttachedPolicies"] == [{"PolicyName": name, "PolicyArn": arn},
                                            {"PolicyName": "IAMReadOnlyAccess", "PolicyArn": READ_ONLY}]
    assert iam_a.list_attached_role_policies(RoleName=role, PathPrefix=path)["AttachedPolicies"] == [
        {"PolicyName": name, "PolicyArn": arn}]
    assert iam_a.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 2
    assert [p["Arn"] for p in iam_a.list_policies(Scope="Local", PathPrefix=path, OnlyAttached=True)["Policies"]] \
        == [arn]

    expect_error(iam_a.delete_policy, "DeleteConflict", 409, "Cannot delete a policy attached to entities.",
                 PolicyArn=arn)
    iam_a.detach_user_policy(UserName=user, PolicyArn=arn)
    expect_error(iam_a.detach_user_policy, "NoSuchEntity", 404, f"Policy {arn} was not found.",
                 UserName=user, PolicyArn=arn)
    expect_error(iam_a.delete_policy, "DeleteConflict", 409, "Cannot delete a policy attached to entities.",
                 PolicyArn=arn)
    iam_a.detach_role_policy(RoleName=role, PolicyArn=arn)
    assert iam_a.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    iam_a.delete_policy(PolicyArn=arn)
    assert iam_a.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == [
        {"PolicyName": "IAMReadOnlyAccess", "PolicyArn": READ_ONLY}]


def test_attach_errors_change_nothing(iam_a):
    user = unique("ae")
    iam_a.create_user(UserName=user)
    iam_a.attach_user_policy(UserName=user, PolicyArn=READ_ONLY)
    missing = f"arn:aws:iam::{ACCOUNT_A}:policy/{unique('nonexistent')}"
    expect_error(iam_a.attach_user_policy, "NoSuchEntity", 404,
                 f"Policy {missing} does not exist or is not attachable.", UserName=user, PolicyArn=missing)
    expect_error(iam_a.attach_user_policy, "ValidationError", 400, "ARN longpolicynamebutnoarn is not valid.",
                 UserName=user, PolicyArn="longpolicynamebutnoarn")
    ghost = unique("ghost")
    expect_error(iam_a.attach_user_policy, "NoSuchEntity", 404, no_such_user(ghost), UserName=ghost,
                 PolicyArn=READ_ONLY)
    expect_error(iam_a.attach_role_policy, "NoSuchEntity", 404, no_such_role(ghost), RoleName=ghost,
                 PolicyArn=READ_ONLY)
    expect_error(iam_a.detach_user_policy, "NoSuchEntity", 404,
                 "Policy arn:aws:iam::aws:policy/AdministratorAccess was not found.",
                 UserName=user, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert iam_a.list_attached_user_policies(UserName=user)["AttachedPolicies"] == [
        {"PolicyName": "IAMReadOnlyAccess", "PolicyArn": READ_ONLY}]


def test_policy_used_as_permissions_boundary(iam_a):
    arn = iam_a.create_policy(PolicyName=unique("Boundary"), PolicyDocument=s3_policy("s3:GetObject"))["Policy"]["Arn"]
    role = unique("fenced")
    iam_a.create_role(RoleName=role, AssumeRolePolicyDocument=trust(ACCOUNT_ROOT), PermissionsBoundary=arn)
    got = iam_a.get_policy(PolicyArn=arn)["Policy"]
    assert (got["AttachmentCount"], got["PermissionsBoundaryUsageCount"]) == (0, 1)
    # A policy in use as a boundary cannot be deleted either (cloud-nuke#972).
    expect_error(iam_a.delete_policy, "DeleteConflict", 409, "Cannot delete a policy attached to entities.",
                 PolicyArn=arn)
    iam_a.delete_role(RoleName=role)
    iam_a.delete_policy(PolicyArn=arn)
