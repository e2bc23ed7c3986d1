"""authorize(): AWS's evaluation logic across identity, resource, boundary and session policies."""

from __future__ import annotations

from typing import Any

import pytest

from stsd.policy import (
    AuthzReason,
    Decision,
    PolicyKind,
    PrincipalRef,
    Request,
    authorize,
    parse_policy,
)
from tests.policy.policy_helpers import ACCOUNT, OTHER, identity, resource_policy, role_session, trust, user

ASSUME = "sts:AssumeRole"
TARGET = f"arn:aws:iam::{ACCOUNT}:role/Target"
BUCKET = "arn:aws:s3:::bucket/key"


def allow(action: str = "*", resource: str = "*", **kw: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **kw}


def deny(action: str = "*", resource: str = "*", **kw: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **kw}


def session_policy(*statements: dict[str, Any]):
    import json

    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}), PolicyKind.SESSION)


ALLOW_ASSUME = identity(allow(ASSUME, TARGET))
ALLOW_ALL = identity(allow())
DENY_ASSUME = identity(deny(ASSUME))
NOTHING = identity(allow("iam:GetUser"))


def trust_for(principal: Any, **kw: Any):
    return trust({"Effect": "Allow", "Principal": principal, "Action": ASSUME, **kw})


def assume(who: PrincipalRef, **kw: Any):
    return authorize(Request(ASSUME, TARGET, who, {}), resource_required=True, **kw)


# --- role trust policies (resource_required) ------------------------------------------------


class TestSameAccountAssumeRole:
    def test_trust_names_user_no_identity_policy_needed(self) -> None:
        r = assume(
            user(),
            identity=[],
            resource=[trust_for({"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"})],
            same_account=True,
        )
        assert r.allowed and r.decision is Decision.ALLOW and r.reason is AuthzReason.ALLOWED_BY_RESOURCE

    def test_trust_names_account_needs_identity_policy(self) -> None:
        t = trust_for({"AWS": ACCOUNT})
        denied = assume(user(), identity=[NOTHING], resource=[t], same_account=True)
        assert not denied.allowed
        assert denied.decision is Decision.NOT_APPLICABLE
        assert denied.reason is AuthzReason.NO_IDENTITY_ALLOW
        assert denied.explanation(ASSUME) == "because no identity-based policy allows the sts:AssumeRole action"
        ok = assume(user(), identity=[ALLOW_ASSUME], resource=[t], same_account=True)
        assert ok.allowed and ok.reason is AuthzReason.ALLOWED_BY_IDENTITY

    def test_identity_policy_alone_is_not_enough(self) -> None:
        r = assume(user(), identity=[ALLOW_ALL], resource=[trust_for({"AWS": OTHER})], same_account=True)
        assert not r.allowed
        assert r.reason is AuthzReason.NO_RESOURCE_ALLOW
        assert r.explanation(ASSUME) == "because no role trust policy allows the sts:AssumeRole action"

    def test_no_trust_policy_at_all(self) -> None:
        r = assume(user(), identity=[ALLOW_ALL], resource=[], same_account=True)
        assert not r.allowed and r.reason is AuthzReason.NO_RESOURCE_ALLOW

    def test_explicit_deny_in_identity_beats_trust_naming_user(self) -> None:
        t = trust_for({"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"})
        r = assume(user(), identity=[DENY_ASSUME], resource=[t], same_account=True)
        assert not r.allowed and r.decision is Decision.DENY
        assert r.reason is AuthzReason.EXPLICIT_DENY_IDENTITY
        assert r.explanation(ASSUME) == "with an explicit deny in an identity-based policy"

    def test_explicit_deny_in_trust(self) -> None:
        t = trust(
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": ASSUME},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ASSUME,
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
            },
        )
        r = authorize(
            Request(ASSUME, TARGET, user(), {"aws:MultiFactorAuthPresent": False}),
            identity=[ALLOW_ALL],
            resource=[t],
            same_account=True,
            resource_required=True,
        )
        assert r.decision is Decision.DENY and r.reason is AuthzReason.EXPLICIT_DENY_RESOURCE
        assert r.explanation(ASSUME) == "with an explicit deny in the role trust policy"

    def test_trust_naming_role_for_role_chaining(self) -> None:
        t = trust_for({"AWS": f"arn:aws:iam::{ACCOUNT}:role/R"})
        r = assume(role_session(), identity=[], resource=[t], same_account=True)
        assert r.allowed and r.reason is AuthzReason.ALLOWED_BY_RESOURCE

    def test_trust_naming_role_is_limited_by_session_policy_and_boundary(self) -> None:
        t = trust_for({"AWS": f"arn:aws:iam::{ACCOUNT}:role/R"})
        r = assume(
            role_session(),
            identity=[],
            resource=[t],
            session=[session_policy(allow("s3:*"))],
            same_account=True,
        )
        assert not r.allowed and r.reason is AuthzReason.NO_SESSION_ALLOW
        assert r.explanation(ASSUME) == "because no session policy allows the sts:AssumeRole action"
        r = assume(
            role_session(),
            identity=[],
            resource=[t],
            boundary=[identity(allow("s3:*"))],
            same_account=True,
        )
        assert not r.allowed and r.reason is AuthzReason.NO_BOUNDARY_ALLOW
        assert r.explanation(ASSUME) == "because no permissions boundary allows the sts:AssumeRole action"
        r = assume(
            role_session(),
            identity=[],
            resource=[t],
            session=[session_policy(allow(ASSUME))],
            boundary=[identity(allow("sts:*"))],
            same_account=True,
        )
        assert r.allowed

    def test_trust_naming_session_is_not_limited_by_session_policy(self) -> None:
        t = trust_for({"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/R/sess"})
        r = assume(
            role_session(),
            identity=[],
            resource=[t],
            session=[session_policy(allow("s3:*"))],
            boundary=[identity(allow("s3:*"))],
            same_account=True,
        )
        assert r.allowed and r.reason is AuthzReason.ALLOWED_BY_RESOURCE

    def test_explicit_deny_in_session_policy_still_wins(self) -> None:
        t = trust_for({"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/R/sess"})
        r = assume(
            role_session(),
            identity=[],
            resource=[t],
            session=[session_policy(deny(ASSUME))],
            same_account=True,
        )
        assert r.decision is Decision.DENY and r.reason is AuthzReason.EXPLICIT_DENY_SESSION
        assert r.explanation(ASSUME) == "with an explicit deny in a session policy"

    def test_explicit_deny_in_boundary(self) -> None:
        t = trust_for({"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"})
        r = assume(
            user(),
            identity=[],
            resource=[t],
            boundary=[identity(allow(), deny(ASSUME))],
            same_account=True,
        )
        assert r.decision is Decision.DENY and r.reason is AuthzReason.EXPLICIT_DENY_BOUNDARY
        assert r.explanation(ASSUME) == "with an explicit deny in a permissions boundary"

    def test_service_principal(self) -> None:
        ec2 = PrincipalRef(ACCOUNT, frozenset(), service="ec2.amazonaws.com")
        r = assume(
            ec2,
            identity=[],
            resource=[trust_for({"Service": "ec2.amazonaws.com"})],
            same_account=True,
        )
        assert r.allowed

    def test_public_trust_grants_directly_in_the_same_account(self) -> None:
        # IAM: with "*", "For IAM users and role principals within your account, no other
        # permissions are required."
        r = assume(user(), identity=[], resource=[trust_for("*")], same_account=True)
        assert r.allowed and r.reason is AuthzReason.ALLOWED_BY_RESOURCE


