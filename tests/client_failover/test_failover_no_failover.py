"""Errors no other Region can fix reach the caller after exactly one attempt, and do not
count against the Region's health (it answered)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from stsd.client import RegionalSTS


def _assert_single_attempt(sts: RegionalSTS, code: str) -> None:
    call = sts.last_call
    assert call is not None and call.outcome == "error"
    assert [(a.region, a.outcome, a.reason, a.error_code) for a in call.attempts] == [
        ("eu-west-1", "error", code, code)]
    assert sts.health.state("eu-west-1") == "closed"
    assert sts.health.breaker("eu-west-1").snapshot().consecutive_failures == 0


def test_access_denied_is_not_failed_over(stsd_regional_sts, make_role):
    untrusting = make_role(trusted="arn:aws:iam::111111111111:root")
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2", "eu-central-1"])
    with pytest.raises(ClientError) as denied:
        sts.assume_role(RoleArn=untrusting, RoleSessionName="nope")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    _assert_single_attempt(sts, "AccessDenied")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"RoleSessionName": "spaces are invalid"}, "ValidationError"),
        ({"RoleSessionName": "ok", "DurationSeconds": 7200}, "ValidationError"),  # over the role's maximum
        ({"RoleSessionName": "ok", "Policy": "{not json"}, "MalformedPolicyDocument"),
    ],
    ids=["session-name", "duration", "policy"],
)
def test_request_errors_are_not_failed_over(stsd_regional_sts, role_arn, kwargs, code):
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2"])
    with pytest.raises(ClientError) as rejected:
        sts.assume_role(RoleArn=role_arn, **kwargs)
    assert rejected.value.response["Error"]["Code"] == code
    _assert_single_attempt(sts, code)


def test_unknown_credentials_are_not_failed_over(stsd_regional_sts):
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2"],
                            credentials=("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
    with pytest.raises(ClientError) as rejected:
        sts.get_caller_identity()
    assert rejected.value.response["Error"]["Code"] == "InvalidClientTokenId"
    _assert_single_attempt(sts, "InvalidClientTokenId")


def test_client_side_validation_is_not_failed_over(stsd_regional_sts):
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2"])
    with pytest.raises(ParamValidationError):
        sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/x", RoleSessionName="ok", DurationSeconds=60)
    assert [(a.region, a.outcome, a.reason) for a in sts.last_call.attempts] == [
        ("eu-west-1", "error", "ParamValidationError")]
    assert sts.health.state("eu-west-1") == "closed"
