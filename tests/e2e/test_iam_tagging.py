"""IAM tagging against a real server: Tag/Untag/List{Role,User,Policy,OpenIDConnectProvider}Tags
with boto3 (and one AWS CLI call).

Sources: LocalStack's AWS-validated tests/aws/services/iam/test_iam_roles.snapshot.json (2026)
for the role texts (NoSuchEntity on Tag/Untag/List, 'tags'/'tagKeys' validation clauses,
duplicate keys); the IAM User Guide ("Rules for tagging in IAM and AWS STS") for case
handling: user and role tag keys are case-insensitive ("If you have tagged a user with the
Department=finance tag and you add the department=hr tag, it replaces the first tag"), those of
customer managed policies and OIDC providers are not ("the policy will have both the
Costcenter and costcenter tag keys"), and "aws:" is reserved. Not from a recorded response
(stsd's choices): the LimitExceeded text past 50 tags, the aws: prefix refusal text, and
"Invalid Marker.".
"""

from __future__ import annotations

import functools
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stsd.testing import Credentials, StsdServer
from tests.conftest import run_aws_cli, session_credentials
from tests.e2e.test_iam_support import (
    ACCOUNT_A,
    allow,
    coral,
    denied,
    expect_error,
    no_such_role,
    no_such_user,
    trust,
    unique,
)

TRUST = trust({"Service": "ec2.amazonaws.com"})
MSG_DUPLICATE = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
MSG_RESERVED = "Tag keys and values cannot begin with the reserved prefix aws:."
MSG_INVALID_MARKER = "Invalid Marker."
TAG_KEY_PATTERN = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"
TAG_KEYS_MEMBERS = (
    "Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have "
    f"length greater than or equal to 1, Member must satisfy regular expression pattern: {TAG_KEY_PATTERN}, "
    "Member must not be null]"
)


def tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def many(count: int, prefix: str = "k") -> list[dict[str, str]]:
    return [{"Key": f"{prefix}{i:02d}", "Value": str(i)} for i in range(count)]


@pytest.fixture(scope="module")
def raw(server: StsdServer) -> Any:
    """A client that sends what it is given (botocore validates lengths and list sizes)."""
    return server.client("iam", server.admins[ACCOUNT_A], parameter_validation=False)


# --- one adapter per taggable resource type: create, then the three calls by resource id ------
class Kind:
    def __init__(self, iam: Any, title: str, create: Callable[[Any], dict[str, str]]):
        self.iam, self.title, self._create = iam, title, create

    def new(self, **extra: Any) -> dict[str, str]:
        return self._create(self.iam, **extra)

    def call(self, client: Any, verb: str, ident: dict[str, str], **kwargs: Any) -> Any:
        method = {"Tag": f"tag_{self.snake}", "Untag": f"untag_{self.snake}", "List": f"list_{self.snake}_tags"}[verb]
        return getattr(client, method)(**ident, **kwargs)

    @property
    def snake(self) -> str:
        return {"Role": "role", "User": "user", "Policy": "policy",
                "OpenIDConnectProvider": "open_id_connect_provider"}[self.title]

    def fn(self, client: Any, verb: str, ident: dict[str, str]) -> Callable[..., Any]:
        return functools.partial(self.call, client, verb, ident)

    def listed(self, ident: dict[str, str]) -> list[dict[str, str]]:
        out = self.call(self.iam, "List", ident)
        assert out["IsTruncated"] is False and "Marker" not in out
        return out["Tags"]


def _role(iam: Any, **extra: Any) -> dict[str, str]:
    name = unique("tr")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, **extra)
    return {"RoleName": name}


def _user(iam: Any, **extra: Any) -> dict[str, str]:
    name = unique("tu")
    iam.create_user(UserName=name, **extra)
    return {"UserName": name}


def _policy(iam: Any, **extra: Any) -> dict[str, str]:
    arn = iam.create_policy(PolicyName=unique("tp"), PolicyDocument=allow("s3:GetObject"), **extra)["Policy"]["Arn"]
    return {"PolicyArn": arn}


def _provider(iam: Any, **extra: Any) -> dict[str, str]:
    arn = iam.create_open_id_connect_provider(Url=f"https://{unique('idp')}.example.com", ClientIDList=["c"],
                                              ThumbprintList=["a" * 40], **extra)["OpenIDConnectProviderArn"]
    return {"OpenIDConnectProviderArn": arn}


