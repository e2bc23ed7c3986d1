"""CloudTrail records written for real boto3 calls, field by field (aws-sts-behaviour.md §4)."""

from __future__ import annotations

import base64
import re
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stsd.iam import totp
from stsd.testing import Credentials
from tests.audit.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    CAPE_TOWN_NET,
    EU_NORTH_NET,
    OUTSIDE,
    SYDNEY_NET,
    client,
    records_of,
    request_id,
    start_server,
    store_records,
    trust,
    unique,
    wait_for,
)

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
HUMAN = "%b %-d, %Y, %-I:%M:%S %p"  # Java medium style, e.g. "Feb 12, 2025, 11:16:48 PM"
BOTO3_UA = re.compile(r"^Boto3/1\.44\.5 .*Botocore/1\.44\.5$")


def admin_identity(server: Any, account: str = ACCOUNT_A) -> dict[str, Any]:
    creds = server.admins[account]
    user = client(server, "iam", creds).get_user()["User"]
    return {"type": "IAMUser", "principalId": user["UserId"], "arn": user["Arn"], "accountId": account,
            "accessKeyId": creds.access_key_id, "userName": "admin"}


def common(record: dict[str, Any], rid: str, name: str, *, source: str = "sts.amazonaws.com") -> None:
    """Fields every record has, whatever the call."""
    assert record["eventVersion"] == "1.11"
    assert record["eventSource"] == source
    assert record["eventName"] == name
    assert record["requestID"] == rid
    assert UUID4.fullmatch(record["eventID"])
    assert ISO.fullmatch(record["eventTime"])
    moment = datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=2)
    assert record["eventType"] == "AwsApiCall"
    assert record["managementEvent"] is True
    assert record["eventCategory"] == "Management"


# --- where a call is recorded: global vs Regional endpoints ------------------------------------------


@pytest.mark.parametrize(("source_ip", "serving"), [(EU_NORTH_NET, "eu-north-1"), (SYDNEY_NET, "ap-southeast-2"),
                                                    (CAPE_TOWN_NET, "us-east-1"), (OUTSIDE, "us-east-1")],
                         ids=["eu-north-1", "ap-southeast-2", "opt-in-af-south-1", "outside-aws"])
def test_global_endpoint_recorded_in_us_east_1_with_serving_region(server, source_ip, serving):
    # boto3 with the legacy setting resolves sts.amazonaws.com for eu-north-1, as it did before 1.40.
    sts = client(server, region="eu-north-1", setting="legacy", source_ip=source_ip)
    response = sts.get_caller_identity()
    rid = request_id(response)
    [record] = records_of(server, rid, files=True)
    common(record, rid, "GetCallerIdentity")
    assert record["userIdentity"] == admin_identity(server)
    assert record["awsRegion"] == "us-east-1"
    assert record["additionalEventData"]["RequestDetails"] == {"awsServingRegion": serving, "endpointType": "global"}
    assert record["tlsDetails"] == {"clientProvidedHostHeader": "sts.amazonaws.com"}
    assert record["sourceIPAddress"] == source_ip
    assert BOTO3_UA.match(record["userAgent"])
    assert record["requestParameters"] is None
    assert record["responseElements"] is None
    assert record["readOnly"] is True
    assert record["recipientAccountId"] == ACCOUNT_A
    assert "errorCode" not in record and "resources" not in record and "sharedEventID" not in record
    # The extended request id names the serving Region, as real events do, and is the one the
    # response carried.
    assert record["additionalEventData"]["ExtendedRequestId"] == \
        response["ResponseMetadata"]["HTTPHeaders"]["x-amz-sts-extended-request-id"]
    extended = base64.b64decode(record["additionalEventData"]["ExtendedRequestId"]).decode()
    parts = re.fullmatch(rf"1:{serving}:S:(\d{{13}}):R:([A-Za-z0-9-]{{8}})", extended)
    assert parts, extended
    millis = datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp() * 1000
    assert 0 <= int(parts[1]) - millis < 5000  # served within the second of eventTime, plus slack
    assert set(record["additionalEventData"]) == {"RequestDetails", "ExtendedRequestId"}


