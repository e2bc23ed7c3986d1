"""GetCallerIdentity and GetAccessKeyInfo, end to end (aws-sts-behaviour.md §1.4, §6.2, §7;
real-aws-wire-samples.md §3.5, §3.7, §4.3)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from stsd.testing import Credentials
from tests.conftest import allow, trust
from tests.e2e.test_sts_helpers import (
    ACCOUNT_A,
    ACCOUNT_B,
    ROOT_ACCOUNT,
    STS_NS,
    UUID_RE,
    error_of,
    iam_client,
    max_len_problem,
    min_len_problem,
    pattern_problem,
    role_id,
    root_credentials,
    session_credentials,
    signed_request,
    sts_client,
    unique,
    validation,
)

GCI = {"Action": "GetCallerIdentity", "Version": "2011-06-15"}


def identity(server: Any, creds: Any) -> dict[str, str]:
    out = sts_client(server, creds).get_caller_identity()
    return {k: out[k] for k in ("Arn", "UserId", "Account")}


# --- GetCallerIdentity ------------------------------------------------------------------------


def test_iam_user(server, make_user):
    user = make_user()
    user_id = iam_client(server).get_user(UserName=user.user_name)["User"]["UserId"]
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", user_id)
    assert identity(server, user) == {
        "Arn": f"arn:aws:iam::{ACCOUNT_A}:user/{user.user_name}", "UserId": user_id, "Account": ACCOUNT_A}


def test_iam_user_with_path(server):
    iam = iam_client(server)
    name = unique("pathuser")
    created = iam.create_user(UserName=name, Path="/team/dev/")["User"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    creds = Credentials(ACCOUNT_A, key["AccessKeyId"], key["SecretAccessKey"], user_name=name)
    assert identity(server, creds) == {
        "Arn": f"arn:aws:iam::{ACCOUNT_A}:user/team/dev/{name}", "UserId": created["UserId"],
        "Account": ACCOUNT_A}


def test_role_session_has_no_role_path(server, make_user, make_role):
    user = make_user()
    name = unique("pathrole")
    arn = make_role(trust({"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/{user.user_name}"}), name=name,
                    Path="/service/")
    assert arn == f"arn:aws:iam::{ACCOUNT_A}:role/service/{name}"
    out = sts_client(server, user).assume_role(RoleArn=arn, RoleSessionName="build-42")
    rid = role_id(server, arn)
    expected = {"Arn": f"arn:aws:sts::{ACCOUNT_A}:assumed-role/{name}/build-42", "UserId": f"{rid}:build-42",
                "Account": ACCOUNT_A}
    assert {"Arn": out["AssumedRoleUser"]["Arn"], "UserId": out["AssumedRoleUser"]["AssumedRoleId"],
            "Account": ACCOUNT_A} == expected
    assert identity(server, session_credentials(out, ACCOUNT_A)) == expected


def test_cross_account_session_belongs_to_the_role_account(server, make_user, make_role):
    user = make_user(policy=allow("sts:AssumeRole"))
    arn = make_role(trust({"AWS": ACCOUNT_A}), account=ACCOUNT_B)
    out = sts_client(server, user).assume_role(RoleArn=arn, RoleSessionName="x-acct")
    assert identity(server, session_credentials(out, ACCOUNT_B)) == {
        "Arn": f"arn:aws:sts::{ACCOUNT_B}:assumed-role/{arn.rsplit('/', 1)[1]}/x-acct",
        "UserId": f"{role_id(server, arn)}:x-acct", "Account": ACCOUNT_B}


def test_chained_session(server, make_user, make_role):
    user = make_user()
    first = make_role(trust({"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/{user.user_name}"}))
    second = make_role(trust({"AWS": first}))
    one = session_credentials(sts_client(server, user).assume_role(RoleArn=first, RoleSessionName="one"),
                               ACCOUNT_A)
    two = session_credentials(sts_client(server, one).assume_role(RoleArn=second, RoleSessionName="two"),
                              ACCOUNT_A)
    assert identity(server, two) == {
        "Arn": f"arn:aws:sts::{ACCOUNT_A}:assumed-role/{second.rsplit('/', 1)[1]}/two",
        "UserId": f"{role_id(server, second)}:two", "Account": ACCOUNT_A}


def test_root(server):
    root = root_credentials(server)
    assert identity(server, root) == {
        "Arn": f"arn:aws:iam::{ROOT_ACCOUNT}:root", "UserId": ROOT_ACCOUNT, "Account": ROOT_ACCOUNT}


def test_root_session_token_session(server):
    out = sts_client(server, root_credentials(server)).get_session_token(DurationSeconds=900)
    assert identity(server, session_credentials(out, ROOT_ACCOUNT)) == {
        "Arn": f"arn:aws:iam::{ROOT_ACCOUNT}:root", "UserId": ROOT_ACCOUNT, "Account": ROOT_ACCOUNT}


def test_user_session_token_session_is_the_user(server, make_user):
    user = make_user()
    out = sts_client(server, user).get_session_token()
    assert identity(server, session_credentials(out, ACCOUNT_A)) == identity(server, user)


def test_needs_no_permission_even_under_explicit_deny(server, make_user, make_role):
    deny_all = json.dumps({"Version": "2012-10-17",
                           "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
    user = make_user(policy=deny_all)
    assert identity(server, user)["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/{user.user_name}"
    # A session whose session policy denies everything.
    other = make_user()
    trusting = make_role(trust({"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/{other.user_name}"}))
    out = sts_client(server, other).assume_role(RoleArn=trusting, RoleSessionName="locked",
                                                Policy=deny_all)
    assert identity(server, session_credentials(out, ACCOUNT_A))["Arn"] == out["AssumedRoleUser"]["Arn"]


def test_xml_is_byte_exact_for_a_role_session(server, make_user, make_role):
    user = make_user()
    arn = make_role(trust({"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/{user.user_name}"}))
    session = session_credentials(sts_client(server, user).assume_role(RoleArn=arn, RoleSessionName="wire"),
                                  ACCOUNT_A)
    response = signed_request(server, GCI, session)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml"
    request_id = response.headers["x-amzn-requestid"]
    assert re.fullmatch(UUID_RE, request_id)
    assert response.text == (
        f'<GetCallerIdentityResponse xmlns="{STS_NS}">\n'
        "  <GetCallerIdentityResult>\n"
        f"    <Arn>arn:aws:sts::{ACCOUNT_A}:assumed-role/{arn.rsplit('/', 1)[1]}/wire</Arn>\n"
        f"    <UserId>{role_id(server, arn)}:wire</UserId>\n"
        f"    <Account>{ACCOUNT_A}</Account>\n"
        "  </GetCallerIdentityResult>\n"
        "  <ResponseMetadata>\n"
        f"    <RequestId>{request_id}</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</GetCallerIdentityResponse>\n"
    )


def test_json_is_exact_for_root(server):
    response = signed_request(server, GCI, root_credentials(server), headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    request_id = response.headers["x-amzn-requestid"]
    assert response.text == (
        '{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{'
        f'"Arn":"arn:aws:iam::{ROOT_ACCOUNT}:root","UserId":"{ROOT_ACCOUNT}","Account":"{ROOT_ACCOUNT}"}},'
        f'"ResponseMetadata":{{"RequestId":"{request_id}"}}}}}}'
    )


def test_get_request_works_too(server, make_user):
    user = make_user()
    url = server.endpoint_url + "/?Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(BotoCredentials(user.access_key_id, user.secret_access_key), "sts", "us-east-1").add_auth(request)
    response = httpx.get(url, headers=dict(request.headers.items()))
    assert response.status_code == 200
    assert f"<Arn>arn:aws:iam::{ACCOUNT_A}:user/{user.user_name}</Arn>" in response.text


# --- GetAccessKeyInfo -------------------------------------------------------------------------


@pytest.mark.parametrize(("key_id", "account"), [
    ("AKIARZPUZDIKGB2VALC4", "123456789012"),  # AWS's / LocalStack's documented sample
    ("ASIAQAAAAAAAGMKEM7X5", "000000000000"),
])
def test_access_key_info_decodes_published_samples(server, key_id, account):
    out = sts_client(server, server.admins[ACCOUNT_A]).get_access_key_info(AccessKeyId=key_id)
    assert out["Account"] == account


def test_access_key_info_for_keys_of_both_accounts(server, make_user, make_role):
    admin = sts_client(server, server.admins[ACCOUNT_A])
    user_a = make_user()
    user_b = make_user(account=ACCOUNT_B, policy=allow("sts:AssumeRole"))
    role_a = make_role(trust({"AWS": ACCOUNT_B}))
    session_in_a = sts_client(server, user_b).assume_role(RoleArn=role_a, RoleSessionName="from-b")
    gst_b = sts_client(server, user_b).get_session_token(DurationSeconds=900)
    cases = {
        user_a.access_key_id: ACCOUNT_A,
        user_b.access_key_id: ACCOUNT_B,
        server.admins[ACCOUNT_B].access_key_id: ACCOUNT_B,
        session_in_a["Credentials"]["AccessKeyId"]: ACCOUNT_A,  # issued by A's role, to B's user
        gst_b["Credentials"]["AccessKeyId"]: ACCOUNT_B,
        root_credentials(server).access_key_id: ROOT_ACCOUNT,
    }
    assert {k: k[:4] for k in cases} == {k: ("ASIA" if k in (
        session_in_a["Credentials"]["AccessKeyId"], gst_b["Credentials"]["AccessKeyId"]) else "AKIA")
        for k in cases}
    assert {k: admin.get_access_key_info(AccessKeyId=k)["Account"] for k in cases} == cases


def test_access_key_info_validation(server):
    sts = sts_client(server, server.admins[ACCOUNT_A], validate=False)
    assert error_of(sts.get_access_key_info, AccessKeyId="AKIASHORT") == validation(
        min_len_problem("AKIASHORT", "accessKeyId", 16))
    assert error_of(sts.get_access_key_info, AccessKeyId="AKIA-RZPUZDIKGB2VALC4") == validation(
        pattern_problem("AKIA-RZPUZDIKGB2VALC4", "accessKeyId", r"[\w]*"))
    long_id = "A" * 129
    assert error_of(sts.get_access_key_info, AccessKeyId=long_id) == validation(
        max_len_problem(long_id, "accessKeyId", 128))
    assert error_of(sts.get_access_key_info) == validation(
        "Value null at 'accessKeyId' failed to satisfy constraint: Member must not be null")


def test_session_token_credentials_cannot_call_get_access_key_info(server, make_user):
    user = make_user(policy=allow("sts:*"))
    session = session_credentials(sts_client(server, user).get_session_token(), ACCOUNT_A)
    assert error_of(sts_client(server, session).get_access_key_info, AccessKeyId=user.access_key_id) == {
        "status": 403, "Type": "Sender", "Code": "AccessDenied",
        "Message": f"User: arn:aws:iam::{ACCOUNT_A}:user/{user.user_name} is not authorized to perform: "
                   "sts:GetAccessKeyInfo",
    }
    # The long-term key itself may.
    assert sts_client(server, user).get_access_key_info(AccessKeyId=user.access_key_id)["Account"] == ACCOUNT_A