KINDS = {"Role": _role, "User": _user, "Policy": _policy, "OpenIDConnectProvider": _provider}


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest, iam_a: Any) -> Kind:
    return Kind(iam_a, request.param, KINDS[request.param])


def missing(title: str) -> tuple[dict[str, str], str]:
    """(identifier of a resource that does not exist, IAM's NoSuchEntity text for it)."""
    if title == "Role":
        name = unique("gone")
        return {"RoleName": name}, no_such_role(name)
    if title == "User":
        name = unique("gone")
        return {"UserName": name}, no_such_user(name)
    if title == "Policy":
        arn = f"arn:aws:iam::{ACCOUNT_A}:policy/{unique('gone')}"
        return {"PolicyArn": arn}, f"Policy {arn} was not found."
    arn = f"arn:aws:iam::{ACCOUNT_A}:oidc-provider/{unique('gone')}.example.com"
    return {"OpenIDConnectProviderArn": arn}, f"OpenIDConnect Provider not found for arn {arn}"


# --- every type: lifecycle, exact responses ---------------------------------------------------
def test_tag_list_untag_lifecycle(kind: Kind):
    ident = kind.new()
    assert kind.listed(ident) == []
    out = kind.call(kind.iam, "Tag", ident, Tags=tags(team="blue", env="prod"))
    assert set(out) == {"ResponseMetadata"}
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert kind.listed(ident) == tags(team="blue", env="prod")
    # An existing key takes the new value in place; new keys go at the end; empty values are fine.
    kind.call(kind.iam, "Tag", ident, Tags=tags(team="red", owner=""))
    assert kind.listed(ident) == tags(team="red", env="prod", owner="")
    out = kind.call(kind.iam, "Untag", ident, TagKeys=["env", "not-there"])
    assert set(out) == {"ResponseMetadata"}
    assert kind.listed(ident) == tags(team="red", owner="")
    kind.call(kind.iam, "Untag", ident, TagKeys=["never-set"])  # absent keys: a no-op success
    kind.call(kind.iam, "Untag", ident, TagKeys=[])
    assert kind.listed(ident) == tags(team="red", owner="")
    kind.call(kind.iam, "Untag", ident, TagKeys=["team", "owner"])
    assert kind.listed(ident) == []


def test_get_calls_show_the_tags(iam_a):
    role = _role(iam_a, Tags=tags(a="1"))
    iam_a.tag_role(**role, Tags=tags(b="2"))
    assert iam_a.get_role(**role)["Role"]["Tags"] == tags(a="1", b="2")
    iam_a.untag_role(**role, TagKeys=["a", "b"])
    assert "Tags" not in iam_a.get_role(**role)["Role"]

    user = _user(iam_a)
    iam_a.tag_user(**user, Tags=tags(team="blue"))
    assert iam_a.get_user(**user)["User"]["Tags"] == tags(team="blue")

    # Managed policy tags given to CreatePolicy are kept: GetPolicy and ListPolicyTags show them.
    policy = _policy(iam_a, Tags=tags(owner="ops"))
    assert iam_a.get_policy(**policy)["Policy"]["Tags"] == tags(owner="ops")
    assert iam_a.list_policy_tags(**policy)["Tags"] == tags(owner="ops")
    iam_a.tag_policy(**policy, Tags=tags(tier="gold"))
    assert iam_a.get_policy(**policy)["Policy"]["Tags"] == tags(owner="ops", tier="gold")
    iam_a.untag_policy(**policy, TagKeys=["owner", "tier"])
    assert iam_a.get_policy(**policy)["Policy"]["Tags"] == []

    provider = _provider(iam_a, Tags=tags(idp="corp"))
    iam_a.tag_open_id_connect_provider(**provider, Tags=tags(stage="test"))
    assert iam_a.get_open_id_connect_provider(**provider)["Tags"] == tags(idp="corp", stage="test")