def test_legacy_global_endpoint_mode_serves_and_records_in_us_east_1(tmp_path):
    # --global-endpoint-mode legacy: the pre-2025 global endpoint, always served in us-east-1.
    server = start_server(tmp_path, "--global-endpoint-mode", "legacy")
    try:
        sts = client(server, region="eu-north-1", setting="legacy", source_ip=EU_NORTH_NET)
        rid = request_id(sts.get_caller_identity())
        [record] = records_of(server, rid, files=True)
        common(record, rid, "GetCallerIdentity")
        assert record["awsRegion"] == "us-east-1"
        assert record["additionalEventData"]["RequestDetails"] == {"awsServingRegion": "us-east-1",
                                                                   "endpointType": "global"}
        assert record["tlsDetails"] == {"clientProvidedHostHeader": "sts.amazonaws.com"}
        assert record["sourceIPAddress"] == EU_NORTH_NET
        extended = base64.b64decode(record["additionalEventData"]["ExtendedRequestId"]).decode()
        assert extended.startswith("1:us-east-1:S:")
    finally:
        server.cleanup()


def test_regional_endpoint_by_host_recorded_in_its_region(server):
    sts = client(server, region="eu-west-1", source_ip=EU_NORTH_NET)  # botocore 1.44: regional by default
    rid = request_id(sts.get_caller_identity())
    [record] = records_of(server, rid)
    common(record, rid, "GetCallerIdentity")
    assert record["awsRegion"] == "eu-west-1"
    assert record["additionalEventData"]["RequestDetails"] == {"awsServingRegion": "eu-west-1",
                                                               "endpointType": "regional"}
    assert record["tlsDetails"] == {"clientProvidedHostHeader": "sts.eu-west-1.amazonaws.com"}
    assert record["sourceIPAddress"] == EU_NORTH_NET


def test_regional_endpoint_by_path_prefix(server):
    sts = server.client("sts", region="eu-west-1", endpoint_url=f"{server.endpoint_url}/eu-west-1/")
    rid = request_id(sts.get_caller_identity())
    [record] = records_of(server, rid)
    assert record["awsRegion"] == "eu-west-1"
    assert record["additionalEventData"]["RequestDetails"] == {"awsServingRegion": "eu-west-1",
                                                               "endpointType": "regional"}
    assert record["tlsDetails"] == {"clientProvidedHostHeader": f"127.0.0.1:{server.port}"}
    assert record["sourceIPAddress"] == "127.0.0.1"


# --- AssumeRole: parameters, response, the session's identity --------------------------------------------


def make_role(server: Any, account: str, principal: Any) -> tuple[str, str]:
    iam = client(server, "iam", server.admins[account])
    role = iam.create_role(RoleName=unique("audit-role"), AssumeRolePolicyDocument=trust(principal),
                           MaxSessionDuration=7200)["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="all",
                        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*",'
                                       '"Resource":"*"}]}')
    return role["Arn"], role["RoleId"]


