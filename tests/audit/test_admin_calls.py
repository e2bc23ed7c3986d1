"""Audit records of the admin API (``/admin/``, recorded as IAM calls are: iam.amazonaws.com in
us-east-1) and of the Account API (recorded as CloudTrail records AWS Account Management:
account.amazonaws.com in us-east-1, requestParameters in lowerCamel, responseElements null —
the example events of "Logging AWS Account Management API calls using AWS CloudTrail").
Each call against a real server, its one record compared field by field."""

from __future__ import annotations

import http.client
import json
import re
import ssl
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError

from stsd.testing import Credentials, StsdServer
from tests.audit.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    client,
    file_records,
    records_of,
    request_id,
    store_records,
    trail_files,
    unique,
)

UA = "stsd-admin-test/1.0"
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
IAM = "iam.amazonaws.com"
ACCOUNT = "account.amazonaws.com"
MSG_IN_TRANSITION = ("Account {account} and region {region} is currently being enabled or disabled. "
                     "Please wait until it finishes and then try again.")


def admin(server: StsdServer, method: str, path: str, body: Any = None, *, creds: Credentials | None = None,
          raw: bytes | None = None, signed: bool = True) -> httpx.Response:
    """An /admin/ request signed (service ``stsd``) with ``creds`` (account A's admin by default)."""
    url = server.endpoint_url + path
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    request = AWSRequest(method=method, url=url, data=data,
                         headers={"Content-Type": "application/json", "User-Agent": UA})
    if signed:
        creds = creds or server.admins[ACCOUNT_A]
        boto = BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token)
        SigV4Auth(boto, "stsd", "us-east-1").add_auth(request)
    return httpx.request(method, url, headers=dict(request.headers.items()), content=data, timeout=30)


def identity(server: StsdServer, creds: Credentials) -> dict[str, Any]:
    user = client(server, "iam").get_user(UserName=creds.user_name or "admin")["User"]
    return {"type": "IAMUser", "principalId": user["UserId"], "arn": user["Arn"], "accountId": creds.account_id,
            "accessKeyId": creds.access_key_id, "userName": user["UserName"]}


def the_record(server: StsdServer, rid: str) -> dict[str, Any]:
    """The one record of a request, with its eventID and eventTime checked and taken out."""
    [record] = records_of(server, rid)
    record = dict(record)
    assert UUID4.fullmatch(record.pop("eventID"))
    moment = datetime.strptime(record.pop("eventTime"), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=2)
    return record


def expected(server: StsdServer, rid: str, name: str, *, read_only: bool, parameters: dict[str, Any] | None,
             who: dict[str, Any], source: str = IAM, user_agent: str = UA, error: tuple[str, str] | None = None,
             recipient: str | None = ACCOUNT_A) -> dict[str, Any]:
    """The whole record, in AWS's field order, less eventID and eventTime."""
    record: dict[str, Any] = {
        "eventVersion": "1.11", "userIdentity": who, "eventSource": source, "eventName": name,
        "awsRegion": "us-east-1", "sourceIPAddress": "127.0.0.1", "userAgent": user_agent,
    }
    if error is not None:
        record["errorCode"], record["errorMessage"] = error
    record.update({"requestParameters": parameters, "responseElements": None, "requestID": rid,
                   "readOnly": read_only, "eventType": "AwsApiCall", "managementEvent": True})
    if recipient is not None:
        record["recipientAccountId"] = recipient
    record.update({"eventCategory": "Management",
                   "tlsDetails": {"clientProvidedHostHeader": f"127.0.0.1:{server.port}"}})
    return record


def assert_recorded(server: StsdServer, response: httpx.Response, name: str, **fields: Any) -> dict[str, Any]:
    rid = response.headers["x-amzn-RequestId"]
    record = the_record(server, rid)
    want = expected(server, rid, name, **fields)
    assert record == want
    assert list(record) == list(want)  # AWS's field order
    return record


@pytest.fixture(scope="module")
def admin_a(server: StsdServer) -> dict[str, Any]:
    return identity(server, server.admins[ACCOUNT_A])