def test_wire_format(server, iam_a):
    role = _role(iam_a, Tags=tags(k1="v1"))
    bodies: list[str] = []
    iam = server.client("iam", server.admins[ACCOUNT_A])
    for event in ("after-call.iam.TagRole", "after-call.iam.ListRoleTags", "after-call.iam.UntagRole"):
        iam.meta.events.register(event, lambda http_response, **_: bodies.append(http_response.text))
    iam.tag_role(**role, Tags=tags(k2="v2"))
    iam.list_role_tags(**role)
    iam.untag_role(**role, TagKeys=["k2"])
    tagged, listed, untagged = bodies
    ns = 'xmlns="https://iam.amazonaws.com/doc/2010-05-08/"'
    assert tagged.startswith(f"<TagRoleResponse {ns}>") and "Result" not in tagged
    assert untagged.startswith(f"<UntagRoleResponse {ns}>") and "Result" not in untagged
    result = listed[listed.index("<ListRoleTagsResult>"):listed.index("</ListRoleTagsResult>")]
    compact = "".join(line.strip() for line in result.splitlines())
    assert compact == ("<ListRoleTagsResult><Tags><member><Key>k1</Key><Value>v1</Value></member>"
                       "<member><Key>k2</Key><Value>v2</Value></member></Tags><IsTruncated>false</IsTruncated>")


# --- case of keys ---------------------------------------------------------------------------
@pytest.mark.parametrize("title", ["Role", "User"])
def test_user_and_role_keys_are_case_insensitive(iam_a, title):
    kind = Kind(iam_a, title, KINDS[title])
    ident = kind.new(Tags=tags(Department="finance", other="x"))
    # "it replaces the first tag. A second tag is not added": the tag given, as given.
    kind.call(iam_a, "Tag", ident, Tags=tags(department="hr"))
    assert kind.listed(ident) == tags(department="hr", other="x")
    kind.call(iam_a, "Tag", ident, Tags=tags(DEPARTMENT="it"))
    assert kind.listed(ident) == tags(DEPARTMENT="it", other="x")
    kind.call(iam_a, "Untag", ident, TagKeys=["dePARTment"])
    assert kind.listed(ident) == tags(other="x")


@pytest.mark.parametrize("title", ["Policy", "OpenIDConnectProvider"])
def test_policy_and_provider_keys_are_case_sensitive(iam_a, title):
    kind = Kind(iam_a, title, KINDS[title])
    ident = kind.new(Tags=tags(Costcenter="1234"))
    kind.call(iam_a, "Tag", ident, Tags=tags(costcenter="5678"))
    assert kind.listed(ident) == tags(Costcenter="1234", costcenter="5678")
    kind.call(iam_a, "Untag", ident, TagKeys=["COSTCENTER"])  # no such key: nothing happens
    assert kind.listed(ident) == tags(Costcenter="1234", costcenter="5678")
    kind.call(iam_a, "Untag", ident, TagKeys=["costcenter"])
    assert kind.listed(ident) == tags(Costcenter="1234")


# --- limits ------------------------------------------------------------------------------------
QUOTAS = {"Role": "TagsPerRole", "User": "TagsPerUser", "Policy": "TagsPerPolicy",
          "OpenIDConnectProvider": "TagsPerOpenIdConnectProvider"}


def test_fifty_tags_per_resource(kind: Kind):
    ident = kind.new(Tags=many(45))
    quota = f"Cannot exceed quota for {QUOTAS[kind.title]}: 50"
    expect_error(kind.fn(kind.iam, "Tag", ident), "LimitExceeded", 409, quota, Tags=many(6, "n"))
    assert kind.listed(ident) == many(45)  # nothing of the refused request was stored
    kind.call(kind.iam, "Tag", ident, Tags=many(5, "n"))
    assert len(kind.listed(ident)) == 50
    # Replacing values of a full resource is fine; one more key is not.
    kind.call(kind.iam, "Tag", ident, Tags=[{"Key": "k00", "Value": "new"}])
    expect_error(kind.fn(kind.iam, "Tag", ident), "LimitExceeded", 409, quota, Tags=tags(extra="1"))
    listed = kind.listed(ident)
    assert len(listed) == 50 and listed[0] == {"Key": "k00", "Value": "new"}


def test_fifty_one_tags_in_one_request_is_a_validation_error(kind: Kind, raw):
    ident = kind.new(Tags=tags(keep="me"))
    expect_error(kind.fn(raw, "Tag", ident), "ValidationError", 400,
                 coral("tags", "Member must have length less than or equal to 50"), Tags=many(51))
    expect_error(kind.fn(raw, "Untag", ident), "ValidationError", 400,
                 coral("tagKeys", "Member must have length less than or equal to 50"),
                 TagKeys=[f"k{i}" for i in range(51)])
    assert kind.listed(ident) == tags(keep="me")


