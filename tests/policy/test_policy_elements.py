"""Action/NotAction, Resource/NotResource, Effect, Principal/NotPrincipal and variables."""

from __future__ import annotations

from typing import Any

import pytest

from stsd.policy import Decision, PrincipalRef, Request, ResourceGrant
from tests.policy.policy_helpers import ACCOUNT, OTHER, identity, resource_policy, role_session, trust, user

ANY = "arn:aws:s3:::bucket/key"


def _allow(action: Any = "*", resource: Any = "*", **kw: Any) -> dict[str, Any]:
    key = "NotAction" if kw.pop("not_action", False) else "Action"
    rkey = "NotResource" if kw.pop("not_resource", False) else "Resource"
    return {"Effect": "Allow", key: action, rkey: resource, **kw}


def decide(policy: Any, action: str = "s3:GetObject", resource: str = ANY, **context: Any) -> Decision:
    return policy.evaluate(Request(action, resource, None, context))


# --- Action ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("sts:AssumeRole", "sts:AssumeRole", True),
        ("sts:AssumeRole", "STS:assumerole", True),  # case-insensitive
        ("STS:ASSUMEROLE", "sts:AssumeRole", True),
        ("sts:AssumeRole", "sts:AssumeRoleWithSAML", False),
        ("sts:AssumeRole*", "sts:AssumeRoleWithSAML", True),
        ("sts:*", "sts:GetCallerIdentity", True),
        ("sts:*", "iam:GetUser", False),
        ("*", "anything:Goes", True),
        ("s3:*Object", "s3:GetObject", True),
        ("s3:*Object", "s3:GetObjectAcl", False),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:Get?bject", "s3:Getbject", False),
        ("*:GetObject", "s3:GetObject", True),
        ("iam:Get*", "iam:GetUser", True),
        (["iam:List*", "iam:GetUser"], "iam:GetUser", True),
        (["iam:List*", "iam:GetUser"], "iam:GetRole", False),
        ("s3:Get.bject", "s3:GetObject", False),  # regex metacharacters are literal
    ],
)
def test_action_matching(pattern: Any, action: str, expected: bool) -> None:
    policy = identity(_allow(pattern))
    assert (decide(policy, action) is Decision.ALLOW) is expected


def test_not_action() -> None:
    policy = identity(_allow(["iam:*", "sts:GetSessionToken"], not_action=True))
    assert decide(policy, "s3:GetObject") is Decision.ALLOW
    assert decide(policy, "iam:GetUser") is Decision.NOT_APPLICABLE
    assert decide(policy, "sts:getsessiontoken") is Decision.NOT_APPLICABLE
    assert decide(policy, "sts:GetCallerIdentity") is Decision.ALLOW


def test_not_action_deny_with_mfa_condition() -> None:
    # The classic "deny everything but MFA setup unless MFA was used" policy.
    policy = identity(
        _allow("*"),
        {
            "Effect": "Deny",
            "NotAction": ["iam:EnableMFADevice", "sts:GetSessionToken"],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        },
    )
    assert decide(policy, "s3:GetObject") is Decision.DENY
    assert decide(policy, "s3:GetObject", **{"aws:MultiFactorAuthPresent": False}) is Decision.DENY
    assert decide(policy, "s3:GetObject", **{"aws:MultiFactorAuthPresent": True}) is Decision.ALLOW
    assert decide(policy, "sts:GetSessionToken") is Decision.ALLOW


