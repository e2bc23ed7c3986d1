"""AssumeRole: who may assume what, durations and role chaining, parameter validation,
ExternalId, MFA-protected roles, ProvidedContexts (aws-sts-behaviour.md §1.4, §1.5, §6.3;
real-aws-wire-samples.md §2.1, §2.3, §3.1, §3.2)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.conftest import allow, trust
from tests.e2e.test_sts_helpers import (
    ACCOUNT_A,
    ACCOUNT_B,
    ASIA_RE,
    MSG_CHAINED,
    MSG_MAX_SESSION,
    MSG_ROOT,
    ROOT_ACCOUNT,
    SECRET_RE,
    assumed_arn,
    aws_error,
    denied,
    error_of,
    make_mfa_user,
    max_len_problem,
    min_len_problem,
    pattern_problem,
    problem,
    put_role_policy,
    role_id,
    root_credentials,
    session_credentials,
    sts_client,
    unique,
    user_arn,
    validation,
)


def user_trust(user) -> str:
    return trust({"AWS": user_arn(user)})


# --- who may assume a role ----------------------------------------------------------------------


def test_same_account_trust_naming_the_user_needs_no_identity_policy(server, make_user, make_role):
    user = make_user()
    role = make_role(user_trust(user))
    before = datetime.now(UTC).timestamp()
    out = sts_client(server, user).assume_role(RoleArn=role, RoleSessionName="alice@example.com")
    after = datetime.now(UTC).timestamp()
    assert set(out) == {"Credentials", "AssumedRoleUser", "ResponseMetadata"}  # no PackedPolicySize
    assert out["AssumedRoleUser"] == {"AssumedRoleId": f"{role_id(server, role)}:alice@example.com",
                                      "Arn": assumed_arn(role, "alice@example.com")}
    creds = out["Credentials"]
    assert re.fullmatch(ASIA_RE, creds["AccessKeyId"])
    assert re.fullmatch(SECRET_RE, creds["SecretAccessKey"])
    expiration = creds["Expiration"].timestamp()
    assert int(before) + 3600 <= expiration <= after + 3600  # default duration, whole seconds


def test_same_account_trust_naming_the_account_needs_an_identity_policy(server, make_user, make_role):
    role = make_role(trust({"AWS": ACCOUNT_A}))
    without = make_user()
    assert error_of(sts_client(server, without).assume_role, RoleArn=role, RoleSessionName="s1") == denied(
        user_arn(without), "sts:AssumeRole", role)
    with_policy = make_user(policy=allow("sts:AssumeRole", role))
    sts_client(server, with_policy).assume_role(RoleArn=role, RoleSessionName="s1")
    # The root principal form in the trust policy behaves the same.
    root_form = make_role(trust({"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"}))
    assert error_of(sts_client(server, without).assume_role, RoleArn=root_form, RoleSessionName="s1") == denied(
        user_arn(without), "sts:AssumeRole", root_form)
    sts_client(server, make_user(policy=allow("sts:AssumeRole"))).assume_role(RoleArn=root_form,
                                                                               RoleSessionName="s1")


def test_identity_policy_must_name_the_role(server, make_user, make_role):
    role = make_role(trust({"AWS": ACCOUNT_A}))
    other = make_role(trust({"AWS": ACCOUNT_A}))
    user = make_user(policy=allow("sts:AssumeRole", other))
    assert error_of(sts_client(server, user).assume_role, RoleArn=role, RoleSessionName="s1") == denied(
        user_arn(user), "sts:AssumeRole", role)


def test_cross_account_needs_trust_and_identity(server, make_user, make_role):
    trusting = make_role(trust({"AWS": ACCOUNT_A}), account=ACCOUNT_B)
    not_trusting = make_role(trust({"AWS": ACCOUNT_B}), account=ACCOUNT_B)
    with_policy = make_user(policy=allow("sts:AssumeRole"))
    without = make_user()
    names_user = make_role(user_trust(without), account=ACCOUNT_B)

    out = sts_client(server, with_policy).assume_role(RoleArn=trusting, RoleSessionName="xacct")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/{trusting.rsplit('/', 1)[1]}/xacct"
    assert error_of(sts_client(server, without).assume_role, RoleArn=trusting, RoleSessionName="xacct") == denied(
        user_arn(without), "sts:AssumeRole", trusting)
    assert error_of(sts_client(server, with_policy).assume_role, RoleArn=not_trusting,
                    RoleSessionName="xacct") == denied(user_arn(with_policy), "sts:AssumeRole", not_trusting)
    # Naming the user in the other account's trust is not enough without an identity policy.
    assert error_of(sts_client(server, without).assume_role, RoleArn=names_user, RoleSessionName="xacct") == denied(
        user_arn(without), "sts:AssumeRole", names_user)


def test_unknown_role_and_denied_trust_look_the_same(server, make_user, make_role):
    user = make_user(policy=allow("sts:AssumeRole"))
    sts = sts_client(server, user)
    name = unique("role")
    missing = f"arn:aws:iam::{ACCOUNT_A}:role/{name}"
    assert error_of(sts.assume_role, RoleArn=missing, RoleSessionName="s1") == denied(
        user_arn(user), "sts:AssumeRole", missing)
    existing = make_role(trust({"AWS": ACCOUNT_B}), name=name)
    assert existing == missing
    assert error_of(sts.assume_role, RoleArn=existing, RoleSessionName="s1") == denied(
        user_arn(user), "sts:AssumeRole", existing)
    missing_b = f"arn:aws:iam::{ACCOUNT_B}:role/{name}"
    assert error_of(sts.assume_role, RoleArn=missing_b, RoleSessionName="s1") == denied(
        user_arn(user), "sts:AssumeRole", missing_b)


def test_role_arn_must_match_path_and_partition(server, make_user, make_role):
    user = make_user()
    name = unique("role")
    role = make_role(user_trust(user), name=name, Path="/app/")
    sts = sts_client(server, user)
    for arn in (f"arn:aws:iam::{ACCOUNT_A}:role/{name}", f"arn:aws:iam::{ACCOUNT_A}:role/other/{name}",
                f"arn:aws-cn:iam::{ACCOUNT_A}:role/app/{name}", f"arn:aws:sts::{ACCOUNT_A}:role/app/{name}"):
        assert error_of(sts.assume_role, RoleArn=arn, RoleSessionName="s1") == denied(
            user_arn(user), "sts:AssumeRole", arn)
    assert sts.assume_role(RoleArn=role, RoleSessionName="s1")["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{ACCOUNT_A}:assumed-role/{name}/s1")


def test_root_may_not_assume_roles(server, make_role):
    role = make_role(trust({"AWS": ROOT_ACCOUNT}))
    sts = sts_client(server, root_credentials(server))
    expected = aws_error(403, "AccessDenied", MSG_ROOT)
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="root") == expected
    own = f"arn:aws:iam::{ROOT_ACCOUNT}:role/anything"
    assert error_of(sts.assume_role, RoleArn=own, RoleSessionName="root") == expected


def test_session_with_denying_trust_statement(server, make_user, make_role):
    user = make_user(policy=allow("sts:AssumeRole"))
    document = ('{"Version":"2012-10-17","Statement":['
                f'{{"Effect":"Allow","Principal":{{"AWS":"{ACCOUNT_A}"}},"Action":"sts:AssumeRole"}},'
                f'{{"Effect":"Deny","Principal":{{"AWS":"{user_arn(user)}"}},"Action":"sts:AssumeRole"}}]}}')
    role = make_role(document)
    assert error_of(sts_client(server, user).assume_role, RoleArn=role, RoleSessionName="s1") == denied(
        user_arn(user), "sts:AssumeRole", role)
    sts_client(server, make_user(policy=allow("sts:AssumeRole"))).assume_role(RoleArn=role,
                                                                               RoleSessionName="s1")


# --- durations and role chaining -----------------------------------------------------------------


@pytest.fixture
def chain(server, make_user, make_role):
    """A user, a first role (max 12 h) whose sessions may assume anything, and its session."""
    user = make_user()
    first = make_role(user_trust(user), MaxSessionDuration=43200)
    put_role_policy(server, first, allow("sts:AssumeRole"))
    session = session_credentials(
        sts_client(server, user).assume_role(RoleArn=first, RoleSessionName="first"), ACCOUNT_A)
    return user, first, session


def granted(out, before: float, after: float) -> tuple[int, int]:
    expiration = out["Credentials"]["Expiration"].timestamp()
    return int(expiration - after), int(expiration - before) + 1


@pytest.mark.parametrize("duration", [900, 3600, 43200])
def test_durations_within_the_role_maximum(server, make_user, make_role, duration):
    user = make_user()
    role = make_role(user_trust(user), MaxSessionDuration=43200)
    before = datetime.now(UTC).timestamp()
    out = sts_client(server, user).assume_role(RoleArn=role, RoleSessionName="dur", DurationSeconds=duration)
    low, high = granted(out, before, datetime.now(UTC).timestamp())
    assert low <= duration <= high


def test_duration_above_the_role_maximum(server, make_user, make_role):
    user = make_user()
    default_max = make_role(user_trust(user))
    two_hours = make_role(user_trust(user), MaxSessionDuration=7200)
    sts = sts_client(server, user)
    expected = aws_error(400, "ValidationError", MSG_MAX_SESSION)
    assert error_of(sts.assume_role, RoleArn=default_max, RoleSessionName="dur", DurationSeconds=3601) == expected
    assert error_of(sts.assume_role, RoleArn=two_hours, RoleSessionName="dur", DurationSeconds=7201) == expected
    sts.assume_role(RoleArn=two_hours, RoleSessionName="dur", DurationSeconds=7200)


@pytest.mark.parametrize(("value", "constraint"), [
    (899, "Member must have value greater than or equal to 900"),
    (43201, "Member must have value less than or equal to 43200"),
    (-5, "Member must have value greater than or equal to 900"),
])
def test_duration_outside_the_model_range(server, make_user, make_role, value, constraint):
    user = make_user()
    role = make_role(user_trust(user), MaxSessionDuration=43200)
    sts = sts_client(server, user, validate=False)
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="dur", DurationSeconds=value) == validation(
        problem(str(value), "durationSeconds", constraint))


def test_chained_session_is_limited_to_one_hour(server, make_role, chain):
    _user, _first, session = chain
    long_role = make_role(trust({"AWS": ACCOUNT_A}), MaxSessionDuration=43200)
    sts = sts_client(server, session)
    before = datetime.now(UTC).timestamp()
    out = sts.assume_role(RoleArn=long_role, RoleSessionName="second")
    low, high = granted(out, before, datetime.now(UTC).timestamp())
    assert low <= 3600 <= high
    sts.assume_role(RoleArn=long_role, RoleSessionName="second", DurationSeconds=3600)
    assert error_of(sts.assume_role, RoleArn=long_role, RoleSessionName="second", DurationSeconds=3601) == (
        aws_error(400, "ValidationError", MSG_CHAINED))
    # Over both limits: the role's MaxSessionDuration message wins.
    short_role = make_role(trust({"AWS": ACCOUNT_A}))
    assert error_of(sts.assume_role, RoleArn=short_role, RoleSessionName="second", DurationSeconds=3601) == (
        aws_error(400, "ValidationError", MSG_MAX_SESSION))
    # Above the model maximum, the range check comes first.
    raw = sts_client(server, session, validate=False)
    assert error_of(raw.assume_role, RoleArn=long_role, RoleSessionName="second", DurationSeconds=43201) == (
        validation(problem("43201", "durationSeconds", "Member must have value less than or equal to 43200")))
    # A chained session may chain again (trust naming the previous role, no identity policy).
    third_role = make_role(trust({"AWS": long_role}))
    again = sts_client(server, session_credentials(out, ACCOUNT_A)).assume_role(RoleArn=third_role,
                                                                                RoleSessionName="third")
    assert again["AssumedRoleUser"]["Arn"] == assumed_arn(third_role, "third")


def test_duration_checks_come_after_authorisation(server, make_user, make_role):
    # A caller who may not assume the role learns nothing about its MaxSessionDuration.
    role = make_role(trust({"AWS": ACCOUNT_B}))
    user = make_user()
    assert error_of(sts_client(server, user).assume_role, RoleArn=role, RoleSessionName="dur",
                    DurationSeconds=7200) == denied(user_arn(user), "sts:AssumeRole", role)


# --- parameter validation ---------------------------------------------------------------------


@pytest.mark.parametrize("arn", [
    "nothing-valid-in-here",
    "arn::b:::something/test-role",
    "arn:a::::something/test-role",
    "arn:a:::something/test-role",
    "arn:a:a::aaaaaaaaaa:",
])
def test_role_arn_is_invalid(server, arn):
    sts = sts_client(server, server.admins[ACCOUNT_A], validate=False)
    assert error_of(sts.assume_role, RoleArn=arn, RoleSessionName="Session1") == aws_error(
        400, "ValidationError", f"{arn} is invalid")


def test_syntactically_valid_foreign_arn_is_denied(server):
    admin = server.admins[ACCOUNT_A]
    sts = sts_client(server, admin, validate=False)
    arn = "arn:a:b:::something/test-role"
    assert error_of(sts.assume_role, RoleArn=arn, RoleSessionName="Session1") == denied(
        f"arn:aws:iam::{ACCOUNT_A}:user/admin", "sts:AssumeRole", arn)
    assert error_of(sts.assume_role, RoleArn=arn, RoleSessionName="Session1:2") == validation(
        pattern_problem("Session1:2", "roleSessionName"))


def test_model_constraints_come_before_the_arn_syntax_check(server):
    sts = sts_client(server, server.admins[ACCOUNT_A], validate=False)
    assert error_of(sts.assume_role, RoleArn="nothing-valid-in-here", RoleSessionName="a:b") == validation(
        pattern_problem("a:b", "roleSessionName"))
    assert error_of(sts.assume_role, RoleArn="not-an-arn", RoleSessionName="ok") == validation(
        min_len_problem("not-an-arn", "roleArn", 20))


@pytest.mark.parametrize(("name", "problems"), [
    ("x" * 65, [max_len_problem("x" * 65, "roleSessionName", 64)]),
    ("x", [min_len_problem("x", "roleSessionName", 2)]),
    ("has space", [pattern_problem("has space", "roleSessionName")]),
    ("é", [pattern_problem("é", "roleSessionName"), min_len_problem("é", "roleSessionName", 2)]),
    ("ab/cd", [pattern_problem("ab/cd", "roleSessionName")]),
    ("a" * 64 + "!", [pattern_problem("a" * 64 + "!", "roleSessionName"),
                      max_len_problem("a" * 64 + "!", "roleSessionName", 64)]),
])
def test_role_session_name_constraints(server, name, problems):
    sts = sts_client(server, server.admins[ACCOUNT_A], validate=False)
    role = f"arn:aws:iam::{ACCOUNT_A}:role/{unique('role')}"
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName=name) == validation(*problems)


def test_role_session_name_edges_pass(server, make_user, make_role):
    user = make_user()
    role = make_role(user_trust(user))
    sts = sts_client(server, user)
    for name in ("ab", "x" * 64, "A_b+c=d,e.f@g-h"):
        assert sts.assume_role(RoleArn=role, RoleSessionName=name)["AssumedRoleUser"]["Arn"] == assumed_arn(
            role, name)


def test_several_validation_errors_are_joined(server):
    sts = sts_client(server, server.admins[ACCOUNT_A], validate=False)
    assert error_of(sts.assume_role) == validation(
        problem(None, "roleArn", "Member must not be null"),
        problem(None, "roleSessionName", "Member must not be null"))
    assert error_of(sts.assume_role, RoleArn="short", RoleSessionName="x", DurationSeconds=100,
                    ExternalId="!", SourceIdentity="aws:x") == validation(
        min_len_problem("short", "roleArn", 20),
        min_len_problem("x", "roleSessionName", 2),
        problem("100", "durationSeconds", "Member must have value greater than or equal to 900"),
        pattern_problem("!", "externalId", r"[\w+=,.@:\/-]*"),
        min_len_problem("!", "externalId", 2),
        pattern_problem("aws:x", "sourceIdentity"))


# --- ExternalId -----------------------------------------------------------------------------


def test_external_id_required_by_trust(server, make_user, make_role):
    user = make_user(policy=allow("sts:AssumeRole"))
    role = make_role(trust({"AWS": ACCOUNT_A}, condition={"StringEquals": {"sts:ExternalId": "Unique-Id:42"}}))
    sts = sts_client(server, user)
    expected = denied(user_arn(user), "sts:AssumeRole", role)
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="ext") == expected
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="ext", ExternalId="Unique-Id:43") == expected
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="ext", ExternalId="unique-id:42") == expected
    sts.assume_role(RoleArn=role, RoleSessionName="ext", ExternalId="Unique-Id:42")


def test_external_id_constraints(server):
    sts = sts_client(server, server.admins[ACCOUNT_A], validate=False)
    role = f"arn:aws:iam::{ACCOUNT_A}:role/{unique('role')}"
    long_id = "e" * 1225
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="ext", ExternalId=long_id) == validation(
        max_len_problem(long_id, "externalId", 1224))
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="ext", ExternalId="a b") == validation(
        pattern_problem("a b", "externalId", r"[\w+=,.@:\/-]*"))


# --- MFA-protected roles -------------------------------------------------------------------


def test_mfa_required_by_trust(server, make_user, make_role):
    mfa = make_mfa_user(server, make_user, policy=allow("sts:AssumeRole"))
    role = make_role(trust({"AWS": ACCOUNT_A}, condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    sts = sts_client(server, mfa.creds)
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="mfa") == denied(
        user_arn(mfa.creds), "sts:AssumeRole", role)
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="mfa", SerialNumber=mfa.serial,
                    TokenCode=mfa.wrong_code()) == aws_error(
        403, "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")
    out = sts.assume_role(RoleArn=role, RoleSessionName="mfa", SerialNumber=mfa.serial, TokenCode=mfa.next_code())
    assert out["AssumedRoleUser"]["Arn"] == assumed_arn(role, "mfa")
    # The code is spent.
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="mfa", SerialNumber=mfa.serial,
                    TokenCode=mfa.next_code()) == aws_error(
        403, "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")


def test_mfa_age_condition(server, make_user, make_role):
    mfa = make_mfa_user(server, make_user, policy=allow("sts:AssumeRole"))
    role = make_role(trust({"AWS": ACCOUNT_A}, condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "300"}}))
    sts = sts_client(server, mfa.creds)
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="age") == denied(
        user_arn(mfa.creds), "sts:AssumeRole", role)
    sts.assume_role(RoleArn=role, RoleSessionName="age", SerialNumber=mfa.serial, TokenCode=mfa.next_code())


# --- ProvidedContexts ------------------------------------------------------------------------


def test_provided_contexts(server, make_user, make_role):
    user = make_user()
    role = make_role(user_trust(user))
    sts = sts_client(server, user, validate=False)
    foreign = "arn:aws:iam::aws:contextProvider/SomethingElse"
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="ctx",
                    ProvidedContexts=[{"ProviderArn": foreign, "ContextAssertion": "opaque-assertion"}]) == denied(
        user_arn(user), "sts:SetContext", foreign)
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="ctx", ProvidedContexts=[]) == validation(
        min_len_problem("[]", "providedContexts", 1))
    identity_center = "arn:aws:iam::aws:contextProvider/IdentityCenter"
    assert error_of(sts.assume_role, RoleArn=role, RoleSessionName="ctx",
                    ProvidedContexts=[{"ProviderArn": identity_center, "ContextAssertion": "abc"}]) == validation(
        min_len_problem("abc", "providedContexts.1.member.contextAssertion", 4))