# --- bad input: the AWS error and no change ---------------------------------------------------
def test_bad_tags_change_nothing(kind: Kind, raw):
    ident = kind.new(Tags=tags(keep="me"))
    cases = [
        (tags(k="a", K="b"), "InvalidInput", MSG_DUPLICATE),
        (tags(k="a", k2="b") + tags(k="c"), "InvalidInput", MSG_DUPLICATE),
        ([{"Key": "x" * 129, "Value": "v"}], "ValidationError",
         coral("tags.1.member.key", "Member must have length less than or equal to 128")),
        ([{"Key": "ok", "Value": "v"}, {"Key": "k", "Value": "v" * 257}], "ValidationError",
         coral("tags.2.member.value", "Member must have length less than or equal to 256")),
        ([{"Key": "invalid!key", "Value": "v"}], "ValidationError",
         coral("tags.1.member.key", f"Member must satisfy regular expression pattern: {TAG_KEY_PATTERN}")),
        ([{"Key": "", "Value": "v"}], "ValidationError",
         "2 validation errors detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must "
         f"satisfy regular expression pattern: {TAG_KEY_PATTERN}; Value at 'tags.1.member.key' failed to satisfy "
         "constraint: Member must have length greater than or equal to 1"),
        (tags(**{"aws:team": "x"}), "InvalidInput", MSG_RESERVED),
        (tags(**{"AWS:Team": "x"}), "InvalidInput", MSG_RESERVED),
        (tags(team="aws:x"), "InvalidInput", MSG_RESERVED),
    ]
    for given, code, message in cases:
        expect_error(kind.fn(raw, "Tag", ident), code, 400, message, Tags=given)
    for keys in (["x" * 129], ["bad!key"], [""], ["ok", "k" * 200]):
        expect_error(kind.fn(raw, "Untag", ident), "ValidationError", 400, coral("tagKeys", TAG_KEYS_MEMBERS),
                     TagKeys=keys)
    expect_error(kind.fn(raw, "Untag", ident), "ValidationError", 400,
                 f"2 validation errors detected: Value at 'tagKeys' failed to satisfy constraint: {TAG_KEYS_MEMBERS}"
                 "; Value at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal "
                 "to 50", TagKeys=["bad!"] * 51)
    assert kind.listed(ident) == tags(keep="me")


def test_tags_are_required(kind: Kind, raw):
    ident = kind.new()
    expect_error(kind.fn(raw, "Tag", ident), "ValidationError", 400, coral("tags", "Member must not be null"))
    expect_error(kind.fn(raw, "Untag", ident), "ValidationError", 400, coral("tagKeys", "Member must not be null"))


def test_missing_resources(kind: Kind):
    ident, message = missing(kind.title)
    expect_error(kind.fn(kind.iam, "Tag", ident), "NoSuchEntity", 404, message, Tags=tags(a="b"))
    expect_error(kind.fn(kind.iam, "Untag", ident), "NoSuchEntity", 404, message, TagKeys=["a"])
    expect_error(kind.fn(kind.iam, "List", ident), "NoSuchEntity", 404, message)


def test_validation_comes_before_the_missing_resource(raw):
    """As recorded: 51 tags for a role that does not exist is a ValidationError."""
    name = unique("gone")
    expect_error(raw.tag_role, "ValidationError", 400, coral("tags", "Member must have length less than or equal "
                                                                      "to 50"), RoleName=name, Tags=many(51))
    expect_error(raw.tag_role, "InvalidInput", 400, MSG_DUPLICATE, RoleName=name, Tags=tags(a="1", A="2"))


def test_names_and_arns_of_other_shapes(iam_a, raw):
    expect_error(raw.tag_role, "ValidationError", 400,
                 coral("roleName", "Member must have length less than or equal to 64"),
                 RoleName="r" * 65, Tags=tags(a="b"))
    expect_error(iam_a.tag_user, "ValidationError", 400,
                 "The specified value for userName is invalid. It must contain only alphanumeric characters "
                 "and/or the following: +=,.@_-", UserName="bad name", Tags=tags(a="b"))
    # A policy of another account, or an AWS-managed one, is not the caller's to tag.
    other = f"arn:aws:iam::210987654321:policy/{unique('p')}"
    expect_error(iam_a.tag_policy, "AccessDenied", 403,
                 denied(f"arn:aws:iam::{ACCOUNT_A}:user/admin", "iam:TagPolicy", f"policy {other}",
                        "because no resource-based policy allows the iam:TagPolicy action"),
                 PolicyArn=other, Tags=tags(a="b"))
    managed = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
    expect_error(iam_a.tag_policy, "NoSuchEntity", 404, f"Policy {managed} was not found.",
                 PolicyArn=managed, Tags=tags(a="b"))
    assert iam_a.list_policy_tags(PolicyArn=managed)["Tags"] == []


