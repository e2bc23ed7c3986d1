"""GetSessionToken: durations (user and root), session-credential refusal, MFA with a virtual
device whose codes the test computes itself (aws-sts-behaviour.md §1.4, §1.5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.conftest import allow, trust
from tests.e2e.test_sts_helpers import (
    ACCOUNT_A,
    ASIA_RE,
    MSG_GST_SESSION,
    MSG_MFA_BAD_CODE,
    MSG_MFA_BAD_DEVICE,
    ROOT_ACCOUNT,
    SECRET_RE,
    aws_error,
    error_of,
    make_mfa_user,
    min_len_problem,
    pattern_problem,
    problem,
    root_credentials,
    session_credentials,
    sts_client,
    totp,
    validation,
)


def expires_in(out: dict, before: float, after: float) -> tuple[int, int]:
    """Bounds on the granted duration: Expiration = the second the request was served + duration."""
    expiration = out["Credentials"]["Expiration"].timestamp()
    return int(expiration - after), int(expiration - before) + 1


@pytest.mark.parametrize(("requested", "granted"), [
    (None, 43200), (900, 900), (3600, 3600), (129600, 129600)])
def test_user_durations(server, make_user, requested, granted):
    sts = sts_client(server, make_user())
    kwargs = {} if requested is None else {"DurationSeconds": requested}
    before = datetime.now(UTC).timestamp()
    out = sts.get_session_token(**kwargs)
    low, high = expires_in(out, before, datetime.now(UTC).timestamp())
    assert low <= granted <= high
    assert set(out) == {"Credentials", "ResponseMetadata"}
    creds = out["Credentials"]
    assert re.fullmatch(ASIA_RE, creds["AccessKeyId"])
    assert re.fullmatch(SECRET_RE, creds["SecretAccessKey"])


@pytest.mark.parametrize(("requested", "granted"), [
    (None, 3600), (900, 900), (3600, 3600), (3601, 3600), (129600, 3600)])
def test_root_durations_are_capped_at_one_hour(server, requested, granted):
    sts = sts_client(server, root_credentials(server))
    kwargs = {} if requested is None else {"DurationSeconds": requested}
    before = datetime.now(UTC).timestamp()
    out = sts.get_session_token(**kwargs)
    low, high = expires_in(out, before, datetime.now(UTC).timestamp())
    assert low <= granted <= high


@pytest.mark.parametrize(("value", "constraint"), [
    (899, "Member must have value greater than or equal to 900"),
    (129601, "Member must have value less than or equal to 129600"),
    (0, "Member must have value greater than or equal to 900"),
])
def test_duration_out_of_range(server, make_user, value, constraint):
    expected = validation(problem(str(value), "durationSeconds", constraint))
    for creds in (make_user(), root_credentials(server)):  # the root cap applies after validation
        sts = sts_client(server, creds, validate=False)
        assert error_of(sts.get_session_token, DurationSeconds=value) == expected


def test_session_credentials_cannot_call_it(server, make_user, make_role):
    user = make_user()
    role = make_role(trust({"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/{user.user_name}"}))
    role_session = session_credentials(
        sts_client(server, user).assume_role(RoleArn=role, RoleSessionName="s1"), ACCOUNT_A)
    user_session = session_credentials(sts_client(server, user).get_session_token(), ACCOUNT_A)
    root_session = session_credentials(
        sts_client(server, root_credentials(server)).get_session_token(), ROOT_ACCOUNT)
    expected = aws_error(403, "AccessDenied", MSG_GST_SESSION)
    for creds in (role_session, user_session, root_session):
        assert error_of(sts_client(server, creds).get_session_token) == expected
        assert error_of(sts_client(server, creds).get_session_token, DurationSeconds=900) == expected


def test_session_can_assume_roles_beyond_one_hour(server, make_user, make_role):
    # GetSessionToken credentials may call AssumeRole, and that is not role chaining.
    user = make_user(policy=allow("sts:AssumeRole"))
    role = make_role(trust({"AWS": ACCOUNT_A}), MaxSessionDuration=7200)
    session = session_credentials(sts_client(server, user).get_session_token(DurationSeconds=900), ACCOUNT_A)
    before = datetime.now(UTC).timestamp()
    out = sts_client(server, session).assume_role(RoleArn=role, RoleSessionName="gst", DurationSeconds=7200)
    low, high = expires_in(out, before, datetime.now(UTC).timestamp())
    assert low <= 7200 <= high


# --- MFA ----------------------------------------------------------------------------------------


def test_mfa_code_gives_an_mfa_session(server, make_user, make_role):
    mfa = make_mfa_user(server, make_user, policy=allow("sts:AssumeRole"))
    role = make_role(trust({"AWS": ACCOUNT_A}, condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    plain = session_credentials(sts_client(server, mfa.creds).get_session_token(), ACCOUNT_A)
    with_mfa = session_credentials(
        sts_client(server, mfa.creds).get_session_token(SerialNumber=mfa.serial, TokenCode=mfa.next_code()),
        ACCOUNT_A)
    assert error_of(sts_client(server, plain).assume_role, RoleArn=role, RoleSessionName="no-mfa") == aws_error(
        403, "AccessDenied", f"User: arn:aws:iam::{ACCOUNT_A}:user/{mfa.creds.user_name} is not authorized to "
                             f"perform: sts:AssumeRole on resource: {role}")
    out = sts_client(server, with_mfa).assume_role(RoleArn=role, RoleSessionName="mfa")
    assert out["AssumedRoleUser"]["Arn"].endswith("/mfa")


def test_wrong_code(server, make_user):
    mfa = make_mfa_user(server, make_user)
    sts = sts_client(server, mfa.creds)
    assert error_of(sts.get_session_token, SerialNumber=mfa.serial, TokenCode=mfa.wrong_code()) == aws_error(
        403, "AccessDenied", MSG_MFA_BAD_CODE)


def test_reused_code(server, make_user):
    mfa = make_mfa_user(server, make_user)
    sts = sts_client(server, mfa.creds)
    enable_code = mfa.next_code()
    sts.get_session_token(SerialNumber=mfa.serial, TokenCode=enable_code)
    expected = aws_error(403, "AccessDenied", MSG_MFA_BAD_CODE)
    assert error_of(sts.get_session_token, SerialNumber=mfa.serial, TokenCode=enable_code) == expected


def test_code_used_to_enable_the_device_is_spent(server, make_user):
    mfa = make_mfa_user(server, make_user)
    assert error_of(sts_client(server, mfa.creds).get_session_token, SerialNumber=mfa.serial,
                    TokenCode=totp(mfa.seed, mfa.enabled_step)) == aws_error(403, "AccessDenied", MSG_MFA_BAD_CODE)


def test_unknown_or_foreign_serial(server, make_user):
    mfa = make_mfa_user(server, make_user)
    other = make_user()
    expected = aws_error(403, "AccessDenied", MSG_MFA_BAD_DEVICE)
    unknown = f"arn:aws:iam::{ACCOUNT_A}:mfa/no-such-device"
    assert error_of(sts_client(server, mfa.creds).get_session_token, SerialNumber=unknown,
                    TokenCode=mfa.next_code()) == expected
    # Another user's device, with a code that is valid for it.
    assert error_of(sts_client(server, other).get_session_token, SerialNumber=mfa.serial,
                    TokenCode=mfa.next_code()) == expected
    # The device's owner can still use that code: the failed attempts did not spend it.
    sts_client(server, mfa.creds).get_session_token(SerialNumber=mfa.serial, TokenCode=mfa.next_code())


def test_mfa_parameter_validation(server, make_user):
    sts = sts_client(server, make_user(), validate=False)
    serial = f"arn:aws:iam::{ACCOUNT_A}:mfa/dev"
    assert error_of(sts.get_session_token, SerialNumber=serial, TokenCode="12a45") == validation(
        pattern_problem("12a45", "tokenCode", r"[\d]*"), min_len_problem("12a45", "tokenCode", 6))
    assert error_of(sts.get_session_token, SerialNumber="short", TokenCode="1234567") == validation(
        min_len_problem("short", "serialNumber", 9),
        problem("1234567", "tokenCode", "Member must have length less than or equal to 6"))
    assert error_of(sts.get_session_token, SerialNumber="arn:aws:iam::1:mfa/a b", TokenCode="123456") == validation(
        pattern_problem("arn:aws:iam::1:mfa/a b", "serialNumber", r"[\w+=/:,.@-]*"))