# --- /admin/ routes ------------------------------------------------------------------------------


def test_region_routes_recorded_once_each(server, admin_a):
    base = f"/admin/accounts/{ACCOUNT_A}/regions"
    response = admin(server, "GET", base)
    assert response.status_code == 200, response.text
    assert_recorded(server, response, "ListRegions", read_only=True, parameters={"accountId": ACCOUNT_A}, who=admin_a)

    for action in ("deactivate", "activate"):
        response = admin(server, "POST", f"{base}/eu-west-3/{action}")
        assert response.status_code == 200, response.text
        assert_recorded(server, response, f"{action.capitalize()}Region", read_only=False,
                        parameters={"accountId": ACCOUNT_A, "region": "eu-west-3"}, who=admin_a)

    response = admin(server, "POST", f"{base}/af-south-1/enable")
    assert (response.status_code, response.json()["optStatus"]) == (200, "ENABLING")
    assert_recorded(server, response, "EnableRegion", read_only=False,
                    parameters={"accountId": ACCOUNT_A, "region": "af-south-1"}, who=admin_a)

    # Failures the rules refuse carry the code and message the caller got.
    response = admin(server, "POST", f"{base}/af-south-1/disable")
    message = MSG_IN_TRANSITION.format(account=ACCOUNT_A, region="af-south-1")
    assert (response.status_code, response.json()) == (409, {"code": "Conflict", "message": message})
    assert_recorded(server, response, "DisableRegion", read_only=False,
                    parameters={"accountId": ACCOUNT_A, "region": "af-south-1"}, who=admin_a,
                    error=("Conflict", message))

    response = admin(server, "POST", f"{base}/us-east-1/deactivate")
    message = "STS is always active in us-east-1; it cannot be activated or deactivated."
    assert (response.status_code, response.json()) == (400, {"code": "InvalidOperation", "message": message})
    assert_recorded(server, response, "DeactivateRegion", read_only=False,
                    parameters={"accountId": ACCOUNT_A, "region": "us-east-1"}, who=admin_a,
                    error=("InvalidOperation", message))


def test_fault_routes_recorded_once_each(server, admin_a):
    response = admin(server, "PUT", "/admin/faults/eu-west-2", {"mode": "slow", "delayMs": 5})
    assert response.status_code == 200, response.text
    assert_recorded(server, response, "PutFault", read_only=False,
                    parameters={"region": "eu-west-2", "mode": "slow", "delayMs": 5}, who=admin_a)

    response = admin(server, "GET", "/admin/faults")
    assert response.json() == {"faults": [{"region": "eu-west-2", "mode": "slow", "delayMs": 5}]}
    assert_recorded(server, response, "ListFaults", read_only=True, parameters=None, who=admin_a)

    response = admin(server, "GET", "/admin/faults/eu-west-2/")
    assert response.status_code == 200, response.text
    assert_recorded(server, response, "GetFault", read_only=True, parameters={"region": "eu-west-2"}, who=admin_a)

    response = admin(server, "DELETE", "/admin/faults/eu-west-2")
    assert response.json() == {"removed": 1}
    assert_recorded(server, response, "DeleteFault", read_only=False, parameters={"region": "eu-west-2"},
                    who=admin_a)

    response = admin(server, "DELETE", "/admin/faults")
    assert response.json() == {"removed": 0}
    assert_recorded(server, response, "DeleteFault", read_only=False, parameters=None, who=admin_a)

    response = admin(server, "GET", "/admin/faults/eu-west-2")
    message = "No fault is simulated in eu-west-2."
    assert (response.status_code, response.json()) == (404, {"code": "NotFound", "message": message})
    assert_recorded(server, response, "GetFault", read_only=True, parameters={"region": "eu-west-2"}, who=admin_a,
                    error=("NotFound", message))

    # Validation failures: a body that is no JSON object, a mode that does not exist (recorded as sent).
    response = admin(server, "PUT", "/admin/faults/eu-west-2", raw=b"[1, 2]")
    message = "The request body must be a JSON object."
    assert (response.status_code, response.json()) == (400, {"code": "ValidationError", "message": message})
    assert_recorded(server, response, "PutFault", read_only=False, parameters={"region": "eu-west-2"}, who=admin_a,
                    error=("ValidationError", message))

    response = admin(server, "PUT", "/admin/faults/eu-west-2", {"mode": "moon", "unknown": "ignored"})
    message = "Unknown fault mode 'moon': expected one of down, slow, error5xx, throttle."
    assert (response.status_code, response.json()) == (400, {"code": "ValidationError", "message": message})
    assert_recorded(server, response, "PutFault", read_only=False, parameters={"region": "eu-west-2", "mode": "moon"},
                    who=admin_a, error=("ValidationError", message))