class TestCrossAccountAssumeRole:
    def test_needs_both_sides(self) -> None:
        t = trust_for({"AWS": OTHER})
        caller = user(account=OTHER)
        both = assume(caller, identity=[ALLOW_ASSUME], resource=[t], same_account=False)
        assert both.allowed and both.reason is AuthzReason.ALLOWED_CROSS_ACCOUNT
        no_identity = assume(caller, identity=[], resource=[t], same_account=False)
        assert not no_identity.allowed and no_identity.reason is AuthzReason.NO_IDENTITY_ALLOW
        no_trust = assume(
            caller,
            identity=[ALLOW_ASSUME],
            resource=[trust_for({"AWS": "999999999999"})],
            same_account=False,
        )
        assert not no_trust.allowed and no_trust.reason is AuthzReason.NO_RESOURCE_ALLOW

    def test_naming_the_user_does_not_remove_the_identity_requirement(self) -> None:
        t = trust_for({"AWS": f"arn:aws:iam::{OTHER}:user/alice"})
        r = assume(user(account=OTHER), identity=[], resource=[t], same_account=False)
        assert not r.allowed and r.reason is AuthzReason.NO_IDENTITY_ALLOW

    def test_session_and_boundary_apply(self) -> None:
        t = trust_for({"AWS": f"arn:aws:sts::{OTHER}:assumed-role/R/sess"})
        caller = role_session(account=OTHER)
        r = assume(
            caller,
            identity=[ALLOW_ALL],
            resource=[t],
            session=[session_policy(allow("s3:*"))],
            same_account=False,
        )
        assert not r.allowed and r.reason is AuthzReason.NO_SESSION_ALLOW
        r = assume(
            caller,
            identity=[ALLOW_ALL],
            resource=[t],
            boundary=[identity(allow("s3:*"))],
            same_account=False,
        )
        assert not r.allowed and r.reason is AuthzReason.NO_BOUNDARY_ALLOW
        r = assume(
            caller,
            identity=[ALLOW_ALL],
            resource=[t],
            session=[session_policy(allow())],
            same_account=False,
        )
        assert r.allowed

    def test_public_trust_still_needs_identity_policy(self) -> None:
        r = assume(user(account=OTHER), identity=[], resource=[trust_for({"AWS": "*"})], same_account=False)
        assert not r.allowed and r.reason is AuthzReason.NO_IDENTITY_ALLOW


