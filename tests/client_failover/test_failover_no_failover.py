"""Errors no other Region can fix reach the caller after exactly one attempt, and do not
count against the Region's health (it answered)."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from stsd import ids
from stsd.client import RegionalSTS
from stsd.tokens.claims import ROLE, SessionClaims

ACCOUNT = "123456789012"


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


def _sealed_role_session(stsd_server, stsd_regions, role_arn: str, *, expires_in: int) -> tuple[str, str, str]:
    """Session credentials for ``role_arn`` sealed with the server's own keys, so that one can
    have expired without waiting 15 minutes: (access key id, secret, session token)."""
    name = role_arn.rsplit("/", 1)[1]
    role_id = stsd_server.client("iam").get_role(RoleName=name)["Role"]["RoleId"]
    keyring = stsd_regions.runtime.keyring
    keyring.reload()
    now = int(time.time())
    key_id = ids.new_access_key_id(ACCOUNT, ids.SESSION_KEY_PREFIX)
    claims = SessionClaims(kind=ROLE, account=ACCOUNT, name=name, principal_id=role_id, session_name="sealed",
                           issued_at=now - 3600, expires_at=now + expires_in, secret=ids.new_secret_access_key(),
                           region="eu-west-1")
    return key_id, claims.secret, keyring.seal(claims, key_id, 2)


def test_expired_session_token_is_not_failed_over(stsd_server, stsd_regions, stsd_regional_sts, role_arn):
    live = _sealed_role_session(stsd_server, stsd_regions, role_arn, expires_in=600)
    assert stsd_regional_sts("eu-west-1", ["eu-west-2"], credentials=live).get_caller_identity()["Arn"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_arn.rsplit('/', 1)[1]}/sealed")
    expired = _sealed_role_session(stsd_server, stsd_regions, role_arn, expires_in=-1)
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2", "eu-central-1"], credentials=expired)
    with pytest.raises(ClientError) as rejected:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="late")
    assert (rejected.value.response["Error"]["Code"], rejected.value.response["ResponseMetadata"]["HTTPStatusCode"]) \
        == ("ExpiredToken", 403)
    assert rejected.value.response["Error"]["Message"] == "The security token included in the request is expired"
    _assert_single_attempt(sts, "ExpiredToken")


def test_expired_web_identity_token_is_not_failed_over(stsd_endpoint_template, web_issuer, web_role):
    sts = RegionalSTS("eu-west-1", ["eu-west-2", "eu-central-1"], unsigned=True,
                      endpoint_url_template=stsd_endpoint_template)
    with pytest.raises(ClientError) as rejected:
        sts.assume_role_with_web_identity(RoleArn=web_role, RoleSessionName="late",
                                          WebIdentityToken=web_issuer.token(sub="late", expires_in=-5))
    assert (rejected.value.response["Error"]["Code"], rejected.value.response["ResponseMetadata"]["HTTPStatusCode"]) \
        == ("ExpiredTokenException", 400)
    assert rejected.value.response["Error"]["Message"].startswith("Token expired: current date/time ")
    _assert_single_attempt(sts, "ExpiredTokenException")
