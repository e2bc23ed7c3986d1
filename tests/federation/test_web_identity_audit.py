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

import boto3
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


def test_the_web_identity_session_names_its_provider(server, sts, iam, make_role, issuer, provider):
    """Later calls of a web identity session carry its IdP: CloudTrail's
    ``sessionContext.webIdFederationData`` = {federatedProvider: <provider ARN>, attributes: {}},
    and the ``aws:FederatedProvider`` condition key (here in the trust policies of a role chain)."""
    name = unique("web")
    web_role = make_role(web_trust(issuer), name=name)
    iam.put_role_policy(RoleName=name, PolicyName="chain", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))

    def chained_trust(federated_provider: str) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:FederatedProvider": federated_provider}}}]})

    from_this_idp = make_role(chained_trust(provider))
    from_another_idp = make_role(chained_trust(f"arn:aws:iam::{ACCOUNT}:oidc-provider/other.example.com"))
    credentials = sts.assume_role_with_web_identity(RoleArn=web_role, RoleSessionName="idp",
                                                    WebIdentityToken=issuer.token(sub="repo:org/idp"))["Credentials"]
    web = session_client(server, credentials)
    identity = web.get_caller_identity()
    [record] = records_of(server, request_id(identity))
    context = record["userIdentity"]["sessionContext"]
    assert context["webIdFederationData"] == {"federatedProvider": provider, "attributes": {}}
    assert context["sessionIssuer"]["arn"] == web_role

    chained = web.assume_role(RoleArn=from_this_idp, RoleSessionName="chained")
    assert chained["AssumedRoleUser"]["Arn"] == from_this_idp.replace(":iam::", ":sts::").replace(
        ":role/", ":assumed-role/") + "/chained"
    code, message, status = error(web.assume_role, RoleArn=from_another_idp, RoleSessionName="chained")
    assert (code, status) == ("AccessDenied", 403)
    assert message == (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{name}/idp is not authorized to perform: "
                       f"sts:AssumeRole on resource: {from_another_idp}")

    [chain_record] = records_of(server, request_id(chained))  # the web identity session's call
    assert chain_record["userIdentity"]["sessionContext"]["webIdFederationData"] == {
        "federatedProvider": provider, "attributes": {}}
    # The session AssumeRole made from it has no IdP of its own: empty, as for any other session.
    later = session_client(server, chained["Credentials"]).get_caller_identity()
    [later_record] = records_of(server, request_id(later))
    assert later_record["userIdentity"]["sessionContext"]["webIdFederationData"] == {}


def session_client(server: StsdServer, credentials: dict[str, Any]) -> Any:
    return boto3.client("sts", endpoint_url=server.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])