# --- Resource ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        ("*", "arn:aws:iam::1:role/x", True),
        ("arn:aws:iam::111122223333:role/R", "arn:aws:iam::111122223333:role/R", True),
        ("arn:aws:iam::111122223333:role/R", "arn:aws:iam::111122223333:role/r", False),
        ("arn:aws:iam::111122223333:role/R", "arn:aws:iam::111122223333:role/R2", False),
        ("arn:aws:IAM::111122223333:role/R", "arn:aws:iam::111122223333:role/R", True),
        ("arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:role/path/R", True),
        ("arn:aws:iam::*:role/R", "arn:aws:iam::999999999999:role/R", True),
        ("arn:aws:iam::*:role/R", "arn:aws:iam::999999999999:role/Q", False),
        ("arn:aws:iam::1111222233?3:role/R", "arn:aws:iam::111122223333:role/R", True),
        ("arn:aws:iam::111122223333:role/?", "arn:aws:iam::111122223333:role/R", True),
        ("arn:aws:iam::111122223333:role/?", "arn:aws:iam::111122223333:role/RR", False),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket2/a", False),
        ("arn:aws:s3:::*log*", "arn:aws:s3:::carlossalazar-logs", True),
        ("arn:aws:sqs:us-east-?:*:q", "arn:aws:sqs:us-east-2:1:q", True),
        ("arn:aws:sqs:us-east-?:*:q", "arn:aws:sqs:us-west-2:1:q", False),
        ("arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:us-east-1:1:instance/i-1", True),
        # a trailing * in a field may run past the colons ...
        ("arn:aws:sns:*", "arn:aws:sns:us-east-1:123456789012:topic", True),
        # ... a * inside a field may not
        ("arn:aws:s*s:us-east-1:1:x", "arn:aws:s:3:s:us-east-1:1:x", False),
        ("arn:aws:ec2:us-*-1:1:x", "arn:aws:ec2:us-east-1:1:x", True),
        (
            "arn:aws:dynamodb:us-east-2:1:table/books",
            "arn:aws:dynamodb:us-east-2:1:table/books",
            True,
        ),
        ("arn:aws:s3:::b/a+b(c)", "arn:aws:s3:::b/a+b(c)", True),
    ],
)
def test_resource_matching(pattern: str, resource: str, expected: bool) -> None:
    policy = identity(_allow("*", pattern))
    assert (decide(policy, resource=resource) is Decision.ALLOW) is expected


def test_not_resource() -> None:
    policy = identity(
        _allow("s3:*", "*"),
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"],
        },
    )
    assert decide(policy, resource="arn:aws:s3:::HRBucket/Payroll/x") is Decision.ALLOW
    assert decide(policy, resource="arn:aws:s3:::HRBucket/Other") is Decision.DENY


def test_not_resource_allow() -> None:
    policy = identity(_allow("*", "arn:aws:s3:::secret/*", not_resource=True))
    assert decide(policy, resource="arn:aws:s3:::public/x") is Decision.ALLOW
    assert decide(policy, resource="arn:aws:s3:::secret/x") is Decision.NOT_APPLICABLE


def test_null_entries_in_resource_lists_are_ignored() -> None:
    policy = identity(_allow("*", [None, "arn:aws:s3:::b/*"]))
    assert decide(policy, resource="arn:aws:s3:::b/k") is Decision.ALLOW


# --- Effect / combination ------------------------------------------------------------------


def test_explicit_deny_beats_allow_in_any_order() -> None:
    allow = _allow("s3:*", "*")
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"}
    for policy in (identity(allow, deny), identity(deny, allow)):
        assert decide(policy, resource="arn:aws:s3:::carlossalazar-logs") is Decision.DENY
        assert decide(policy, resource="arn:aws:s3:::carlossalazar") is Decision.ALLOW


def test_nothing_matches_is_not_applicable() -> None:
    policy = identity(_allow("iam:GetUser", "*"))
    assert decide(policy, "iam:GetRole") is Decision.NOT_APPLICABLE


def test_statement_as_object() -> None:
    from stsd.policy import PolicyKind, parse_policy

    policy = parse_policy(
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}',
        PolicyKind.IDENTITY,
    )
    assert len(policy.statements) == 1
    assert decide(policy) is Decision.ALLOW


# --- policy variables ----------------------------------------------------------------------


def test_variable_in_resource() -> None:
    policy = identity(_allow("s3:*", ["arn:aws:s3:::mybucket/${aws:username}/*"]))
    assert decide(policy, resource="arn:aws:s3:::mybucket/David/x", **{"aws:username": "David"}) is Decision.ALLOW
    assert decide(policy, resource="arn:aws:s3:::mybucket/Adele/x", **{"aws:username": "David"}) is (
        Decision.NOT_APPLICABLE
    )


def test_substituted_values_are_literal() -> None:
    policy = identity(_allow("s3:*", "arn:aws:s3:::b/${aws:username}"))
    # a user called "*" only matches a resource literally named "*"
    assert decide(policy, resource="arn:aws:s3:::b/anything", **{"aws:username": "*"}) is Decision.NOT_APPLICABLE
    assert decide(policy, resource="arn:aws:s3:::b/*", **{"aws:username": "*"}) is Decision.ALLOW