def test_quota_routes_recorded_once_each(server, admin_a):
    path = f"/admin/accounts/{ACCOUNT_A}/quotas"
    response = admin(server, "PUT", path, {"rate": 500, "burst": 600, "region": "eu-west-1"})
    assert response.status_code == 200, response.text
    assert_recorded(server, response, "PutQuota", read_only=False,
                    parameters={"accountId": ACCOUNT_A, "rate": 500, "burst": 600, "region": "eu-west-1"},
                    who=admin_a)

    response = admin(server, "GET", path)
    assert response.status_code == 200, response.text
    assert_recorded(server, response, "ListQuotas", read_only=True, parameters={"accountId": ACCOUNT_A},
                    who=admin_a)

    response = admin(server, "PUT", path, {"rate": -1})
    message = "rate must be a non-negative integer."
    assert (response.status_code, response.json()) == (400, {"code": "ValidationError", "message": message})
    assert_recorded(server, response, "PutQuota", read_only=False, parameters={"accountId": ACCOUNT_A, "rate": -1},
                    who=admin_a, error=("ValidationError", message))


def test_access_denied_recorded(server, admin_a):
    # Cross-account: no resource policy grants it.
    response = admin(server, "GET", f"/admin/accounts/{ACCOUNT_B}/regions")
    message = (f"User: arn:aws:iam::{ACCOUNT_A}:user/admin is not authorized to perform: stsd:ListRegions on "
               f"resource: account {ACCOUNT_B} because no resource-based policy allows the stsd:ListRegions action")
    assert (response.status_code, response.json()) == (403, {"code": "AccessDenied", "message": message})
    assert_recorded(server, response, "ListRegions", read_only=True, parameters={"accountId": ACCOUNT_B},
                    who=admin_a, error=("AccessDenied", message))

    # A user whose policies allow no stsd action.
    iam = client(server, "iam")
    name = unique("no-admin")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user = Credentials(ACCOUNT_A, key["AccessKeyId"], key["SecretAccessKey"], user_name=name)
    response = admin(server, "PUT", "/admin/faults/eu-west-1", {"mode": "down"}, creds=user)
    message = (f"User: arn:aws:iam::{ACCOUNT_A}:user/{name} is not authorized to perform: stsd:PutFault on "
               "resource: * because no identity-based policy allows the stsd:PutFault action")
    assert (response.status_code, response.json()) == (403, {"code": "AccessDenied", "message": message})
    assert_recorded(server, response, "PutFault", read_only=False,
                    parameters={"region": "eu-west-1", "mode": "down"}, who=identity(server, user),
                    error=("AccessDenied", message))
    assert admin(server, "GET", "/admin/faults").json() == {"faults": []}