# --- generic resource-based policies (resource_required=False) --------------------------------


def s3(who: PrincipalRef | None, **kw: Any):
    return authorize(Request("s3:GetObject", BUCKET, who, {}), **kw)


BUCKET_FOR_ALICE = resource_policy(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"},
        "Action": "s3:*",
        "Resource": "*",
    }
)
BUCKET_FOR_ACCOUNT = resource_policy(
    {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "s3:*", "Resource": "*"}
)


class TestResourcePolicies:
    def test_identity_or_resource_is_enough_in_the_same_account(self) -> None:
        assert s3(user(), identity=[ALLOW_ALL], same_account=True).reason is AuthzReason.ALLOWED_BY_IDENTITY
        assert s3(user(), identity=[], resource=[BUCKET_FOR_ALICE], same_account=True).allowed
        assert not s3(user("bob"), identity=[], resource=[BUCKET_FOR_ALICE], same_account=True).allowed

    def test_account_grant_delegates_to_identity(self) -> None:
        r = s3(user(), identity=[], resource=[BUCKET_FOR_ACCOUNT], same_account=True)
        assert not r.allowed and r.reason is AuthzReason.NO_IDENTITY_ALLOW
        assert r.explanation("s3:GetObject") == "because no identity-based policy allows the s3:GetObject action"

    def test_user_grant_bypasses_boundary(self) -> None:
        r = s3(
            user(),
            identity=[],
            resource=[BUCKET_FOR_ALICE],
            boundary=[identity(allow("iam:*"))],
            same_account=True,
        )
        assert r.allowed

    def test_boundary_limits_identity(self) -> None:
        r = s3(user(), identity=[ALLOW_ALL], boundary=[identity(allow("iam:*"))], same_account=True)
        assert not r.allowed and r.reason is AuthzReason.NO_BOUNDARY_ALLOW
        r = s3(user(), identity=[ALLOW_ALL], boundary=[identity(allow("s3:Get*"))], same_account=True)
        assert r.allowed
        r = s3(
            user(),
            identity=[identity(allow("iam:*"))],
            boundary=[identity(allow())],
            same_account=True,
        )
        assert not r.allowed and r.reason is AuthzReason.NO_IDENTITY_ALLOW

    def test_empty_boundary_allows_nothing(self) -> None:
        r = s3(user(), identity=[ALLOW_ALL], boundary=[], same_account=True)
        assert not r.allowed and r.reason is AuthzReason.NO_BOUNDARY_ALLOW

    def test_session_policies_intersect(self) -> None:
        who = role_session()
        assert s3(who, identity=[ALLOW_ALL], session=None, same_account=True).allowed
        assert s3(
            who,
            identity=[ALLOW_ALL],
            session=[session_policy(allow("s3:GetObject"))],
            same_account=True,
        ).allowed
        r = s3(
            who,
            identity=[identity(allow("iam:*"))],
            session=[session_policy(allow())],
            same_account=True,
        )
        assert not r.allowed and r.reason is AuthzReason.NO_IDENTITY_ALLOW
        r = s3(who, identity=[ALLOW_ALL], session=[session_policy(allow("iam:*"))], same_account=True)
        assert not r.allowed and r.reason is AuthzReason.NO_SESSION_ALLOW

    def test_several_session_policies_any_allow(self) -> None:
        policies = [session_policy(allow("iam:*")), session_policy(allow("s3:*"))]
        assert s3(role_session(), identity=[ALLOW_ALL], session=policies, same_account=True).allowed

    def test_federation_token_without_policy_allows_nothing(self) -> None:
        fed = PrincipalRef(ACCOUNT, frozenset({f"arn:aws:sts::{ACCOUNT}:federated-user/bob"}))
        r = s3(fed, identity=[ALLOW_ALL], session=[], same_account=True)
        assert not r.allowed and r.reason is AuthzReason.NO_SESSION_ALLOW

    def test_resource_policy_naming_federated_session_bypasses_session_policy(self) -> None:
        fed_arn = f"arn:aws:sts::{ACCOUNT}:federated-user/bob"
        fed = PrincipalRef(ACCOUNT, frozenset({fed_arn, f"arn:aws:iam::{ACCOUNT}:user/bob"}))
        direct = resource_policy({"Effect": "Allow", "Principal": {"AWS": fed_arn}, "Action": "s3:*", "Resource": "*"})
        assert s3(fed, identity=[], resource=[direct], session=[], same_account=True).allowed
        via_user = resource_policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"},
                "Action": "s3:*",
                "Resource": "*",
            }
        )
        r = s3(fed, identity=[], resource=[via_user], session=[], same_account=True)
        assert not r.allowed and r.reason is AuthzReason.NO_SESSION_ALLOW

    def test_explicit_deny_in_resource_policy(self) -> None:
        bucket = resource_policy(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        )
        r = authorize(
            Request("s3:GetObject", BUCKET, user(), {"aws:SecureTransport": False}),
            identity=[ALLOW_ALL],
            resource=[bucket],
            same_account=True,
        )
        assert r.decision is Decision.DENY and r.reason is AuthzReason.EXPLICIT_DENY_RESOURCE
        assert r.explanation("s3:GetObject") == "with an explicit deny in a resource-based policy"
        ok = authorize(
            Request("s3:GetObject", BUCKET, user(), {"aws:SecureTransport": True}),
            identity=[ALLOW_ALL],
            resource=[bucket],
            same_account=True,
        )
        assert ok.allowed

    def test_cross_account_resource_policy(self) -> None:
        bucket = resource_policy({"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "s3:*", "Resource": "*"})
        assert s3(user(account=OTHER), identity=[ALLOW_ALL], resource=[bucket], same_account=False).allowed
        r = s3(user(account=OTHER), identity=[ALLOW_ALL], resource=[], same_account=False)
        assert not r.allowed and r.reason is AuthzReason.NO_RESOURCE_ALLOW
        assert r.explanation("s3:GetObject") == "because no resource-based policy allows the s3:GetObject action"

    def test_anonymous_public_access(self) -> None:
        public = resource_policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"})
        assert s3(None, identity=[], resource=[public], same_account=False).allowed
        assert not s3(None, identity=[], resource=[BUCKET_FOR_ACCOUNT], same_account=False).allowed

    def test_root_user_needs_no_identity_policy(self) -> None:
        root = PrincipalRef(ACCOUNT, frozenset({f"arn:aws:iam::{ACCOUNT}:root"}))
        assert root.is_root
        assert s3(root, identity=[], same_account=True).allowed
        assert s3(root, identity=[], boundary=[], session=[], same_account=True).allowed
        r = s3(root, identity=[identity(deny())], same_account=True)
        assert r.decision is Decision.DENY
        assert not user().is_root

    def test_identity_only(self) -> None:
        assert s3(user(), identity=[], same_account=True).reason is AuthzReason.NO_IDENTITY_ALLOW
        multi = [identity(allow("iam:*")), identity(allow("s3:GetObject"))]
        assert s3(user(), identity=multi, same_account=True).allowed
        with_deny = [identity(allow()), identity(deny("s3:*"))]
        assert s3(user(), identity=with_deny, same_account=True).decision is Decision.DENY


@pytest.mark.parametrize("same_account", [True, False])
@pytest.mark.parametrize("where", ["identity", "resource", "boundary", "session"])
def test_explicit_deny_anywhere_wins(where: str, same_account: bool) -> None:
    kwargs: dict[str, Any] = {
        "identity": [ALLOW_ALL],
        "resource": [resource_policy({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})],
        "boundary": [identity(allow())],
        "session": [session_policy(allow())],
    }
    denial = {
        "identity": identity(deny()),
        "resource": resource_policy({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}),
        "boundary": identity(deny()),
        "session": session_policy(deny()),
    }[where]
    kwargs[where] = [*kwargs[where], denial]
    r = authorize(Request("s3:GetObject", BUCKET, role_session(), {}), same_account=same_account, **kwargs)
    assert not r.allowed and r.decision is Decision.DENY
    assert r.reason.name == f"EXPLICIT_DENY_{where.upper()}"


def test_result_is_truthy_when_allowed() -> None:
    assert authorize(Request("s3:GetObject", BUCKET, user(), {}), identity=[ALLOW_ALL], same_account=True)
    assert not authorize(Request("s3:GetObject", BUCKET, user(), {}), identity=[], same_account=True)
    allowed = authorize(Request("s3:GetObject", BUCKET, user(), {}), identity=[ALLOW_ALL], same_account=True)
    assert allowed.explanation("s3:GetObject") is None