def test_special_character_variables() -> None:
    policy = identity(_allow("s3:*", "arn:aws:s3:::b/${*}${?}${$}"))
    assert decide(policy, resource="arn:aws:s3:::b/*?$") is Decision.ALLOW
    assert decide(policy, resource="arn:aws:s3:::b/xy$") is Decision.NOT_APPLICABLE
    like = identity(_allow("*", "*", Condition={"StringLike": {"s3:prefix": "a${*}*"}}))
    assert decide(like, **{"s3:prefix": "a*bc"}) is Decision.ALLOW
    assert decide(like, **{"s3:prefix": "abc"}) is Decision.NOT_APPLICABLE


def test_variable_tag_and_userid() -> None:
    policy = identity(_allow("s3:*", "arn:aws:s3:::bucket/${aws:PrincipalTag/department}/${aws:userid}"))
    ctx = {"aws:principaltag/Department": "hr", "aws:userid": "AIDAEXAMPLE"}
    assert decide(policy, resource="arn:aws:s3:::bucket/hr/AIDAEXAMPLE", **ctx) is Decision.ALLOW


def test_variable_default_value() -> None:
    policy = identity(_allow("s3:*", "arn:aws:s3:::bucket/${aws:userid, 'anonymous'}"))
    assert decide(policy, resource="arn:aws:s3:::bucket/anonymous") is Decision.ALLOW
    assert decide(policy, resource="arn:aws:s3:::bucket/U1", **{"aws:userid": "U1"}) is Decision.ALLOW
    assert decide(policy, resource="arn:aws:s3:::bucket/anonymous", **{"aws:userid": "U1"}) is (Decision.NOT_APPLICABLE)


def test_unresolvable_variable_voids_the_statement() -> None:
    allow = identity(_allow("s3:*", "arn:aws:s3:::bucket/${aws:username}"))
    assert decide(allow, resource="arn:aws:s3:::bucket/") is Decision.NOT_APPLICABLE
    deny = identity(
        _allow("*", "*"),
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:ResourceTag/owner": "${aws:username}"}},
        },
    )
    assert decide(deny, **{"aws:ResourceTag/owner": "x"}) is Decision.ALLOW  # no username: void
    assert decide(deny, **{"aws:ResourceTag/owner": "x", "aws:username": "y"}) is Decision.DENY
    assert decide(deny, **{"aws:ResourceTag/owner": "y", "aws:username": "y"}) is Decision.ALLOW


def test_multivalued_keys_cannot_be_variables() -> None:
    policy = identity(_allow("*", "arn:aws:s3:::b/${aws:TagKeys}"))
    assert decide(policy, resource="arn:aws:s3:::b/a", **{"aws:TagKeys": ["a"]}) is Decision.NOT_APPLICABLE


def test_variables_only_in_resource_part() -> None:
    policy = identity(_allow("*", "arn:aws:sqs:${aws:username}:1:q"))
    assert decide(policy, resource="arn:aws:sqs:bob:1:q", **{"aws:username": "bob"}) is Decision.NOT_APPLICABLE
    assert decide(policy, resource="arn:aws:sqs:${aws:username}:1:q") is Decision.ALLOW


@pytest.mark.parametrize("version", [None, "2008-10-17"])
def test_variables_are_literal_before_2012(version: str | None) -> None:
    policy = identity(_allow("s3:*", "arn:aws:s3:::b/${aws:username}"), version=version)
    assert decide(policy, resource="arn:aws:s3:::b/bob", **{"aws:username": "bob"}) is Decision.NOT_APPLICABLE
    assert decide(policy, resource="arn:aws:s3:::b/${aws:username}") is Decision.ALLOW
    cond = identity(_allow("*", "*", Condition={"StringEquals": {"k:x": "${aws:username}"}}), version=version)
    assert decide(cond, **{"k:x": "bob", "aws:username": "bob"}) is Decision.NOT_APPLICABLE
    assert decide(cond, **{"k:x": "${aws:username}"}) is Decision.ALLOW


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("StringEquals", "home/bob", True),
        ("StringEqualsIgnoreCase", "HOME/BOB", True),
        ("StringNotEquals", "home/bob", False),
        ("StringLike", "home/bob", True),
        ("StringNotLike", "home/bob", False),
    ],
)
def test_variables_in_string_conditions(operator: str, value: str, expected: bool) -> None:
    policy = identity(_allow("*", "*", Condition={operator: {"s3:prefix": "home/${aws:username}"}}))
    result = decide(policy, **{"s3:prefix": value, "aws:username": "bob"})
    assert (result is Decision.ALLOW) is expected