def test_unauthenticated_calls_recorded_as_on_the_query_api(server):
    # Unsigned: nobody's account — kept in the store, delivered to no trail (as STS records it).
    response = admin(server, "GET", "/admin/faults", signed=False)
    message = "Missing Authentication Token"
    assert (response.status_code, response.json()) == (403, {"code": "MissingAuthenticationToken",
                                                             "message": message})
    assert_recorded(server, response, "ListFaults", read_only=True, parameters=None, who={"type": "Unknown"},
                    error=("MissingAuthenticationToken", message), recipient=None)

    # A wrong secret for a real key: the key's account owns the record.
    key_id = server.admins[ACCOUNT_A].access_key_id
    forged = Credentials(ACCOUNT_A, key_id, "x" * 40)
    response = admin(server, "POST", f"/admin/accounts/{ACCOUNT_A}/regions/eu-west-3/deactivate", creds=forged)
    assert (response.status_code, response.json()["code"]) == (403, "SignatureDoesNotMatch")
    assert_recorded(server, response, "DeactivateRegion", read_only=False,
                    parameters={"accountId": ACCOUNT_A, "region": "eu-west-3"},
                    who={"type": "Unknown", "accountId": ACCOUNT_A, "accessKeyId": key_id},
                    error=("SignatureDoesNotMatch", response.json()["message"]))


def test_requests_matching_no_route_are_not_recorded(server, admin_a):
    missing = admin(server, "GET", "/admin/nothing")
    assert missing.status_code == 404
    wrong_method = admin(server, "PATCH", "/admin/faults/eu-west-1")
    assert wrong_method.status_code == 405
    later = admin(server, "GET", "/admin/faults")
    assert_recorded(server, later, "ListFaults", read_only=True, parameters=None, who=admin_a)  # written after them
    ids = {record["requestID"] for record in store_records(server)}
    assert missing.headers["x-amzn-RequestId"] not in ids
    assert wrong_method.headers["x-amzn-RequestId"] not in ids


# --- the Account API ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def account(server):
    return client(server, "account", endpoint_url=server.endpoint_url)


def assert_account_recorded(server: StsdServer, response_or_error: Any, name: str, **fields: Any) -> None:
    rid = request_id(response_or_error)
    record = the_record(server, rid)
    assert record["userAgent"].startswith("Boto3/")
    want = expected(server, rid, name, source=ACCOUNT, user_agent=record["userAgent"], **fields)
    assert record == want
    assert list(record) == list(want)


def failure(call: Any, **params: Any) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value


def test_account_api_calls_recorded_as_aws_records_them(server, account, admin_a):
    listed = account.list_regions(MaxResults=5, RegionOptStatusContains=["ENABLED_BY_DEFAULT"])
    assert len(listed["Regions"]) == 5
    assert_account_recorded(server, listed, "ListRegions", read_only=True, who=admin_a,
                            parameters={"maxResults": 5, "regionOptStatusContains": ["ENABLED_BY_DEFAULT"]})

    got = account.get_region_opt_status(RegionName="ap-east-1")
    assert got["RegionOptStatus"] == "DISABLED"
    assert_account_recorded(server, got, "GetRegionOptStatus", read_only=True, who=admin_a,
                            parameters={"regionName": "ap-east-1"})

    enabled = account.enable_region(RegionName="ap-east-1")
    assert_account_recorded(server, enabled, "EnableRegion", read_only=False, who=admin_a,
                            parameters={"regionName": "ap-east-1"})

    error = failure(account.disable_region, RegionName="ap-east-1")
    message = MSG_IN_TRANSITION.format(account=ACCOUNT_A, region="ap-east-1")
    assert (error.response["Error"]["Code"], error.response["Error"]["Message"]) == ("ConflictException", message)
    assert_account_recorded(server, error, "DisableRegion", read_only=False, who=admin_a,
                            parameters={"regionName": "ap-east-1"}, error=("ConflictException", message))

    error = failure(account.get_region_opt_status, AccountId=ACCOUNT_B, RegionName="ap-east-1")
    message = (f"User: arn:aws:iam::{ACCOUNT_A}:user/admin is not authorized to perform: "
               "account:GetRegionOptStatus (Your organization must first enable trusted access with AWS Account "
               "Management.)")
    assert (error.response["Error"]["Code"], error.response["Error"]["Message"]) == ("AccessDeniedException",
                                                                                      message)
    assert_account_recorded(server, error, "GetRegionOptStatus", read_only=True, who=admin_a,
                            parameters={"accountId": ACCOUNT_B, "regionName": "ap-east-1"},
                            error=("AccessDeniedException", message))

    error = failure(account.get_region_opt_status, RegionName="moon-1")
    message = "Region moon-1 does not exist in the aws partition."
    assert (error.response["Error"]["Code"], error.response["Error"]["Message"]) == ("ValidationException", message)
    assert_account_recorded(server, error, "GetRegionOptStatus", read_only=True, who=admin_a,
                            parameters={"regionName": "moon-1"}, error=("ValidationException", message))

    # The Account API's records land in us-east-1's trail of the caller's account.
    rid = request_id(enabled)
    records_of(server, rid, files=True)
    [path] = [p for p, records in trail_files(server).items() if any(r["requestID"] == rid for r in records)]
    assert f"AWSLogs/{ACCOUNT_A}/CloudTrail/us-east-1/" in path.as_posix()


