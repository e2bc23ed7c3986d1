"""Query-protocol behaviour on the wire, byte for byte (aws-sts-behaviour.md §6)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from stsd.testing import Credentials, start_server
from tests.conftest import ACCOUNT_A

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def signed_post(url: str, body: str, creds: Credentials, *, region: str = "us-east-1",
                service: str = "sts", headers: dict[str, str] | None = None) -> httpx.Response:
    request = AWSRequest(
        method="POST",
        url=url,
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", **(headers or {})},
    )
    SigV4Auth(BotoCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token),
              service, region).add_auth(request)
    return httpx.post(url, content=request.body, headers=dict(request.headers.items()))


@pytest.fixture(scope="module")
def admin(server: Any) -> Credentials:
    return server.admins[ACCOUNT_A]


def test_get_caller_identity_xml_is_byte_exact(server: Any, admin: Credentials) -> None:
    response = signed_post(server.endpoint_url + "/", "Action=GetCallerIdentity&Version=2011-06-15", admin)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml"
    request_id = response.headers["x-amzn-requestid"]
    assert re.fullmatch(UUID, request_id)
    user = server.client("iam", admin).get_user()["User"]
    assert response.text == (
        f'<GetCallerIdentityResponse xmlns="{STS_NS}">\n'
        "  <GetCallerIdentityResult>\n"
        f"    <Arn>arn:aws:iam::{ACCOUNT_A}:user/admin</Arn>\n"
        f"    <UserId>{user['UserId']}</UserId>\n"
        f"    <Account>{ACCOUNT_A}</Account>\n"
        "  </GetCallerIdentityResult>\n"
        "  <ResponseMetadata>\n"
        f"    <RequestId>{request_id}</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</GetCallerIdentityResponse>\n"
    )


def test_json_rendering_on_accept_header(server: Any, admin: Credentials) -> None:
    response = signed_post(server.endpoint_url + "/", "Action=GetCallerIdentity&Version=2011-06-15", admin,
                           headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    result = body["GetCallerIdentityResponse"]["GetCallerIdentityResult"]
    assert result["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/admin"
    assert result["Account"] == ACCOUNT_A
    assert body["GetCallerIdentityResponse"]["ResponseMetadata"]["RequestId"] == response.headers[
        "x-amzn-requestid"]


def test_json_expiration_is_java_e_notation(server: Any, admin: Credentials) -> None:
    response = signed_post(server.endpoint_url + "/", "Action=GetSessionToken&Version=2011-06-15", admin,
                           headers={"Accept": "application/json"})
    assert response.status_code == 200
    match = re.search(r'"Expiration":([0-9.E]+)\}', response.text)
    assert match is not None, response.text
    assert re.fullmatch(r"1\.\d+E9", match.group(1))


def test_unknown_action_uses_awsfault_namespace(server: Any, admin: Credentials) -> None:
    response = signed_post(server.endpoint_url + "/", "Action=NoSuchAction&Version=2011-06-15", admin)
    assert response.status_code == 400
    request_id = response.headers["x-amzn-requestid"]
    assert response.text == (
        '<ErrorResponse xmlns="http://webservices.amazon.com/AWSFault/2005-15-09">\n'
        "  <Error>\n"
        "    <Type>Sender</Type>\n"
        "    <Code>InvalidAction</Code>\n"
        "    <Message>Could not find operation NoSuchAction for version 2011-06-15</Message>\n"
        "  </Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n"
        "</ErrorResponse>\n"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Action=GetCallerIdentity", "Could not find operation GetCallerIdentity for version NO_VERSION_SPECIFIED"),
        ("Action=&Version=2011-06-15", "Could not find operation  for version 2011-06-15"),
        ("Action=GetCallerIdentity&Version=2010-05-08", "Could not find operation GetCallerIdentity for version "
                                                        "2010-05-08"),
    ],
)
def test_invalid_action_messages(server: Any, admin: Credentials, body: str, message: str) -> None:
    response = signed_post(server.endpoint_url + "/", body, admin)
    assert response.status_code == 400
    assert f"<Code>InvalidAction</Code>\n    <Message>{message}</Message>" in response.text


def test_first_occurrence_wins_and_unknown_parameters_are_ignored(server: Any, admin: Credentials) -> None:
    body = ("Action=GetCallerIdentity&Version=2011-06-15&Action=NoSuchAction&Version=1999-01-01"
            "&Bogus=1&AnotherUnknown=x")
    response = signed_post(server.endpoint_url + "/", body, admin)
    assert response.status_code == 200
    assert "<GetCallerIdentityResult>" in response.text


def test_get_with_query_string_works(server: Any, admin: Credentials) -> None:
    url = server.endpoint_url + "/?Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(BotoCredentials(admin.access_key_id, admin.secret_access_key), "sts", "us-east-1").add_auth(request)
    response = httpx.get(url, headers=dict(request.headers.items()))
    assert response.status_code == 200
    assert f"<Account>{ACCOUNT_A}</Account>" in response.text


def test_other_paths_are_unknown_operations(server: Any) -> None:
    response = httpx.post(server.endpoint_url + "/foo", content=b"Action=GetCallerIdentity",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 404
    assert response.content == b"<UnknownOperationException/>\n"
    head = httpx.head(server.endpoint_url + "/foo")
    assert head.status_code == 404
    assert head.headers["content-length"] == "29"
    assert head.content == b""


def test_post_without_content_type_redirects(server: Any) -> None:
    response = httpx.post(server.endpoint_url + "/", content=b"Action=GetCallerIdentity&Version=2011-06-15",
                          headers={"Content-Type": ""})
    assert response.status_code == 302
    assert response.headers["location"] == "https://aws.amazon.com/iam"


def test_missing_action_redirects(server: Any) -> None:
    response = httpx.get(server.endpoint_url + "/?Version=2011-06-15")
    assert response.status_code == 302
    assert response.headers["location"] == "https://aws.amazon.com/iam?Version=2011-06-15"


def test_cors_preflight(server: Any) -> None:
    response = httpx.options(server.endpoint_url + "/", headers={"Origin": "https://example.com",
                                                                  "Access-Control-Request-Method": "POST"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "POST"
    assert response.headers["access-control-expose-headers"] == (
        "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date,smithy-protocol")
    assert response.headers["access-control-max-age"] == "172800"
    assert response.content == b""


def test_unknown_method_is_400_empty(server: Any) -> None:
    response = httpx.request("PROPFIND", server.endpoint_url + "/")
    assert response.status_code == 400
    assert response.content == b""


def test_body_limit_is_ten_million_bytes(server: Any, admin: Credentials) -> None:
    filler = "&Pad=" + "x" * (10_000_000 - len("Action=GetCallerIdentity&Version=2011-06-15&Pad="))
    exact = "Action=GetCallerIdentity&Version=2011-06-15" + filler
    assert len(exact) == 10_000_000
    assert signed_post(server.endpoint_url + "/", exact, admin).status_code == 200
    over = httpx.post(server.endpoint_url + "/", content=(exact + "x").encode(),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert over.status_code == 413
    assert over.content == b""


def test_unsigned_request_is_missing_authentication_token(server: Any) -> None:
    response = httpx.post(server.endpoint_url + "/", content=b"Action=GetCallerIdentity&Version=2011-06-15",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in response.text
    assert "<Message>Request is missing Authentication Token</Message>" in response.text


@pytest.mark.parametrize(
    ("value", "status", "code", "message"),
    [
        ("abc", 400, "MalformedInput", None),
        ("900.0", 400, "MalformedInput", None),
        ("99999999999", 400, "MalformedInput", None),
        ("", 400, "MalformedInput", "missing value for decimal type"),
        ("100", 400, "ValidationError", "1 validation error detected: Value '100' at 'durationSeconds' failed to "
                                        "satisfy constraint: Member must have value greater than or equal to 900"),
    ],
)
def test_integer_parsing(server: Any, admin: Credentials, value: str, status: int, code: str,
                         message: str | None) -> None:
    response = signed_post(server.endpoint_url + "/",
                           f"Action=GetSessionToken&Version=2011-06-15&DurationSeconds={value}", admin)
    assert response.status_code == status
    assert f"<Code>{code}</Code>" in response.text
    if message is None:
        assert "<Message>" not in response.text
    else:
        assert f"<Message>{message}</Message>" in response.text


@pytest.mark.parametrize("value", ["%2B900", "0900"])
def test_integer_forms_aws_accepts(server: Any, admin: Credentials, value: str) -> None:
    response = signed_post(server.endpoint_url + "/",
                           f"Action=GetSessionToken&Version=2011-06-15&DurationSeconds={value}", admin)
    assert response.status_code == 200


def test_iam_responses_use_iam_namespace(server: Any, admin: Credentials) -> None:
    response = signed_post(server.endpoint_url + "/", "Action=GetUser&Version=2010-05-08&UserName=nobody-here",
                           admin, service="iam")
    assert response.status_code == 404
    assert response.text.startswith('<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">')
    assert "<Code>NoSuchEntity</Code>" in response.text
    assert "<Message>The user with name nobody-here cannot be found.</Message>" in response.text


def test_x_forwarded_for_is_not_trusted_by_default(server: Any, make_user: Any) -> None:
    # aws:SourceIp is the connection's address unless the operator turned on
    # --trust-forwarded-for: a client must not pick its own address with a header.
    policy = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetAccessKeyInfo",'
              '"Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"%s"}}}]}')
    body = f"Action=GetAccessKeyInfo&Version=2011-06-15&AccessKeyId={admin_key(server)}"
    spoof = {"X-Forwarded-For": "203.0.113.7"}
    outside = make_user(policy=policy % "203.0.113.0/24")
    denied = signed_post(server.endpoint_url + "/", body, outside, headers=spoof)
    assert denied.status_code == 403
    assert "<Code>AccessDenied</Code>" in denied.text
    loopback = make_user(policy=policy % "127.0.0.0/8")  # the control: the real address decides
    assert signed_post(server.endpoint_url + "/", body, loopback, headers=spoof).status_code == 200


def admin_key(server: Any) -> str:
    return server.admins[ACCOUNT_A].access_key_id


def test_x_forwarded_for_is_the_source_behind_a_trusted_proxy() -> None:
    proxied = start_server((ACCOUNT_A,), extra_args=("--trust-forwarded-for",))
    try:
        iam = proxied.client("iam")
        iam.create_user(UserName="behind-proxy")
        iam.put_user_policy(UserName="behind-proxy", PolicyName="p", PolicyDocument=(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetAccessKeyInfo",'
            '"Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}'))
        key = iam.create_access_key(UserName="behind-proxy")["AccessKey"]
        creds = Credentials(ACCOUNT_A, key["AccessKeyId"], key["SecretAccessKey"])
        body = f"Action=GetAccessKeyInfo&Version=2011-06-15&AccessKeyId={admin_key(proxied)}"
        spoof = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1"}  # the first address is the client's
        reply = signed_post(proxied.endpoint_url + "/", body, creds, headers=spoof)
        assert reply.status_code == 200, reply.text
        direct = signed_post(proxied.endpoint_url + "/", body, creds)
        assert direct.status_code == 403 and "<Code>AccessDenied</Code>" in direct.text
    finally:
        proxied.cleanup()


def test_requests_are_counted_on_metrics(server: Any, admin: Credentials) -> None:
    def count(code: str) -> float:
        wanted = {"service": "sts", "action": "GetCallerIdentity", "endpoint_type": "regional",
                  "serving_region": "us-east-1", "code": code}
        for row in httpx.get(server.endpoint_url + "/metrics", timeout=10).text.splitlines():
            match = re.fullmatch(r"stsd_requests_total\{(.*)\} (\S+)", row)
            if match and dict(re.findall(r'(\w+)="([^"]*)"', match.group(1))) == wanted:
                return float(match.group(2))
        return 0.0

    ok_before, denied_before = count("OK"), count("SignatureDoesNotMatch")
    for _ in range(3):
        assert signed_post(server.endpoint_url + "/", "Action=GetCallerIdentity&Version=2011-06-15",
                           admin).status_code == 200
    wrong = Credentials(admin.account_id, admin.access_key_id, "x" * 40)
    assert signed_post(server.endpoint_url + "/", "Action=GetCallerIdentity&Version=2011-06-15",
                       wrong).status_code == 403
    assert count("OK") == ok_before + 3
    assert count("SignatureDoesNotMatch") == denied_before + 1