def test_variables_in_string_like_with_wildcards() -> None:
    policy = identity(
        _allow(
            "*",
            "*",
            Condition={"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}},
        )
    )
    ctx = {"aws:username": "bob"}
    assert decide(policy, **{"s3:prefix": "home/bob/docs/x", **ctx}) is Decision.ALLOW
    assert decide(policy, **{"s3:prefix": "home/", **ctx}) is Decision.ALLOW
    assert decide(policy, **{"s3:prefix": "home/eve/x", **ctx}) is Decision.NOT_APPLICABLE


def test_variables_in_arn_and_bool_conditions() -> None:
    arn = identity(
        _allow(
            "*",
            "*",
            Condition={"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:${aws:PrincipalAccount}:*"}},
        )
    )
    ctx = {"aws:PrincipalAccount": ACCOUNT}
    assert decide(arn, **{"aws:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:t", **ctx}) is Decision.ALLOW
    assert decide(arn, **{"aws:SourceArn": f"arn:aws:sns:us-east-1:{OTHER}:t", **ctx}) is Decision.NOT_APPLICABLE
    boolean = identity(_allow("*", "*", Condition={"Bool": {"k:flag": "${k:expected}"}}))
    assert decide(boolean, **{"k:flag": True, "k:expected": "true"}) is Decision.ALLOW
    assert decide(boolean, **{"k:flag": True, "k:expected": "false"}) is Decision.NOT_APPLICABLE


def test_no_variables_in_numeric_conditions() -> None:
    policy = identity(_allow("*", "*", Condition={"NumericEquals": {"k:n": "${k:m}"}}))
    assert decide(policy, **{"k:n": 5, "k:m": 5}) is Decision.NOT_APPLICABLE


def test_variable_value_types() -> None:
    from datetime import UTC, datetime

    policy = identity(_allow("*", "arn:aws:s3:::b/${k:a}-${k:b}-${k:c}"))
    ctx = {"k:a": True, "k:b": 7, "k:c": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)}
    assert decide(policy, resource="arn:aws:s3:::b/true-7-2024-01-02T03:04:05Z", **ctx) is Decision.ALLOW


# --- Principal -------------------------------------------------------------------------------

ASSUME = "sts:AssumeRole"
TARGET = f"arn:aws:iam::{ACCOUNT}:role/Target"


def _trust(principal: Any, **kw: Any):
    return trust({"Effect": "Allow", "Principal": principal, "Action": ASSUME, **kw})


def grant(policy: Any, who: PrincipalRef | None, **context: Any) -> ResourceGrant:
    return policy.grant(Request(ASSUME, TARGET, who, context))


def test_principal_user_arn_with_path() -> None:
    policy = _trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/division/alice"})
    assert grant(policy, user("alice", path="/division/")) is ResourceGrant.ALLOW_PRINCIPAL
    assert grant(policy, user("alice")) is ResourceGrant.NOT_APPLICABLE  # path is part of the ARN
    assert grant(policy, user("Alice", path="/division/")) is ResourceGrant.NOT_APPLICABLE


def test_principal_role_and_session() -> None:
    by_role = _trust({"AWS": f"arn:aws:iam::{ACCOUNT}:role/R"})
    by_session = _trust({"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/R/sess"})
    assert grant(by_role, role_session()) is ResourceGrant.ALLOW_ROLE
    assert grant(by_session, role_session()) is ResourceGrant.ALLOW_PRINCIPAL
    assert grant(by_session, role_session(session="other")) is ResourceGrant.NOT_APPLICABLE
    with_path = _trust({"AWS": f"arn:aws:iam::{ACCOUNT}:role/team/R"})
    assert grant(with_path, role_session(path="/team/")) is ResourceGrant.ALLOW_ROLE
    assert grant(with_path, role_session()) is ResourceGrant.NOT_APPLICABLE


@pytest.mark.parametrize("principal", [{"AWS": ACCOUNT}, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}])
def test_principal_account(principal: Any) -> None:
    policy = _trust(principal)
    assert grant(policy, user()) is ResourceGrant.ALLOW_ACCOUNT
    assert grant(policy, role_session()) is ResourceGrant.ALLOW_ACCOUNT
    assert grant(policy, user(account=OTHER)) is ResourceGrant.NOT_APPLICABLE


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}])
def test_principal_everyone(principal: Any) -> None:
    policy = _trust(principal)
    assert grant(policy, user()) is ResourceGrant.ALLOW_PUBLIC
    assert grant(policy, user(account=OTHER)) is ResourceGrant.ALLOW_PUBLIC
    assert grant(policy, None) is ResourceGrant.ALLOW_PUBLIC  # anonymous