# --- pagination ------------------------------------------------------------------------------
def test_list_tags_pagination(kind: Kind, raw):
    ident = kind.new(Tags=many(7))
    first = kind.call(kind.iam, "List", ident, MaxItems=3)
    assert list(first) == ["Tags", "IsTruncated", "Marker", "ResponseMetadata"]
    assert (first["Tags"], first["IsTruncated"]) == (many(7)[:3], True)
    second = kind.call(kind.iam, "List", ident, MaxItems=3, Marker=first["Marker"])
    assert (second["Tags"], second["IsTruncated"]) == (many(7)[3:6], True)
    last = kind.call(kind.iam, "List", ident, MaxItems=3, Marker=second["Marker"])
    assert (last["Tags"], last["IsTruncated"], "Marker" in last) == (many(7)[6:], False, False)
    paginator = kind.iam.get_paginator(f"list_{kind.snake}_tags")
    pages = list(paginator.paginate(**ident, PaginationConfig={"PageSize": 2}))
    assert [len(p["Tags"]) for p in pages] == [2, 2, 2, 1]
    assert [t for p in pages for t in p["Tags"]] == many(7)
    # A marker belongs to its listing: not to another resource's, nor a made-up one.
    other = kind.new(Tags=many(7))
    expect_error(kind.fn(kind.iam, "List", other), "ValidationError", 400, MSG_INVALID_MARKER, MaxItems=3,
                 Marker=first["Marker"])
    expect_error(kind.fn(kind.iam, "List", ident), "ValidationError", 400, MSG_INVALID_MARKER, Marker="nope")
    expect_error(kind.fn(raw, "List", ident), "ValidationError", 400,
                 coral("maxItems", "Member must have value greater than or equal to 1"),
                 MaxItems=0)


def test_marker_of_one_action_is_refused_by_another(iam_a):
    role, user = _role(iam_a, Tags=many(3)), _user(iam_a, Tags=many(3))
    marker = iam_a.list_role_tags(**role, MaxItems=1)["Marker"]
    expect_error(iam_a.list_user_tags, "ValidationError", 400, MSG_INVALID_MARKER, **user, Marker=marker)


# --- authorisation -----------------------------------------------------------------------------
def test_authorisation_on_the_resource_arn(server, iam_a, make_user):
    role = _role(iam_a, Path="/team/")
    name = role["RoleName"]
    arn = f"arn:aws:iam::{ACCOUNT_A}:role/team/{name}"
    nobody = make_user()
    iam = server.client("iam", nobody)
    caller = f"arn:aws:iam::{ACCOUNT_A}:user/{nobody.user_name}"
    for call, action, kwargs in ((iam.tag_role, "iam:TagRole", {"Tags": tags(a="b")}),
                                 (iam.untag_role, "iam:UntagRole", {"TagKeys": ["a"]}),
                                 (iam.list_role_tags, "iam:ListRoleTags", {})):
        expect_error(call, "AccessDenied", 403, denied(caller, action, f"role {name}"), RoleName=name, **kwargs)
    assert iam_a.list_role_tags(RoleName=name)["Tags"] == []

    tagger = make_user(policy=allow(["iam:TagRole", "iam:ListRoleTags"], f"arn:aws:iam::{ACCOUNT_A}:role/team/*"))
    iam = server.client("iam", tagger)
    iam.tag_role(RoleName=name, Tags=tags(a="b"))
    assert iam.list_role_tags(RoleName=name)["Tags"] == tags(a="b")
    expect_error(iam.untag_role, "AccessDenied", 403,
                 denied(f"arn:aws:iam::{ACCOUNT_A}:user/{tagger.user_name}", "iam:UntagRole", f"role {name}"),
                 RoleName=name, TagKeys=["a"])
    assert arn == iam_a.get_role(RoleName=name)["Role"]["Arn"]

    policy = _policy(iam_a)
    expect_error(server.client("iam", nobody).tag_policy, "AccessDenied", 403,
                 denied(caller, "iam:TagPolicy", f"policy {policy['PolicyArn']}"), **policy, Tags=tags(a="b"))