def test_assume_role_record_and_session_identity(server):
    role_arn, role_id = make_role(server, ACCOUNT_A, {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"})
    role_name = role_arn.rsplit("/", 1)[1]
    sts = client(server, region="eu-north-1", source_ip=EU_NORTH_NET)
    response = sts.assume_role(RoleArn=role_arn, RoleSessionName="audit-session", DurationSeconds=1800,
                               Tags=[{"Key": "team", "Value": "blue"}], TransitiveTagKeys=["team"],
                               SourceIdentity="alice")
    rid = request_id(response)
    [record] = records_of(server, rid)
    common(record, rid, "AssumeRole")
    assert record["awsRegion"] == "eu-north-1"
    assert record["requestParameters"] == {
        "roleArn": role_arn, "roleSessionName": "audit-session", "durationSeconds": 1800,
        "tags": [{"key": "team", "value": "blue"}], "transitiveTagKeys": ["team"], "sourceIdentity": "alice",
    }
    creds = response["Credentials"]
    assert record["responseElements"] == {
        "assumedRoleUser": {"assumedRoleId": f"{role_id}:audit-session",
                            "arn": f"arn:aws:sts::{ACCOUNT_A}:assumed-role/{role_name}/audit-session"},
        "credentials": {"accessKeyId": creds["AccessKeyId"], "sessionToken": creds["SessionToken"],
                        "expiration": creds["Expiration"].astimezone(UTC).strftime(HUMAN)},
        "packedPolicySize": response["PackedPolicySize"],
        "sourceIdentity": "alice",
    }
    assert isinstance(record["responseElements"]["packedPolicySize"], int)
    assert record["resources"] == [{"accountId": ACCOUNT_A, "type": "AWS::IAM::Role", "ARN": role_arn}]
    assert record["readOnly"] is True
    assert creds["SecretAccessKey"] not in str(record)
    assert "secretAccessKey" not in str(record)

    # The session's own calls carry sessionContext / sessionIssuer / sourceIdentity.
    session = Credentials(ACCOUNT_A, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    rid = request_id(client(server, creds=session, region="eu-north-1").get_caller_identity())
    [record] = records_of(server, rid)
    identity = record["userIdentity"]
    attributes = identity["sessionContext"].pop("attributes")
    assert identity == {
        "type": "AssumedRole",
        "principalId": f"{role_id}:audit-session",
        "arn": f"arn:aws:sts::{ACCOUNT_A}:assumed-role/{role_name}/audit-session",
        "accountId": ACCOUNT_A,
        "accessKeyId": creds["AccessKeyId"],
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": role_id, "arn": role_arn, "accountId": ACCOUNT_A,
                              "userName": role_name},
            "webIdFederationData": {},
            "sourceIdentity": "alice",
        },
    }
    assert attributes["mfaAuthenticated"] == "false"
    created = datetime.strptime(attributes["creationDate"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(created - (creds["Expiration"] - timedelta(seconds=1800))) <= timedelta(seconds=1)


def test_cross_account_assume_role_writes_both_accounts(server):
    role_arn, _ = make_role(server, ACCOUNT_B, {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"})
    sts = client(server, region="eu-north-1", setting="legacy", source_ip=EU_NORTH_NET)  # via the global endpoint
    rid = request_id(sts.assume_role(RoleArn=role_arn, RoleSessionName="cross"))
    caller_view, owner_view = records_of(server, rid, 2, files=True)
    me = admin_identity(server)
    assert caller_view["recipientAccountId"] == ACCOUNT_A
    assert caller_view["userIdentity"] == me
    assert owner_view["recipientAccountId"] == ACCOUNT_B
    assert owner_view["userIdentity"] == {"type": "AWSAccount", "principalId": me["principalId"],
                                          "accountId": ACCOUNT_A}
    assert caller_view["requestID"] == owner_view["requestID"] == rid
    assert UUID4.fullmatch(caller_view["sharedEventID"])
    assert caller_view["sharedEventID"] == owner_view["sharedEventID"]
    assert caller_view["eventID"] != owner_view["eventID"]
    for record in (caller_view, owner_view):
        assert record["awsRegion"] == "us-east-1"
        assert record["additionalEventData"]["RequestDetails"] == {"awsServingRegion": "eu-north-1",
                                                                   "endpointType": "global"}
        assert record["resources"] == [{"accountId": ACCOUNT_B, "type": "AWS::IAM::Role", "ARN": role_arn}]
    same = {k: v for k, v in caller_view.items() if k not in ("userIdentity", "eventID", "recipientAccountId")}
    assert same == {k: v for k, v in owner_view.items() if k not in ("userIdentity", "eventID", "recipientAccountId")}


# --- failures --------------------------------------------------------------------------------------------


def failed(call: Any, **params: Any) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value


def test_failure_records_carry_aws_error_code_and_message(server):
    role_arn, _ = make_role(server, ACCOUNT_A, {"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"})
    sts = client(server, region="eu-west-1")
    cases = [
        (failed(sts.assume_role, RoleArn=f"arn:aws:iam::{ACCOUNT_A}:role/does-not-exist", RoleSessionName="x1"),
         "AccessDenied", "AccessDenied"),
        (failed(sts.assume_role, RoleArn=role_arn, RoleSessionName="val", DurationSeconds=50000),
         "ValidationError", "ValidationError"),
        (failed(sts.assume_role, RoleArn=role_arn, RoleSessionName="big",
                Tags=[{"Key": f"Key{i}", "Value": "v" * 250} for i in range(9)]),
         "PackedPolicyTooLarge", "PackedPolicyTooLargeException"),
    ]
    for error, wire_code, trail_code in cases:
        assert error.response["Error"]["Code"] == wire_code
        rid = request_id(error)
        [record] = records_of(server, rid)
        common(record, rid, "AssumeRole")
        assert record["errorCode"] == trail_code
        assert record["errorMessage"] == error.response["Error"]["Message"]
        assert record["responseElements"] is None
        assert record["requestParameters"]["roleSessionName"] in ("x1", "val", "big")
        assert record["userIdentity"]["type"] == "IAMUser"
        assert list(record).index("errorCode") == list(record).index("userAgent") + 1
    validation = [r for r in store_records(server) if r.get("errorCode") == "ValidationError"]
    assert any(r["errorMessage"] == "1 validation error detected: Value '50000' at 'durationSeconds' failed to "
               "satisfy constraint: Member must have value less than or equal to 43200"
               and r["requestParameters"]["durationSeconds"] == 50000 for r in validation)


def test_unauthenticated_calls_are_recorded(server):
    # Unsigned: nobody's account — kept in the store, delivered to no trail.
    request = urllib.request.Request(f"{server.endpoint_url}/", data=b"Action=GetCallerIdentity&Version=2011-06-15",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    rid = caught.value.headers["x-amzn-RequestId"]
    [record] = records_of(server, rid)
    assert record["errorCode"] == "MissingAuthenticationToken"
    assert record["userIdentity"] == {"type": "Unknown"}
    assert "recipientAccountId" not in record
    # A wrong secret for a real key: the key's account owns the record.
    admin = server.admins[ACCOUNT_A]
    forged = Credentials(ACCOUNT_A, admin.access_key_id, "x" * 40)
    error = failed(client(server, creds=forged).get_caller_identity)
    [record] = records_of(server, request_id(error), files=True)
    assert record["errorCode"] == "SignatureDoesNotMatch"
    assert record["userIdentity"] == {"type": "Unknown", "accountId": ACCOUNT_A, "accessKeyId": admin.access_key_id}
    assert record["recipientAccountId"] == ACCOUNT_A


# --- IAM, MFA and the root --------------------------------------------------------------------------------


def test_iam_calls_recorded_in_us_east_1_without_secrets(server):
    iam = client(server, "iam", region="us-east-1")
    name = unique("audit-user")
    rid = request_id(iam.create_user(UserName=name))
    [record] = records_of(server, rid)
    common(record, rid, "CreateUser", source="iam.amazonaws.com")
    assert record["awsRegion"] == "us-east-1"
    assert record["readOnly"] is False
    assert record["requestParameters"] == {"userName": name}
    assert set(record["responseElements"]["user"]) == {"path", "userName", "userId", "arn", "createDate"}
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d:\d\d [AP]M",
                        record["responseElements"]["user"]["createDate"])
    assert "additionalEventData" not in record

    key = iam.create_access_key(UserName=name)
    [record] = records_of(server, request_id(key))
    assert record["responseElements"]["accessKey"]["accessKeyId"] == key["AccessKey"]["AccessKeyId"]
    assert "secretAccessKey" not in record["responseElements"]["accessKey"]
    assert key["AccessKey"]["SecretAccessKey"] not in str(record)

    listed = iam.list_users()
    [record] = records_of(server, request_id(listed))
    assert record["readOnly"] is True and record["responseElements"] is None and record["requestParameters"] is None


def test_mfa_codes_and_seeds_never_recorded(server):
    iam = client(server, "iam")
    name = unique("mfa-user")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument='{"Version":"2012-10-17","Statement":'
                        '[{"Effect":"Allow","Action":"*","Resource":"*"}]}')
    key = iam.create_access_key(UserName=name)["AccessKey"]
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName=unique("dev"))
    device = created["VirtualMFADevice"]
    seed_b32 = device["Base32StringSeed"].decode()  # boto3 hands out the base32 text as bytes
    seed = base64.b32decode(seed_b32)
    step = int(datetime.now(UTC).timestamp()) // 30
    code1, code2 = totp.code_at(seed, step - 1), totp.code_at(seed, step)
    enabled = iam.enable_mfa_device(UserName=name, SerialNumber=device["SerialNumber"],
                                    AuthenticationCode1=code1, AuthenticationCode2=code2)
    [create_record] = records_of(server, request_id(created))
    assert create_record["responseElements"] == {"virtualMFADevice": {"serialNumber": device["SerialNumber"]}}
    [enable_record] = records_of(server, request_id(enabled))
    assert enable_record["requestParameters"] == {
        "userName": name, "serialNumber": device["SerialNumber"],
        "authenticationCode1": "HIDDEN_DUE_TO_SECURITY_REASONS",
        "authenticationCode2": "HIDDEN_DUE_TO_SECURITY_REASONS"}

    user = Credentials(ACCOUNT_A, key["AccessKeyId"], key["SecretAccessKey"])
    code3 = totp.code_at(seed, step + 1)
    time.sleep(max(0.0, (step + 1) * 30 - datetime.now(UTC).timestamp()) if code3 == code2 else 0)
    token = client(server, creds=user).get_session_token(SerialNumber=device["SerialNumber"], TokenCode=code3,
                                                          DurationSeconds=900)
    [record] = records_of(server, request_id(token))
    assert record["requestParameters"] == {"durationSeconds": 900, "serialNumber": device["SerialNumber"],
                                           "tokenCode": "HIDDEN_DUE_TO_SECURITY_REASONS"}
    assert set(record["responseElements"]["credentials"]) == {"accessKeyId", "sessionToken", "expiration"}
    wire_seed = base64.b64encode(seed_b32.encode()).decode()  # how the XML carried it
    for secret in (seed_b32, wire_seed, token["Credentials"]["SecretAccessKey"], key["SecretAccessKey"]):
        assert all(secret not in str(r) for r in store_records(server))
    for code in {code1, code2, code3}:
        assert all(f'"{code}"' not in str(r).replace("'", '"') for r in (create_record, enable_record, record))

    # The MFA session's calls say so.
    session = token["Credentials"]
    creds = Credentials(ACCOUNT_A, session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])
    [record] = records_of(server, request_id(client(server, creds=creds).get_caller_identity()))
    identity = record["userIdentity"]
    assert identity["type"] == "IAMUser" and identity["userName"] == name
    assert identity["accessKeyId"] == session["AccessKeyId"]
    assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "true"
    assert identity["sessionContext"]["sessionIssuer"] == {}


def test_root_identity(server):
    root = server.init_account(ACCOUNT_A, root_key=True)
    sts = client(server, creds=root)
    rid = wait_for(lambda: _try(lambda: request_id(sts.get_caller_identity())))
    [record] = records_of(server, rid)
    assert record["userIdentity"] == {"type": "Root", "principalId": ACCOUNT_A, "arn": f"arn:aws:iam::{ACCOUNT_A}:root",
                                      "accountId": ACCOUNT_A, "accessKeyId": root.access_key_id}


def _try(call: Any) -> Any:
    try:
        return call()
    except ClientError:
        return None  # the server picks up a key made by the CLI within a poll interval