def test_aws_wildcard_does_not_name_services_or_idps() -> None:
    policy = _trust({"AWS": "*"})
    assert grant(policy, PrincipalRef(ACCOUNT, frozenset(), service="ec2.amazonaws.com")) is (
        ResourceGrant.NOT_APPLICABLE
    )
    assert grant(_trust("*"), PrincipalRef(ACCOUNT, frozenset(), service="ec2.amazonaws.com")) is (
        ResourceGrant.ALLOW_PUBLIC
    )


def test_service_principal() -> None:
    policy = _trust({"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]})
    ec2 = PrincipalRef(ACCOUNT, frozenset(), service="ec2.amazonaws.com")
    ecs = PrincipalRef(ACCOUNT, frozenset(), service="ecs-tasks.amazonaws.com")
    assert grant(policy, ec2) is ResourceGrant.ALLOW_PRINCIPAL
    assert grant(policy, ecs) is ResourceGrant.NOT_APPLICABLE
    assert grant(policy, user()) is ResourceGrant.NOT_APPLICABLE


def test_federated_principal() -> None:
    saml = f"arn:aws:iam::{ACCOUNT}:saml-provider/ADFS"
    policy = trust(
        {
            "Effect": "Allow",
            "Principal": {"Federated": saml},
            "Action": "sts:AssumeRoleWithSAML",
            "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
        }
    )
    who = PrincipalRef(ACCOUNT, frozenset(), federated=saml)
    ok = Request("sts:AssumeRoleWithSAML", TARGET, who, {"saml:aud": "https://signin.aws.amazon.com/saml"})
    assert policy.grant(ok) is ResourceGrant.ALLOW_PRINCIPAL
    bad_aud = Request("sts:AssumeRoleWithSAML", TARGET, who, {"saml:aud": "x"})
    assert policy.grant(bad_aud) is ResourceGrant.NOT_APPLICABLE
    other_idp = PrincipalRef(ACCOUNT, frozenset(), federated="accounts.google.com")
    assert policy.grant(Request("sts:AssumeRoleWithSAML", TARGET, other_idp, {})) is ResourceGrant.NOT_APPLICABLE


def test_unique_id_principal_for_deleted_and_recreated_roles() -> None:
    policy = _trust({"AWS": "AROAEXAMPLEROLEIDR"})
    assert grant(policy, role_session()) is ResourceGrant.ALLOW_ROLE
    recreated = PrincipalRef(ACCOUNT, role_session().arns, unique_id="AROANEWROLEID000000:sess")
    assert grant(policy, recreated) is ResourceGrant.NOT_APPLICABLE
    uid_user = PrincipalRef(ACCOUNT, user().arns, unique_id="AIDAEXAMPLEUSER00000")
    assert grant(_trust({"AWS": "AIDAEXAMPLEUSER00000"}), uid_user) is ResourceGrant.ALLOW_PRINCIPAL


def test_strongest_grant_wins_across_statements() -> None:
    policy = trust(
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": ASSUME},
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"},
            "Action": ASSUME,
        },
    )
    assert grant(policy, user()) is ResourceGrant.ALLOW_PRINCIPAL
    assert grant(policy, user("bob")) is ResourceGrant.ALLOW_ACCOUNT


def test_trust_deny_statement() -> None:
    policy = trust(
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": ASSUME},
        {
            "Effect": "Deny",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/mallory"},
            "Action": ASSUME,
        },
    )
    assert grant(policy, user("mallory")) is ResourceGrant.DENY
    assert grant(policy, user("alice")) is ResourceGrant.ALLOW_ACCOUNT
    assert policy.evaluate(Request(ASSUME, TARGET, user("mallory"))) is Decision.DENY
    assert policy.evaluate(Request(ASSUME, TARGET, user("alice"))) is Decision.ALLOW


def test_trust_action_must_match() -> None:
    policy = _trust({"AWS": ACCOUNT})
    assert policy.grant(Request("sts:TagSession", TARGET, user())) is ResourceGrant.NOT_APPLICABLE


def test_trust_external_id_condition() -> None:
    policy = _trust(
        {"AWS": f"arn:aws:iam::{OTHER}:root"},
        Condition={"StringEquals": {"sts:ExternalId": "s3cr3t"}},
    )
    who = user(account=OTHER)
    assert grant(policy, who, **{"sts:ExternalId": "s3cr3t"}) is ResourceGrant.ALLOW_ACCOUNT
    assert grant(policy, who, **{"sts:ExternalId": "wrong"}) is ResourceGrant.NOT_APPLICABLE
    assert grant(policy, who) is ResourceGrant.NOT_APPLICABLE


# --- NotPrincipal ----------------------------------------------------------------------------


def _bucket_deny_all_but(*names: str):
    return resource_policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "NotPrincipal": {"AWS": list(names)}, "Action": "s3:*", "Resource": "*"},
    )


