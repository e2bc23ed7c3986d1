"""The audit trail of AssumeRoleWithWebIdentity, as CloudTrail records it (IAM User Guide,
"Logging IAM and AWS STS API calls with AWS CloudTrail", AssumeRoleWithWebIdentity example):
userIdentity ``WebIdentityUser`` with principalId ``<provider ARN>:<aud>:<sub>``, userName =
sub, identityProvider = the provider ARN; request parameters without the token; response
elements without the secret key; the role as the resource; the role's account as recipient."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

import pytest

from stsd.testing import StsdServer
from tests.federation.conftest import ACCOUNT, error, unique, web_trust
from tests.federation.issuer import AUDIENCE, Issuer


def records_of(server: StsdServer, request_id: str, timeout: float = 15.0) -> list[dict[str, Any]]:
    assert server.data_dir is not None
    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(server.data_dir / "stsd.db", timeout=30) as db:
            found = [json.loads(row[0]) for row in db.execute("SELECT record FROM audit_events")]
        found = [r for r in found if r.get("requestID") == request_id]
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no audit record for request {request_id}")
        time.sleep(0.1)


def request_id(response_or_error: Any) -> str:
    meta = response_or_error["ResponseMetadata"] if isinstance(response_or_error, dict) \
        else response_or_error.response["ResponseMetadata"]
    return meta["RequestId"]


def test_success_is_recorded_as_the_web_identity_user(server, sts, make_role, issuer, provider):
    role = make_role(web_trust(issuer))
    token = issuer.token(sub="repo:org/app")
    response = sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="audited", WebIdentityToken=token,
                                                 DurationSeconds=900)
    [record] = records_of(server, request_id(response))
    assert record["eventName"] == "AssumeRoleWithWebIdentity"
    assert record["eventSource"] == "sts.amazonaws.com"
    assert record["userIdentity"] == {
        "type": "WebIdentityUser",
        "principalId": f"{provider}:{AUDIENCE}:repo:org/app",
        "userName": "repo:org/app",
        "identityProvider": provider,
    }
    assert record["requestParameters"] == {"roleArn": role, "roleSessionName": "audited", "durationSeconds": 900}
    elements = record["responseElements"]
    assert set(elements["credentials"]) == {"accessKeyId", "sessionToken", "expiration"}
    assert elements["credentials"]["accessKeyId"] == response["Credentials"]["AccessKeyId"]
    assert elements["subjectFromWebIdentityToken"] == "repo:org/app"
    assert elements["provider"] == provider
    assert elements["audience"] == AUDIENCE
    assert elements["assumedRoleUser"] == {"assumedRoleId": response["AssumedRoleUser"]["AssumedRoleId"],
                                           "arn": response["AssumedRoleUser"]["Arn"]}
    assert record["readOnly"] is True
    assert record["resources"] == [{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": role}]
    assert record["recipientAccountId"] == ACCOUNT
    text = json.dumps(record)
    assert token not in text and response["Credentials"]["SecretAccessKey"] not in text


def test_failures_are_recorded_without_the_token(server, sts, make_role, issuer, provider, ca):
    with Issuer(ca) as other:
        untrusting = make_role(web_trust(other))
    token = issuer.token(sub="denied-user")
    with pytest.raises(sts.exceptions.ClientError) as denied:
        sts.assume_role_with_web_identity(RoleArn=untrusting, RoleSessionName="xy", WebIdentityToken=token)
    [record] = records_of(server, request_id(denied.value))
    assert (record["errorCode"], record["errorMessage"]) == (
        "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    assert record["userIdentity"]["type"] == "WebIdentityUser"
    assert record["userIdentity"]["userName"] == "denied-user"
    assert record["responseElements"] is None
    assert record["recipientAccountId"] == ACCOUNT
    assert token not in json.dumps(record)

    # A token that does not check out has no web identity user: the caller is unknown.
    with Issuer(ca) as stranger:
        bad = stranger.token()
    code, _message, _status = error(sts.assume_role_with_web_identity, RoleArn=untrusting, RoleSessionName="xy",
                                    WebIdentityToken=bad)
    assert code == "InvalidIdentityToken"


def test_verification_method_and_token_claims_in_the_record(server, sts, make_role, issuer, provider):
    role = make_role(web_trust(issuer, actions=("sts:AssumeRoleWithWebIdentity", "sts:TagSession",
                                                "sts:SetSourceIdentity")))
    claims = {"https://aws.amazon.com/tags": {"principal_tags": {"CostCenter": ["24680"]},
                                              "transitive_tag_keys": ["CostCenter"]},
              "https://aws.amazon.com/source_identity": "MyWebIdentityUser"}
    response = sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName=unique("s"),
                                                 WebIdentityToken=issuer.token(extra=claims))
    [record] = records_of(server, request_id(response))
    assert record["additionalEventData"]["identityProviderConnectionVerificationMethod"] == "IAMTrustStore"
    assert record["requestParameters"]["sourceIdentity"] == "MyWebIdentityUser"
    assert record["requestParameters"]["principalTags"] == {"CostCenter": "24680"}
    assert record["requestParameters"]["transitiveTagKeys"] == ["CostCenter"]
    assert record["responseElements"]["sourceIdentity"] == "MyWebIdentityUser"