def test_account_api_unauthenticated_call_recorded(server):
    response = httpx.post(f"{server.endpoint_url}/listRegions", content=b"{}", headers={"User-Agent": UA})
    code = "MissingAuthenticationTokenException"
    assert (response.status_code, response.headers["x-amzn-ErrorType"]) == (403, code)
    assert_recorded(server, response, "ListRegions", source=ACCOUNT, read_only=True, parameters=None,
                    who={"type": "Unknown"}, error=(code, "Missing Authentication Token"), recipient=None)

    # Not a call of any operation (the model's operations are POSTs): not recorded.
    wrong = httpx.get(f"{server.endpoint_url}/listRegions", headers={"User-Agent": UA})
    assert wrong.status_code == 404
    later = httpx.post(f"{server.endpoint_url}/listRegions", content=b"{}", headers={"User-Agent": UA})
    records_of(server, later.headers["x-amzn-RequestId"])
    assert wrong.headers["x-amzn-RequestId"] not in {record["requestID"] for record in store_records(server)}


def test_no_secret_in_any_record(server, account):
    put = admin(server, "PUT", f"/admin/accounts/{ACCOUNT_A}/quotas", {"rate": 0})
    listed = account.list_regions()
    for rid in (put.headers["x-amzn-RequestId"], request_id(listed)):
        records_of(server, rid, files=True)
    text = json.dumps(store_records(server)) + json.dumps(file_records(server))
    for creds in server.admins.values():
        assert creds.secret_access_key not in text


# --- over HTTPS -------------------------------------------------------------------------------------


def test_tls_details_over_https(tls_server):
    """Like STS and IAM records: the negotiated version and cipher before the host."""
    context = ssl.create_default_context(cafile=str(tls_server.ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    creds = tls_server.admins[ACCOUNT_A]
    calls = (("stsd", "GET", "/admin/faults", ""), ("account", "POST", "/listRegions", "{}"))
    for service, method, path, body in calls:
        request = AWSRequest(method=method, url=f"{tls_server.endpoint_url}{path}", data=body,
                             headers={"Content-Type": "application/json"})
        SigV4Auth(BotoCredentials(creds.access_key_id, creds.secret_access_key), service,
                  "us-east-1").add_auth(request)
        connection = http.client.HTTPSConnection(tls_server.host, tls_server.port, context=context, timeout=30)
        try:
            connection.request(method, path, body=body, headers=dict(request.headers.items()))
            response = connection.getresponse()
            assert response.status == 200, response.read()
            response.read()
            assert isinstance(connection.sock, ssl.SSLSocket)
            cipher = connection.sock.cipher()
            assert cipher is not None
            rid = response.headers["x-amzn-RequestId"]
        finally:
            connection.close()
        [record] = records_of(tls_server, rid, files=True)
        assert record["eventSource"] == {"stsd": IAM, "account": ACCOUNT}[service]
        assert list(record["tlsDetails"].items()) == [
            ("tlsVersion", "TLSv1.3"), ("cipherSuite", cipher[0]),
            ("clientProvidedHostHeader", f"127.0.0.1:{tls_server.port}"),
        ]