def _s3(policy: Any, who: PrincipalRef | None) -> ResourceGrant:
    return policy.grant(Request("s3:GetObject", "arn:aws:s3:::b/k", who, {}))


def test_not_principal_deny_needs_every_link_of_the_chain() -> None:
    bob = f"arn:aws:iam::{OTHER}:user/Bob"
    root = f"arn:aws:iam::{OTHER}:root"
    # listing the user and its account exempts the user ...
    assert _s3(_bucket_deny_all_but(bob, root), user("Bob", OTHER)) is ResourceGrant.ALLOW_PUBLIC
    # ... listing only the user still denies it (its account is not exempt), as AWS warns
    assert _s3(_bucket_deny_all_but(bob), user("Bob", OTHER)) is ResourceGrant.DENY
    # everyone else is denied
    assert _s3(_bucket_deny_all_but(bob, root), user("Eve", OTHER)) is ResourceGrant.DENY
    assert _s3(_bucket_deny_all_but(bob, root), None) is ResourceGrant.DENY


def test_not_principal_role_session_chain() -> None:
    session = f"arn:aws:sts::{OTHER}:assumed-role/R/app"
    role = f"arn:aws:iam::{OTHER}:role/R"
    root = f"arn:aws:iam::{OTHER}:root"
    who = role_session("R", "app", OTHER)
    assert _s3(_bucket_deny_all_but(session, role, root), who) is ResourceGrant.ALLOW_PUBLIC
    assert _s3(_bucket_deny_all_but(session, root), who) is ResourceGrant.DENY  # role missing
    assert _s3(_bucket_deny_all_but(role, root), who) is ResourceGrant.DENY  # session missing


def test_not_principal_with_allow_grants_everyone_else() -> None:
    policy = resource_policy(
        {
            "Effect": "Allow",
            "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/eve"},
            "Action": "s3:*",
            "Resource": "*",
        }
    )
    assert _s3(policy, user("alice")) is ResourceGrant.ALLOW_PUBLIC
    assert _s3(policy, None) is ResourceGrant.ALLOW_PUBLIC
    # eve's account is not listed, so the account link is not excluded
    assert _s3(policy, user("eve")) is ResourceGrant.ALLOW_PUBLIC
    star = resource_policy({"Effect": "Allow", "NotPrincipal": "*", "Action": "s3:*", "Resource": "*"})
    assert _s3(star, user("alice")) is ResourceGrant.NOT_APPLICABLE


def test_not_principal_service() -> None:
    policy = resource_policy(
        {
            "Effect": "Deny",
            "NotPrincipal": {"Service": "logs.amazonaws.com"},
            "Action": "s3:*",
            "Resource": "*",
        }
    )
    logs = PrincipalRef(ACCOUNT, frozenset(), service="logs.amazonaws.com")
    other = PrincipalRef(ACCOUNT, frozenset(), service="ec2.amazonaws.com")
    assert _s3(policy, logs) is ResourceGrant.NOT_APPLICABLE
    assert _s3(policy, other) is ResourceGrant.DENY


def test_principals_listing() -> None:
    policy = trust(
        {
            "Effect": "Allow",
            "Principal": {"AWS": [ACCOUNT, f"arn:aws:iam::{OTHER}:role/R"]},
            "Action": ASSUME,
        },
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": ASSUME},
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": ASSUME,
            "Condition": {"Bool": {"k:x": "true"}},
        },
        {"Effect": "Deny", "NotPrincipal": {"Federated": "accounts.google.com"}, "Action": ASSUME},
    )
    assert policy.principals() == [
        ("AWS", ACCOUNT),
        ("AWS", f"arn:aws:iam::{OTHER}:role/R"),
        ("Service", "ec2.amazonaws.com"),
        ("AWS", "*"),
        ("Federated", "accounts.google.com"),
    ]
    assert identity(_allow()).principals() == []
