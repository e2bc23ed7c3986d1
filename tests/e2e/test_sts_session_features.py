"""AssumeRole session features: SourceIdentity, session tags (transitive, PrincipalTag
conditions), session policies, PackedPolicySize and where the optional elements sit in the
XML (aws-sts-behaviour.md §1.4, §2; real-aws-wire-samples.md §2.1, §2.4, §2.5, §3.3, §4.1)."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import allow, trust
from tests.e2e.test_sts_helpers import (
    ACCOUNT_A,
    ACCOUNT_B,
    CREDENTIALS_XML,
    MSG_DUPLICATE_TAGS,
    MSG_SOURCE_IDENTITY_SET,
    MSG_TRANSITIVE_CONFLICT,
    MSG_TRANSITIVE_NOT_IN_TAGS,
    STS_NS,
    UUID_RE,
    assume_role_params,
    assumed_arn,
    aws_error,
    denied,
    error_of,
    iam_client,
    max_len_problem,
    min_len_problem,
    pattern_problem,
    put_role_policy,
    role_id,
    session_credentials,
    signed_request,
    sts_client,
    unique,
    user_arn,
    validation,
)

ALL = ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"]


@pytest.fixture
def caller(make_user):
    """A user allowed to assume roles, set source identity and tag sessions."""
    return make_user(policy=allow(ALL))


@pytest.fixture
def open_role(server, make_role):
    """Factory: a role trusting account A for every session action; its sessions may do the same."""

    def _make(account: str = ACCOUNT_A, actions=None, **extra) -> str:
        arn = make_role(trust({"AWS": ACCOUNT_A}, actions or ALL), account=account, **extra)
        put_role_policy(server, arn, allow(ALL))
        return arn

    return _make


def tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


# --- SourceIdentity --------------------------------------------------------------------------


def test_source_identity_is_set_and_inherited(server, caller, open_role):
    first, second = open_role(), open_role()
    out = sts_client(server, caller).assume_role(RoleArn=first, RoleSessionName="si", SourceIdentity="alice")
    assert out["SourceIdentity"] == "alice"
    assert "PackedPolicySize" not in out  # no session policy, no tags
    session = sts_client(server, session_credentials(out, ACCOUNT_A))
    inherited = session.assume_role(RoleArn=second, RoleSessionName="si2")
    assert inherited["SourceIdentity"] == "alice"
    # The same value again is fine; a different one is refused.
    assert session.assume_role(RoleArn=second, RoleSessionName="si2", SourceIdentity="alice")[
        "SourceIdentity"] == "alice"
    assert error_of(session.assume_role, RoleArn=second, RoleSessionName="si2", SourceIdentity="bob") == aws_error(
        400, "ValidationError", MSG_SOURCE_IDENTITY_SET)
    # Two hops down it is still there, and still cannot change.
    third = sts_client(server, session_credentials(inherited, ACCOUNT_A))
    assert third.assume_role(RoleArn=first, RoleSessionName="si3")["SourceIdentity"] == "alice"
    assert error_of(third.assume_role, RoleArn=first, RoleSessionName="si3", SourceIdentity="Alice") == aws_error(
        400, "ValidationError", MSG_SOURCE_IDENTITY_SET)


def test_source_identity_crosses_accounts(server, caller, open_role, make_role):
    role_b = open_role(ACCOUNT_B)
    out = sts_client(server, caller).assume_role(RoleArn=role_b, RoleSessionName="si", SourceIdentity="carol")
    role_a = make_role(trust({"AWS": ACCOUNT_B}, ALL))
    chained = sts_client(server, session_credentials(out, ACCOUNT_B)).assume_role(RoleArn=role_a,
                                                                                  RoleSessionName="back")
    assert chained["SourceIdentity"] == "carol"


@pytest.mark.parametrize("value", ["aws:alice", "AWS:alice", "Aws:x"])
def test_source_identity_aws_prefix_is_a_pattern_error(server, caller, open_role, value):
    sts = sts_client(server, caller, validate=False)
    assert error_of(sts.assume_role, RoleArn=open_role(), RoleSessionName="si", SourceIdentity=value) == validation(
        pattern_problem(value, "sourceIdentity"))


def test_source_identity_constraints(server, caller):
    sts = sts_client(server, caller, validate=False)
    role = f"arn:aws:iam::{ACCOUNT_A}:role/{unique('role')}"
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="si", SourceIdentity="a") == validation(
        min_len_problem("a", "sourceIdentity", 2))
    long_value = "s" * 65
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="si", SourceIdentity=long_value) == validation(
        max_len_problem(long_value, "sourceIdentity", 64))


def test_set_source_identity_must_be_allowed_by_trust(server, caller, make_role, open_role):
    role = make_role(trust({"AWS": ACCOUNT_A}))  # sts:AssumeRole only
    sts = sts_client(server, caller)
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="si", SourceIdentity="alice") == denied(
        user_arn(caller), "sts:SetSourceIdentity", role)
    sts.assume_role(RoleArn=role, RoleSessionName="si")
    # A session carrying a source identity needs it for the next role too.
    out = sts.assume_role(RoleArn=open_role(), RoleSessionName="si", SourceIdentity="alice")
    session = sts_client(server, session_credentials(out, ACCOUNT_A))
    assert error_of(session.assume_role, RoleArn=role, RoleSessionName="next") == denied(
        out["AssumedRoleUser"]["Arn"], "sts:SetSourceIdentity", role)


def test_set_source_identity_must_be_allowed_by_the_identity_policy(server, make_user, open_role):
    user = make_user(policy=allow("sts:AssumeRole"))
    role = open_role()
    assert error_of(sts_client(server, user).assume_role, RoleArn=role, RoleSessionName="si",
                    SourceIdentity="alice") == denied(user_arn(user), "sts:SetSourceIdentity", role)


def test_source_identity_condition_in_trust(server, caller, make_role):
    role = make_role(trust({"AWS": ACCOUNT_A}, ALL, condition={"StringLike": {"sts:SourceIdentity": "team-*"}}))
    sts = sts_client(server, caller)
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="si", SourceIdentity="other") == denied(
        user_arn(caller), "sts:AssumeRole", role)
    assert sts.assume_role(RoleArn=role, RoleSessionName="si", SourceIdentity="team-a")["SourceIdentity"] == "team-a"


# --- session tags -----------------------------------------------------------------------------


def test_duplicate_tag_keys_are_case_insensitive(server, caller, open_role):
    sts = sts_client(server, caller)
    role = open_role()
    expected = aws_error(400, "InvalidParameterValue", MSG_DUPLICATE_TAGS)
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="tt",
                    Tags=[{"Key": "SessionTag1", "Value": "SessionValue1"},
                          {"Key": "sessiontag1", "Value": "SessionValue2"}],
                    TransitiveTagKeys=["sessiontag1"]) == expected
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="tt",
                    Tags=[{"Key": "k", "Value": "v"}, {"Key": "k", "Value": "v"}]) == expected


def test_transitive_keys_must_be_among_the_tags(server, caller, open_role):
    sts = sts_client(server, caller)
    role = open_role()
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="tt", Tags=tags(SessionTag1="SessionValue1"),
                    TransitiveTagKeys=["InvalidKey"]) == aws_error(
        400, "InvalidParameterValue", MSG_TRANSITIVE_NOT_IN_TAGS)
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="tt",
                    TransitiveTagKeys=["SessionTag1"]) == aws_error(
        400, "InvalidParameterValue", MSG_TRANSITIVE_NOT_IN_TAGS)
    # Matching is case-insensitive.
    sts.assume_role(RoleArn=role, RoleSessionName="tt", Tags=tags(SessionTag1="SessionValue1"),
                    TransitiveTagKeys=["sessiontag1"])


@pytest.mark.parametrize("key", ["SessionTag1", "sessiontag1", "SESSIONTAG1"])
def test_inherited_transitive_key_cannot_be_set_again(server, caller, open_role, key):
    first, second = open_role(), open_role()
    out = sts_client(server, caller).assume_role(RoleArn=first, RoleSessionName="tt",
                                                 Tags=tags(SessionTag1="SessionValue1"),
                                                 TransitiveTagKeys=["SessionTag1"])
    session = sts_client(server, session_credentials(out, ACCOUNT_A))
    for value in ("SessionValue2", "SessionValue1"):
        assert error_of(session.assume_role, RoleArn=second, RoleSessionName="t2",
                        Tags=[{"Key": key, "Value": value}]) == aws_error(
            400, "InvalidParameterValue", MSG_TRANSITIVE_CONFLICT)
    # Other keys are fine.
    session.assume_role(RoleArn=second, RoleSessionName="t2", Tags=tags(Other="x"))


def test_non_transitive_key_may_be_set_again(server, caller, open_role):
    first, second = open_role(), open_role()
    out = sts_client(server, caller).assume_role(RoleArn=first, RoleSessionName="tt", Tags=tags(team="blue"))
    sts_client(server, session_credentials(out, ACCOUNT_A)).assume_role(RoleArn=second, RoleSessionName="t2",
                                                                        Tags=tags(team="red"))


def test_tag_session_must_be_allowed(server, caller, make_role, make_user, open_role):
    only_assume = make_role(trust({"AWS": ACCOUNT_A}))
    assert error_of(sts_client(server, caller).assume_role, RoleArn=only_assume, RoleSessionName="tt",
                    Tags=tags(team="blue")) == denied(user_arn(caller), "sts:TagSession", only_assume)
    # The identity policy must allow it as well.
    no_tag_permission = make_user(policy=allow("sts:AssumeRole"))
    role = open_role()
    assert error_of(sts_client(server, no_tag_permission).assume_role, RoleArn=role, RoleSessionName="tt",
                    Tags=tags(team="blue")) == denied(user_arn(no_tag_permission), "sts:TagSession", role)


def test_principal_tag_conditions_see_session_tags(server, caller, open_role, make_role):
    first = open_role()
    gated = make_role(trust({"AWS": ACCOUNT_A}, condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}}))
    sts = sts_client(server, caller)
    blue = session_credentials(sts.assume_role(RoleArn=first, RoleSessionName="bb", Tags=tags(team="blue")),
                               ACCOUNT_A)
    red = session_credentials(sts.assume_role(RoleArn=first, RoleSessionName="rr", Tags=tags(team="red")),
                              ACCOUNT_A)
    untagged = session_credentials(sts.assume_role(RoleArn=first, RoleSessionName="uu"), ACCOUNT_A)
    assert sts_client(server, blue).assume_role(RoleArn=gated, RoleSessionName="in")["AssumedRoleUser"][
        "Arn"] == assumed_arn(gated, "in")
    for creds, session in ((red, "rr"), (untagged, "uu")):
        assert error_of(sts_client(server, creds).assume_role, RoleArn=gated, RoleSessionName="in") == denied(
            assumed_arn(first, session), "sts:AssumeRole", gated)


def test_session_tag_overrides_role_tag_of_any_case(server, caller, make_role):
    first = make_role(trust({"AWS": ACCOUNT_A}, ALL), Tags=[{"Key": "Team", "Value": "red"}])
    put_role_policy(server, first, allow(ALL))
    gated = make_role(trust({"AWS": ACCOUNT_A}, condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}}))
    sts = sts_client(server, caller)
    role_tag_only = session_credentials(sts.assume_role(RoleArn=first, RoleSessionName="rt"), ACCOUNT_A)
    assert error_of(sts_client(server, role_tag_only).assume_role, RoleArn=gated, RoleSessionName="in") == denied(
        assumed_arn(first, "rt"), "sts:AssumeRole", gated)
    overridden = session_credentials(sts.assume_role(RoleArn=first, RoleSessionName="st", Tags=tags(team="blue")),
                                     ACCOUNT_A)
    sts_client(server, overridden).assume_role(RoleArn=gated, RoleSessionName="in")


def test_transitive_tags_flow_down_the_chain(server, caller, open_role, make_role):
    first, second = open_role(), open_role()
    gated = make_role(trust({"AWS": ACCOUNT_A}, condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}}))
    sts = sts_client(server, caller)

    def second_hop(transitive: list[str]):
        out = sts.assume_role(RoleArn=first, RoleSessionName="one", Tags=tags(team="blue"),
                              TransitiveTagKeys=transitive)
        hop = sts_client(server, session_credentials(out, ACCOUNT_A)).assume_role(RoleArn=second,
                                                                                  RoleSessionName="two")
        return sts_client(server, session_credentials(hop, ACCOUNT_A))

    assert second_hop(["team"]).assume_role(RoleArn=gated, RoleSessionName="three")["AssumedRoleUser"][
        "Arn"] == assumed_arn(gated, "three")
    assert error_of(second_hop([]).assume_role, RoleArn=gated, RoleSessionName="three") == denied(
        assumed_arn(second, "two"), "sts:AssumeRole", gated)


def test_transitive_tags_cross_accounts(server, caller, open_role, make_role):
    role_b = open_role(ACCOUNT_B)
    gated_a = make_role(trust({"AWS": ACCOUNT_B}, condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}}))
    out = sts_client(server, caller).assume_role(RoleArn=role_b, RoleSessionName="one", Tags=tags(team="blue"),
                                                 TransitiveTagKeys=["team"])
    in_b = sts_client(server, session_credentials(out, ACCOUNT_B))
    assert in_b.assume_role(RoleArn=gated_a, RoleSessionName="back")["AssumedRoleUser"]["Arn"] == assumed_arn(
        gated_a, "back")
    assert error_of(in_b.assume_role, RoleArn=open_role(), RoleSessionName="back",
                    Tags=tags(TEAM="green")) == aws_error(400, "InvalidParameterValue", MSG_TRANSITIVE_CONFLICT)


def test_request_tag_conditions_in_trust(server, caller, make_role):
    role = make_role(trust({"AWS": ACCOUNT_A}, ALL, condition={"StringEquals": {"aws:RequestTag/project": "x"}}))
    sts = sts_client(server, caller)
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="tt", Tags=tags(project="y")) == denied(
        user_arn(caller), "sts:AssumeRole", role)
    sts.assume_role(RoleArn=role, RoleSessionName="tt", Tags=tags(project="x"))


def test_tag_constraints(server, caller):
    sts = sts_client(server, caller, validate=False)
    role = f"arn:aws:iam::{ACCOUNT_A}:role/{unique('role')}"
    long_value = "v" * 257
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="tt",
                    Tags=[{"Key": "k", "Value": long_value}]) == validation(
        max_len_problem(long_value, "tags.1.member.value", 256))
    long_key = "k" * 129
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="tt",
                    Tags=[{"Key": "ok", "Value": ""}, {"Key": long_key, "Value": "v"}]) == validation(
        max_len_problem(long_key, "tags.2.member.key", 128))


# --- session policies -------------------------------------------------------------------------


def test_inline_session_policy_restricts_the_session(server, caller, open_role, make_role):
    first = open_role()
    target = make_role(trust({"AWS": ACCOUNT_A}))
    other = make_role(trust({"AWS": ACCOUNT_A}))
    sts = sts_client(server, caller)
    nothing = sts.assume_role(RoleArn=first, RoleSessionName="pp", Policy=allow("s3:ListBucket"))
    assert error_of(sts_client(server, session_credentials(nothing, ACCOUNT_A)).assume_role, RoleArn=target,
                    RoleSessionName="p2") == denied(assumed_arn(first, "pp"), "sts:AssumeRole", target)
    only_target = sts.assume_role(RoleArn=first, RoleSessionName="qq", Policy=allow("sts:AssumeRole", target))
    session = sts_client(server, session_credentials(only_target, ACCOUNT_A))
    session.assume_role(RoleArn=target, RoleSessionName="q2")
    assert error_of(session.assume_role, RoleArn=other, RoleSessionName="q2") == denied(
        assumed_arn(first, "qq"), "sts:AssumeRole", other)


def test_session_policy_cannot_widen_the_role(server, make_user, make_role):
    user = make_user()
    first = make_role(trust({"AWS": user_arn(user)}))  # the role itself may do nothing
    target = make_role(trust({"AWS": ACCOUNT_A}))
    out = sts_client(server, user).assume_role(RoleArn=first, RoleSessionName="ww", Policy=allow("*"))
    assert error_of(sts_client(server, session_credentials(out, ACCOUNT_A)).assume_role, RoleArn=target,
                    RoleSessionName="w2") == denied(assumed_arn(first, "ww"), "sts:AssumeRole", target)


def test_managed_session_policies(server, caller, open_role, make_role):
    iam = iam_client(server)
    first = open_role()
    target = make_role(trust({"AWS": ACCOUNT_A}))
    allows_target = iam.create_policy(PolicyName=unique("pol"),
                                      PolicyDocument=allow("sts:AssumeRole", target))["Policy"]["Arn"]
    allows_other = iam.create_policy(PolicyName=unique("pol"), PolicyDocument=allow("iam:GetUser"))["Policy"]["Arn"]
    sts = sts_client(server, caller)
    blocked = sts.assume_role(RoleArn=first, RoleSessionName="mm", PolicyArns=[{"arn": allows_other}])
    assert isinstance(blocked["PackedPolicySize"], int)
    assert error_of(sts_client(server, session_credentials(blocked, ACCOUNT_A)).assume_role, RoleArn=target,
                    RoleSessionName="m2") == denied(assumed_arn(first, "mm"), "sts:AssumeRole", target)
    allowed = sts.assume_role(RoleArn=first, RoleSessionName="nn", PolicyArns=[{"arn": allows_other},
                                                                             {"arn": allows_target}])
    sts_client(server, session_credentials(allowed, ACCOUNT_A)).assume_role(RoleArn=target, RoleSessionName="n2")


@pytest.mark.parametrize("document", ["{not json", "", '{"Version": "2012-10-17"'])
def test_malformed_session_policy(server, caller, open_role, document):
    sts = sts_client(server, caller, validate=False)
    role = open_role()
    if document == "":
        expected = validation(min_len_problem("", "policy", 1))
    else:
        expected = aws_error(400, "MalformedPolicyDocument", "This policy contains invalid Json")
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="bad", Policy=document) == expected


def test_session_policy_grammar_errors(server, caller, open_role):
    sts = sts_client(server, caller, validate=False)
    role = open_role()
    no_action = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]})
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="bad", Policy=no_action) == aws_error(
        400, "MalformedPolicyDocument", "Policy statement must contain actions.")
    with_principal = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]})
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="bad", Policy=with_principal) == aws_error(
        400, "MalformedPolicyDocument", "Policy document should not specify a principal.")


# --- PackedPolicySize -------------------------------------------------------------------------


def test_packed_policy_size_only_when_policies_or_tags_are_sent(server, caller, open_role):
    sts = sts_client(server, caller)
    role = open_role()
    plain = sts.assume_role(RoleArn=role, RoleSessionName="pp")
    with_si = sts.assume_role(RoleArn=role, RoleSessionName="pp", SourceIdentity="alice")
    with_ext = sts.assume_role(RoleArn=role, RoleSessionName="pp", ExternalId="whatever")
    assert [("PackedPolicySize" in out) for out in (plain, with_si, with_ext)] == [False, False, False]
    sizes = [
        sts.assume_role(RoleArn=role, RoleSessionName="pp", Policy=allow("s3:GetObject"))["PackedPolicySize"],
        sts.assume_role(RoleArn=role, RoleSessionName="pp", Tags=tags(k="v"))["PackedPolicySize"],
        sts.assume_role(RoleArn=role, RoleSessionName="pp",
                        PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}])["PackedPolicySize"],
    ]
    assert all(isinstance(s, int) and 0 <= s <= 100 for s in sizes), sizes


def test_transitive_keys_do_not_count_towards_the_packed_size(server, caller, open_role):
    sts = sts_client(server, caller)
    role = open_role()
    session_tags = tags(Department="Engineering", CostCenter="12345", Project="Unicorn")
    plain = sts.assume_role(RoleArn=role, RoleSessionName="pp", Tags=session_tags)
    transitive = sts.assume_role(RoleArn=role, RoleSessionName="pp", Tags=session_tags,
                                 TransitiveTagKeys=["Department", "CostCenter", "Project"])
    assert plain["PackedPolicySize"] == transitive["PackedPolicySize"]
    more = sts.assume_role(RoleArn=role, RoleSessionName="pp",
                           Tags=[*session_tags, *tags(Owner="someone-with-a-long-name")])
    assert more["PackedPolicySize"] > plain["PackedPolicySize"]


def test_packed_policy_too_large_for_many_large_tags(server, caller, open_role):
    sts = sts_client(server, caller)
    role = open_role()
    many = [{"Key": f"Key{i}", "Value": "v" * 250} for i in range(9)]
    error = error_of(sts.assume_role, RoleArn=role, RoleSessionName="big", Tags=many)
    match = re.fullmatch(r"Packed size of session tags consumes (\d+)% of allotted space\.", error.pop("Message"))
    assert error == aws_error(400, "PackedPolicyTooLarge")
    assert match is not None and int(match.group(1)) > 100


# --- where the optional elements sit -------------------------------------------------------------


def test_xml_layout_with_packed_policy_size_and_source_identity(server, caller, open_role):
    role = open_role()
    response = signed_request(server, assume_role_params(
        role, "layout", SourceIdentity="alice", **{"Tags.member.1.Key": "k", "Tags.member.1.Value": "v"}), caller)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml"
    request_id = response.headers["x-amzn-requestid"]
    assert re.fullmatch(UUID_RE, request_id)
    pattern = (
        f'<AssumeRoleResponse xmlns="{re.escape(STS_NS)}">\n'
        "  <AssumeRoleResult>\n"
        "    <AssumedRoleUser>\n"
        f"      <AssumedRoleId>{role_id(server, role)}:layout</AssumedRoleId>\n"
        f"      <Arn>{re.escape(assumed_arn(role, 'layout'))}</Arn>\n"
        "    </AssumedRoleUser>\n"
        + CREDENTIALS_XML
        + r"    <PackedPolicySize>\d+</PackedPolicySize>" "\n"
        "    <SourceIdentity>alice</SourceIdentity>\n"
        "  </AssumeRoleResult>\n"
        "  <ResponseMetadata>\n"
        f"    <RequestId>{request_id}</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</AssumeRoleResponse>\n"
    )
    assert re.fullmatch(pattern, response.text), response.text


def test_json_layout_with_source_identity(server, caller, open_role):
    role = open_role()
    response = signed_request(server, assume_role_params(role, "json", SourceIdentity="alice"), caller,
                              headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = json.loads(response.text)
    result = body["AssumeRoleResponse"]["AssumeRoleResult"]
    assert list(body["AssumeRoleResponse"]) == ["AssumeRoleResult", "ResponseMetadata"]
    assert list(result) == ["AssumedRoleUser", "Credentials", "SourceIdentity"]
    assert list(result["Credentials"]) == ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]
    assert result["SourceIdentity"] == "alice"
    # Expiration is a number written the way Java's Double.toString writes it: 1.795454934E9.
    raw = re.search(r'"Expiration":([^,}]+)', response.text).group(1)
    epoch = int(float(raw))
    digits = str(epoch).rstrip("0")
    assert raw == f"{digits[0]}.{digits[1:] or '0'}E{len(str(epoch)) - 1}"