# --- tag-based access control on the IAM calls themselves ----------------------------------------
def conditioned(actions: list[str], condition: dict[str, Any], resource: str = "*") -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": resource, "Condition": condition}]})


def test_request_tags_and_tag_keys_govern_tagging_and_creation(server, iam_a, make_user):
    """aws:RequestTag/… and aws:TagKeys of TagRole, UntagRole and CreateRole (ABAC)."""
    user = make_user(policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:TagRole", "iam:UntagRole"], "Resource": "*",
         "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "stage"]}}},
        {"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/team": "blue"}}},
    ]}))
    iam = server.client("iam", user)
    caller = f"arn:aws:iam::{ACCOUNT_A}:user/{user.user_name}"
    name = _role(iam_a)["RoleName"]
    iam.tag_role(RoleName=name, Tags=tags(team="blue", stage="dev"))
    expect_error(iam.tag_role, "AccessDenied", 403, denied(caller, "iam:TagRole", f"role {name}"),
                 RoleName=name, Tags=tags(team="red", owner="me"))
    expect_error(iam.untag_role, "AccessDenied", 403, denied(caller, "iam:UntagRole", f"role {name}"),
                 RoleName=name, TagKeys=["stage", "owner"])
    iam.untag_role(RoleName=name, TagKeys=["stage"])
    assert iam_a.list_role_tags(RoleName=name)["Tags"] == tags(team="blue")

    blue, red = unique("blue"), unique("red")
    iam.create_role(RoleName=blue, AssumeRolePolicyDocument=TRUST, Tags=tags(team="blue"))
    expect_error(iam.create_role, "AccessDenied", 403,
                 denied(caller, "iam:CreateRole", f"arn:aws:iam::{ACCOUNT_A}:role/{red}"),
                 RoleName=red, AssumeRolePolicyDocument=TRUST, Tags=tags(team="red"))
    expect_error(iam_a.get_role, "NoSuchEntity", 404, no_such_role(red), RoleName=red)


def test_resource_tags_govern_calls_on_existing_roles_users_and_policies(server, iam_a, make_user):
    """aws:ResourceTag/… (and iam:ResourceTag/… for roles and users) are the target's own tags."""
    user = make_user(policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:GetRole", "iam:ListRoleTags"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}},
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*",
         "Condition": {"StringEquals": {"iam:ResourceTag/team": "blue"}}},
        {"Effect": "Allow", "Action": "iam:GetPolicy", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}},
    ]}))
    iam = server.client("iam", user)
    caller = f"arn:aws:iam::{ACCOUNT_A}:user/{user.user_name}"
    blue_role = _role(iam_a, Tags=tags(team="blue"))["RoleName"]
    red_role = _role(iam_a, Tags=tags(team="red"))["RoleName"]
    assert iam.get_role(RoleName=blue_role)["Role"]["RoleName"] == blue_role
    assert iam.list_role_tags(RoleName=blue_role)["Tags"] == tags(team="blue")
    expect_error(iam.get_role, "AccessDenied", 403, denied(caller, "iam:GetRole", f"role {red_role}"),
                 RoleName=red_role)
    blue_user, red_user = _user(iam_a, Tags=tags(team="blue"))["UserName"], _user(iam_a)["UserName"]
    assert iam.get_user(UserName=blue_user)["User"]["UserName"] == blue_user
    expect_error(iam.get_user, "AccessDenied", 403, denied(caller, "iam:GetUser", f"user {red_user}"),
                 UserName=red_user)
    blue_policy, red_policy = _policy(iam_a, Tags=tags(team="blue")), _policy(iam_a, Tags=tags(team="red"))
    assert iam.get_policy(**blue_policy)["Policy"]["Arn"] == blue_policy["PolicyArn"]
    expect_error(iam.get_policy, "AccessDenied", 403,
                 denied(caller, "iam:GetPolicy", f"policy {red_policy['PolicyArn']}"), **red_policy)
    # Retagging the red role blue opens it.
    iam_a.tag_role(RoleName=red_role, Tags=tags(team="blue"))
    assert eventually(lambda: _can(iam.get_role, RoleName=red_role))


