"""Authentication as STS does it: SigV4 headers and presigned URLs, scope checks, clock
skew, session tokens — and the replays Vault and aws-iam-authenticator perform."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import botocore.auth
import httpx
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from stsd.testing import Credentials
from tests.conftest import ACCOUNT_A, session_credentials, trust

GCI = "Action=GetCallerIdentity&Version=2011-06-15"
MSG_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


@contextmanager
def signing_clock(moment: dt.datetime) -> Iterator[None]:
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=moment):
        yield


def boto_creds(c: Credentials) -> BotoCredentials:
    return BotoCredentials(c.access_key_id, c.secret_access_key, c.session_token)


def sign_post(url: str, creds: Credentials, *, region: str = "us-east-1", service: str = "sts",
              body: str = GCI, headers: dict[str, str] | None = None) -> AWSRequest:
    request = AWSRequest(method="POST", url=url, data=body.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                                  **(headers or {})})
    SigV4Auth(boto_creds(creds), service, region).add_auth(request)
    return request


def send(request: AWSRequest, **extra_headers: str) -> httpx.Response:
    headers = dict(request.headers.items())
    headers.update(extra_headers)
    return httpx.request(request.method, request.url, content=request.body, headers=headers)


def error_of(response: httpx.Response) -> tuple[int, str, str | None]:
    code = re.search(r"<Code>(.*?)</Code>", response.text)
    message = re.search(r"<Message>(.*?)</Message>", response.text, re.S)
    return response.status_code, code.group(1) if code else "", message.group(1) if message else None


@pytest.fixture(scope="module")
def admin(server: Any) -> Credentials:
    return server.admins[ACCOUNT_A]


@pytest.fixture(scope="module")
def role_session(server: Any, make_role: Any, admin: Credentials) -> Credentials:
    arn = make_role(trust({"AWS": f"arn:aws:iam::{ACCOUNT_A}:user/admin"}))
    response = server.client("sts", admin).assume_role(RoleArn=arn, RoleSessionName="auth-tests")
    return session_credentials(response, ACCOUNT_A)


def test_wrong_secret_is_signature_mismatch(server: Any, admin: Credentials) -> None:
    bad = Credentials(admin.account_id, admin.access_key_id, "x" * 40)
    assert error_of(send(sign_post(server.endpoint_url + "/", bad))) == (403, "SignatureDoesNotMatch", MSG_MISMATCH)


def test_tampered_body_is_signature_mismatch(server: Any, admin: Credentials) -> None:
    request = sign_post(server.endpoint_url + "/", admin)
    response = httpx.post(request.url, content=GCI.encode() + b"&Extra=1", headers=dict(request.headers.items()))
    assert error_of(response) == (403, "SignatureDoesNotMatch", MSG_MISMATCH)


def test_unknown_access_key(server: Any) -> None:
    unknown = Credentials(ACCOUNT_A, "AKIARZPUZDIKAAAAAAAA", "y" * 40)
    assert error_of(send(sign_post(server.endpoint_url + "/", unknown))) == (
        403, "InvalidClientTokenId", "The security token included in the request is invalid.")


@pytest.mark.parametrize(
    ("region", "service", "message"),
    [
        ("eu-west-1", "sts", "Credential should be scoped to a valid region. "),
        ("us-east-1", "s3", "Credential should be scoped to correct service: 'sts'. "),
        ("eu-west-1", "s3", "Credential should be scoped to a valid region. "
                            "Credential should be scoped to correct service: 'sts'. "),
    ],
)
def test_scope_errors_have_aws_texts(server: Any, admin: Credentials, region: str, service: str,
                                     message: str) -> None:
    # The us-east-1 Regional endpoint only accepts us-east-1 in the scope.
    url = server.endpoint_url + "/us-east-1/"
    response = send(sign_post(url, admin, region=region, service=service))
    assert error_of(response) == (403, "SignatureDoesNotMatch", message)


def test_scope_error_precedes_token_validity(server: Any, role_session: Credentials) -> None:
    broken = Credentials(ACCOUNT_A, role_session.access_key_id, role_session.secret_access_key, "AAAA" * 40)
    response = send(sign_post(server.endpoint_url + "/us-east-1/", broken, region="eu-west-1"))
    assert error_of(response) == (403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region. ")


def test_session_key_without_token(server: Any, role_session: Credentials) -> None:
    naked = Credentials(ACCOUNT_A, role_session.access_key_id, role_session.secret_access_key)
    assert error_of(send(sign_post(server.endpoint_url + "/", naked))) == (
        403, "InvalidClientTokenId", "The security token included in the request is invalid.")


def test_valid_token_with_bad_signature(server: Any, role_session: Credentials) -> None:
    forged = Credentials(ACCOUNT_A, role_session.access_key_id, "z" * 40, role_session.session_token)
    assert error_of(send(sign_post(server.endpoint_url + "/", forged))) == (403, "SignatureDoesNotMatch",
                                                                            MSG_MISMATCH)


def test_tampered_token(server: Any, role_session: Credentials) -> None:
    raw = bytearray(base64.b64decode(role_session.session_token or ""))
    raw[-1] ^= 0x01
    tampered = Credentials(ACCOUNT_A, role_session.access_key_id, role_session.secret_access_key,
                           base64.b64encode(bytes(raw)).decode())
    assert error_of(send(sign_post(server.endpoint_url + "/", tampered))) == (
        403, "InvalidClientTokenId", "The security token included in the request is invalid.")


def test_signature_expired_message(server: Any, admin: Credentials) -> None:
    then = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)
    with signing_clock(then):
        request = sign_post(server.endpoint_url + "/", admin)
    status, code, message = error_of(send(request))
    assert (status, code) == (403, "SignatureDoesNotMatch")
    stamp = then.strftime("%Y%m%dT%H%M%SZ")
    assert re.fullmatch(
        rf"Signature expired: {stamp} is now earlier than (\d{{8}}T\d{{6}}Z) \((\d{{8}}T\d{{6}}Z) - 15 min\.\)",
        message or "",
    ), message


def test_signature_not_yet_current_message(server: Any, admin: Credentials) -> None:
    then = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20)
    with signing_clock(then):
        request = sign_post(server.endpoint_url + "/", admin)
    status, code, message = error_of(send(request))
    assert (status, code) == (403, "SignatureDoesNotMatch")
    stamp = then.strftime("%Y%m%dT%H%M%SZ")
    assert re.fullmatch(
        rf"Signature not yet current: {stamp} is still later than \d{{8}}T\d{{6}}Z \(\d{{8}}T\d{{6}}Z \+ 15 min\.\)",
        message or "",
    ), message


def test_small_skew_is_accepted(server: Any, admin: Credentials) -> None:
    with signing_clock(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=14)):
        request = sign_post(server.endpoint_url + "/", admin)
    assert send(request).status_code == 200


# --- consumers that replay a client-signed GetCallerIdentity -----------------------------


def test_vault_style_replay_with_extra_signed_header(server: Any, role_session: Credentials) -> None:
    """Vault's AWS auth: the client signs POST GetCallerIdentity including the header
    X-Vault-AWS-IAM-Server-ID; Vault forwards method, URL, headers and body verbatim."""
    request = sign_post(server.endpoint_url + "/", role_session,
                        headers={"X-Vault-AWS-IAM-Server-ID": "vault.example.com"})
    assert "x-vault-aws-iam-server-id" in request.headers["Authorization"]
    forwarded = {
        "method": request.method,
        "url": request.url,
        "body": base64.b64encode(request.body).decode(),
        "headers": {k: [v] for k, v in request.headers.items()},
    }
    # ... and on the Vault server, a plain HTTP client replays it:
    response = httpx.request(
        forwarded["method"],
        forwarded["url"],
        content=base64.b64decode(forwarded["body"]),
        headers={k: v[0] for k, v in forwarded["headers"].items()},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml"
    assert re.search(r"<Arn>arn:aws:sts::123456789012:assumed-role/role-[0-9a-f]+/auth-tests</Arn>", response.text)
    # Tampering with the signed server-id header breaks the signature.
    headers = {k: v[0] for k, v in forwarded["headers"].items()}
    headers["X-Vault-AWS-IAM-Server-ID"] = "evil.example.com"
    replay = httpx.request("POST", forwarded["url"], content=base64.b64decode(forwarded["body"]), headers=headers)
    assert error_of(replay) == (403, "SignatureDoesNotMatch", MSG_MISMATCH)


def presigned_k8s_url(endpoint: str, creds: Credentials, cluster: str, region: str = "us-east-1") -> str:
    request = AWSRequest(method="GET", url=f"{endpoint}/?{GCI}", headers={"x-k8s-aws-id": cluster})
    SigV4QueryAuth(boto_creds(creds), "sts", region, expires=60).add_auth(request)
    return request.url


def test_aws_iam_authenticator_style_presigned_replay(server: Any, role_session: Credentials) -> None:
    url = presigned_k8s_url(server.endpoint_url, role_session, "my-cluster")
    assert "X-Amz-Expires=60" in url and "x-k8s-aws-id" in url
    token = "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    decoded = base64.urlsafe_b64decode(token[len("k8s-aws-v1."):] + "==").decode()
    response = httpx.get(decoded, headers={"x-k8s-aws-id": "my-cluster", "Accept": "application/json"})
    assert response.status_code == 200
    result = response.json()["GetCallerIdentityResponse"]["GetCallerIdentityResult"]
    assert result["Account"] == ACCOUNT_A
    assert result["UserId"].endswith(":auth-tests")
    # Replayed for another cluster id: the signed header differs.
    other = httpx.get(decoded, headers={"x-k8s-aws-id": "other-cluster"})
    assert error_of(other) == (403, "SignatureDoesNotMatch", MSG_MISMATCH)


def test_presigned_url_lives_fifteen_minutes_regardless_of_expires(server: Any, admin: Credentials) -> None:
    with signing_clock(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)):
        url = presigned_k8s_url(server.endpoint_url, admin, "c1")
    # X-Amz-Expires=60 has long passed, but STS honours 15 minutes from X-Amz-Date.
    assert httpx.get(url, headers={"x-k8s-aws-id": "c1"}).status_code == 200
    with signing_clock(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)):
        stale = presigned_k8s_url(server.endpoint_url, admin, "c1")
    status, code, _ = error_of(httpx.get(stale, headers={"x-k8s-aws-id": "c1"}))
    assert (status, code) == (403, "SignatureDoesNotMatch")


def test_regional_path_endpoint_requires_its_region(server: Any, admin: Credentials) -> None:
    ok = server.client("sts", admin, region="eu-west-1", endpoint_url=server.endpoint_url + "/eu-west-1/")
    assert ok.get_caller_identity()["Account"] == ACCOUNT_A
    global_ok = server.client("sts", admin, region="us-east-1", endpoint_url=server.endpoint_url + "/global/")
    assert global_ok.get_caller_identity()["Account"] == ACCOUNT_A
    wrong = send(sign_post(server.endpoint_url + "/global/", admin, region="eu-west-1"))
    assert error_of(wrong) == (403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region. ")


def test_iam_behind_endpoint_url_accepts_the_clients_region(server: Any, admin: Credentials) -> None:
    iam = server.client("iam", admin, region="eu-west-1")
    assert iam.get_user()["User"]["UserName"] == "admin"
    response = send(sign_post(server.endpoint_url + "/", admin, region="eu-west-1", service="iam",
                              body="Action=GetUser&Version=2010-05-08", headers={"Host": "iam.amazonaws.com"}))
    assert error_of(response) == (403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region. ")