def _can(call: Callable[..., Any], **kwargs: Any) -> bool:
    try:
        call(**kwargs)
        return True
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDenied", error
        return False


# --- the policy engine sees the change ---------------------------------------------------------
def eventually(check: Callable[[], bool], seconds: float = 6.0) -> bool:
    """IAM writes reach the server's directory snapshot at once in its own process (a node
    that did not make the write sees it at its next poll): allow a short propagation delay."""
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def assumes(server: StsdServer, creds: Credentials, role_arn: str) -> bool:
    try:
        server.client("sts", creds).assume_role(RoleArn=role_arn, RoleSessionName="tagged")
        return True
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDenied", error
        return False


def test_tag_role_flips_a_resource_tag_condition(server, iam_a, make_user):
    caller = make_user(policy=allow("sts:AssumeRole"))
    gated = trust({"AWS": ACCOUNT_A}, condition={"StringEquals": {"aws:ResourceTag/access": "granted"}})
    name = unique("gated")
    arn = iam_a.create_role(RoleName=name, AssumeRolePolicyDocument=gated)["Role"]["Arn"]
    assert not assumes(server, caller, arn)
    iam_a.tag_role(RoleName=name, Tags=tags(Access="granted"))  # condition keys match any case of the tag key
    assert eventually(lambda: assumes(server, caller, arn))
    iam_a.untag_role(RoleName=name, TagKeys=["ACCESS"])
    assert eventually(lambda: not assumes(server, caller, arn))


def test_tag_user_flips_a_principal_tag_condition(server, iam_a, make_user):
    caller = make_user(policy=allow("sts:AssumeRole"))
    gated = trust({"AWS": ACCOUNT_A}, condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}})
    arn = iam_a.create_role(RoleName=unique("gated"), AssumeRolePolicyDocument=gated)["Role"]["Arn"]
    assert not assumes(server, caller, arn)
    iam_a.tag_user(UserName=caller.user_name, Tags=tags(team="blue"))
    assert eventually(lambda: assumes(server, caller, arn))
    iam_a.tag_user(UserName=caller.user_name, Tags=tags(team="red"))
    assert eventually(lambda: not assumes(server, caller, arn))


def test_tag_role_changes_the_principal_tags_of_its_sessions(server, iam_a, make_user):
    """A role's sessions carry its current tags as aws:PrincipalTag in later calls."""
    caller = make_user(policy=allow("sts:AssumeRole"))
    first_name = unique("first")
    first = iam_a.create_role(RoleName=first_name, AssumeRolePolicyDocument=trust({"AWS": ACCOUNT_A}))["Role"]["Arn"]
    iam_a.put_role_policy(RoleName=first_name, PolicyName="p", PolicyDocument=allow("sts:AssumeRole"))
    gated = trust({"AWS": ACCOUNT_A}, condition={"StringEquals": {"aws:PrincipalTag/stage": "prod"}})
    second = iam_a.create_role(RoleName=unique("second"), AssumeRolePolicyDocument=gated)["Role"]["Arn"]
    session = session_credentials(server.client("sts", caller).assume_role(RoleArn=first, RoleSessionName="ss"),
                                  ACCOUNT_A)
    assert not assumes(server, session, second)
    iam_a.tag_role(RoleName=first_name, Tags=tags(stage="prod"))
    assert eventually(lambda: assumes(server, session, second))


# --- the AWS CLI -------------------------------------------------------------------------------
def test_aws_cli_tag_role_and_list_role_tags(server, iam_a, tmp_path):
    role = _role(iam_a)

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        return run_aws_cli(server, tmp_path, "iam", *args)

    tagged = aws("tag-role", "--role-name", role["RoleName"], "--tags", "Key=team,Value=blue", "Key=env,Value=prod")
    assert (tagged.returncode, tagged.stdout, tagged.stderr) == (0, "", "")
    listed = aws("list-role-tags", "--role-name", role["RoleName"])
    assert (listed.returncode, listed.stderr) == (0, "")
    assert json.loads(listed.stdout) == {"Tags": tags(team="blue", env="prod")}
    assert listed.stdout == json.dumps(json.loads(listed.stdout), indent=4) + "\n"
    refused = aws("tag-role", "--role-name", unique("gone"), "--tags", "Key=a,Value=b")
    assert refused.returncode == 255  # awscli v1: a service error
    assert "An error occurred (NoSuchEntity) when calling the TagRole operation: The role with name" in refused.stderr
