"""verify(): botocore signs, stsd checks — real clients, consumers that replay, tampering."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace

import pytest
from botocore.awsrequest import AWSRequest

from stsd.auth import sigv4
from stsd.auth import sigv4_canonical as canon

from .sigv4_wire import (
    AKID,
    AMZ_DATE,
    FORM,
    GCI_BODY,
    SECRET,
    SESSION_AKID,
    SESSION_CREDS,
    SESSION_SECRET,
    SIGNED_AT_UTC,
    TOKEN,
    accepts,
    capture,
    form_post,
    frozen_clock,
    presign,
    presigned_url_wire,
    sign,
    sts_client,
)

# --- what real clients send ---------------------------------------------------------------


def test_header_signed_form_post():
    wire = sign(form_post())
    req = wire.parse()
    assert req == sigv4.SigV4Request(
        access_key_id=AKID,
        scope_date="20150830",
        region="us-east-1",
        service="sts",
        terminator="aws4_request",
        signed_headers=("content-type", "host", "x-amz-date"),
        signature=req.signature,
        amz_date=AMZ_DATE,
        timestamp=SIGNED_AT_UTC,
        security_token=None,
        presigned=False,
        expires=None,
    )
    assert req.credential_scope == "20150830/us-east-1/sts/aws4_request"
    assert wire.verify() is True


def test_boto3_client_request_verifies():
    # The full boto3 pipeline; user-agent and the amz-sdk-* headers (added after signing,
    # they change on every retry) travel unsigned.
    wire = capture(sts_client("eu-west-1"), "get_caller_identity")
    req = wire.parse()
    assert (req.region, req.service, req.presigned) == ("eu-west-1", "sts", False)
    assert req.signed_headers == ("content-type", "host", "x-amz-date")
    assert {b"user-agent", b"amz-sdk-invocation-id"} <= {name for name, _ in wire.headers}
    assert wire.body == GCI_BODY
    assert wire.verify() is True


def test_boto3_assume_role_with_session_token():
    client = sts_client("ap-southeast-2", session=True)
    wire = capture(
        client,
        "assume_role",
        RoleArn="arn:aws:iam::123456789012:role/r",
        RoleSessionName="session-1",
    )
    req = wire.parse()
    assert req.access_key_id == SESSION_AKID
    assert req.security_token == TOKEN
    assert "x-amz-security-token" in req.signed_headers
    assert wire.verify(SESSION_SECRET) is True


def test_get_with_query_parameters():
    request = AWSRequest(
        "GET",
        "https://sts.amazonaws.com/",
        params={"Action": "GetCallerIdentity", "Version": "2011-06-15", "a b": "c+d ~%/é"},
    )
    wire = sign(request)
    # botocore puts spaces on the wire as "+" but signs them as %20.
    assert wire.raw_query == b"Action=GetCallerIdentity&Version=2011-06-15&a+b=c%2Bd+~%25%2F%C3%A9"
    assert wire.verify() is True


def test_presigned_get_like_aws_iam_authenticator():
    # `aws eks get-token`: X-Amz-Expires=60, signed x-k8s-aws-id, temporary credentials.
    client = sts_client("eu-west-1", session=True)
    client.meta.events.register(
        "before-sign.sts.GetCallerIdentity",
        lambda request, **_: request.headers.__setitem__("x-k8s-aws-id", "my-cluster"),
    )
    with frozen_clock():
        url = client.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET")
    token = "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    replayed = base64.urlsafe_b64decode(token.removeprefix("k8s-aws-v1.") + "==").decode()
    wire = presigned_url_wire(replayed, **{"x-k8s-aws-id": "my-cluster", "accept": "application/json"})
    req = wire.parse()
    assert req.presigned is True
    assert req.expires == 60
    assert req.signed_headers == ("host", "x-k8s-aws-id")
    assert req.security_token == TOKEN
    assert (req.access_key_id, req.region, req.amz_date) == (SESSION_AKID, "eu-west-1", AMZ_DATE)
    assert wire.verify(SESSION_SECRET) is True
    assert wire.with_header(b"x-k8s-aws-id", b"other-cluster").verify(SESSION_SECRET) is False


def test_presigned_url_without_http_method_is_signed_for_post():
    # boto3 presigns with the operation's own method (POST for the Query protocol) unless
    # told otherwise: the method is part of what is signed.
    client = sts_client()
    with frozen_clock():
        url = client.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=900)
    assert presigned_url_wire(url, "POST").verify() is True
    assert presigned_url_wire(url, "GET").verify() is False


def test_presigned_with_signer_directly():
    wire = presign(
        AWSRequest("GET", "https://sts.amazonaws.com/", params={"Action": "GetCallerIdentity"}),
        creds=SESSION_CREDS,
        expires=900,
    )
    assert wire.parse().expires == 900
    assert wire.verify(SESSION_SECRET) is True


def test_vault_style_replay():
    # The Vault client signs POST GetCallerIdentity with X-Vault-AWS-IAM-Server-ID and sends
    # the signed headers to Vault, which replays them from Go's HTTP client: header names
    # re-cased, extra unsigned transport headers, the original Host and body.
    signed = sign(form_post(**{"X-Vault-AWS-IAM-Server-ID": "vault.example.com"}))
    forwarded = {name: value for name, value in signed.headers}
    replay = replace(
        signed,
        headers=(
            (b"host", b"sts.amazonaws.com"),
            (b"user-agent", b"Go-http-client/1.1"),
            (b"content-length", str(len(GCI_BODY)).encode()),
            (b"authorization", forwarded[b"authorization"]),
            (b"content-type", forwarded[b"content-type"]),
            (b"x-amz-date", forwarded[b"x-amz-date"]),
            (b"x-vault-aws-iam-server-id", b"vault.example.com"),
            (b"accept-encoding", b"gzip"),
        ),
    )
    assert "x-vault-aws-iam-server-id" in replay.parse().signed_headers
    assert replay.verify() is True
    assert replay.with_header(b"x-vault-aws-iam-server-id", b"evil.example.com").verify() is False


def test_mongodb_nonce_headers():
    nonce = base64.b64encode(bytes(range(32))).decode()
    wire = sign(form_post(**{"X-MongoDB-Server-Nonce": nonce, "X-MongoDB-GS2-CB-Flag": "n"}))
    assert {"x-mongodb-server-nonce", "x-mongodb-gs2-cb-flag"} <= set(wire.parse().signed_headers)
    assert wire.verify() is True


def test_host_with_port():
    wire = sign(form_post("http://localhost:4566/"))
    assert wire.header(b"host") == b"localhost:4566"
    assert wire.verify() is True
    assert wire.with_header(b"host", b"localhost:4567").verify() is False


def test_date_header_instead_of_x_amz_date():
    wire = sign(form_post(Date="placeholder"))  # botocore rewrites it as an HTTP-date
    assert wire.header(b"date") == b"Sun, 30 Aug 2015 12:36:00 -0000"
    assert all(name != b"x-amz-date" for name, _ in wire.headers)
    req = wire.parse()
    assert (req.amz_date, req.timestamp) == (AMZ_DATE, SIGNED_AT_UTC)
    assert "date" in req.signed_headers
    assert wire.verify() is True


def test_repeated_headers_join_with_commas():
    request = form_post()
    request.headers["X-Repeated"] = "first"
    request.headers["X-Repeated"] = "  second   value "
    wire = sign(request)
    assert [value for name, value in wire.headers if name == b"x-repeated"] == [
        b"first",
        b"second   value",
    ]
    assert wire.verify() is True
    swapped = [(n, b"second   value" if v == b"first" else v) for n, v in wire.headers]
    assert replace(wire, headers=tuple(swapped)).verify() is False


def test_header_whitespace_is_trimmed_and_collapsed():
    wire = sign(form_post(**{"X-Spaces": "  a   b \t c  "}), strip_values=False)
    assert wire.header(b"x-spaces") == b"  a   b \t c  "  # forwarded verbatim
    assert wire.verify() is True
    assert wire.with_header(b"x-spaces", b"a b c").verify() is True  # as uvicorn delivers it
    assert wire.with_header(b"x-spaces", b"a bc").verify() is False


def test_latin1_header_value():
    wire = sign(form_post(**{"X-Name": "Müller"}))
    assert wire.header(b"x-name") == "Müller".encode("latin-1")
    assert wire.verify() is True


def test_path_is_normalized_and_double_encoded():
    wire = sign(AWSRequest("GET", "https://sts.amazonaws.com/a%20b//c/./d/../e/"))
    assert canon.canonical_uri(wire.raw_path) == "/a%2520b/c/e/"
    assert wire.verify() is True


# --- payload hash -------------------------------------------------------------------------


def test_declared_payload_hash_that_matches_the_body():
    digest = hashlib.sha256(GCI_BODY).hexdigest()
    wire = sign(form_post(**{"X-Amz-Content-SHA256": digest}))
    assert wire.verify() is True


def test_declared_payload_hash_that_does_not_match_never_verifies():
    # botocore signs whatever hash it is given; the body it sent is not what was signed.
    wire = sign(form_post(**{"X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()}))
    assert wire.verify() is False


def test_unsigned_payload_refused_with_a_body_accepted_without():
    with_body = form_post()
    with_body.context["payload_signing_enabled"] = False
    wire = sign(with_body)
    assert wire.header(b"x-amz-content-sha256") == b"UNSIGNED-PAYLOAD"
    assert wire.verify() is False  # the body (Action, parameters) would be unsigned

    empty = AWSRequest("GET", "https://sts.amazonaws.com/", params={"Action": "GetCallerIdentity"})
    empty.context["payload_signing_enabled"] = False
    wire = sign(empty)
    assert wire.header(b"x-amz-content-sha256") == b"UNSIGNED-PAYLOAD"
    assert wire.verify() is True


# --- tampering ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_post():
    return sign(
        AWSRequest(
            "POST",
            "https://sts.amazonaws.com/path",
            params={"q": "1"},
            data=GCI_BODY,
            headers={"Content-Type": FORM, "X-Custom": "value"},
        )
    )


def test_untampered_baseline(signed_post):
    assert signed_post.verify() is True


@pytest.mark.parametrize(
    "change",
    [
        {"body": GCI_BODY + b"&RoleArn=x"},
        {"body": GCI_BODY.replace(b"Get", b"get")},
        {"raw_query": b"q=2"},
        {"raw_query": b"q=1&extra=1"},
        {"raw_path": b"/path2"},
        {"raw_path": b"/Path"},
        {"method": "PUT"},
    ],
    ids=["body-appended", "body-byte", "query-value", "query-added", "path", "path-case", "method"],
)
def test_tampered_request_fails(signed_post, change):
    assert replace(signed_post, **change).verify() is False


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"x-custom", b"valuE"),
        (b"content-type", b"application/json"),
        (b"host", b"sts.us-east-1.amazonaws.com"),
        (b"x-amz-date", b"20150830T123601Z"),
    ],
)
def test_tampered_signed_header_fails(signed_post, name, value):
    assert signed_post.with_header(name, value).verify() is False


def test_unsigned_header_may_change(signed_post):
    assert signed_post.add_headers((b"user-agent", b"curl/8"), (b"x-extra", b"1")).verify() is True


def test_dropped_signed_header_fails(signed_post):
    headers = tuple((n, v) for n, v in signed_post.headers if n != b"x-custom")
    assert replace(signed_post, headers=headers).verify() is False


def test_wrong_secret_fails(signed_post):
    assert signed_post.verify(SECRET[:-1] + "X") is False
    assert signed_post.verify(SESSION_SECRET) is False


def test_tampered_signature_fails(signed_post):
    req = signed_post.parse()
    for bad in (req.signature[:-1] + ("0" if req.signature[-1] != "0" else "1"), "", "é" * 64):
        assert signed_post.verify(req=replace(req, signature=bad)) is False


def test_key_id_lookup_models_the_server(signed_post):
    assert accepts(signed_post) is True
    assert accepts(signed_post, {"AKIDOTHER": SECRET}) is False


# --- signing-key cache --------------------------------------------------------------------


def test_signing_key_derived_once_per_scope(signed_post):
    canon.signing_key.cache_clear()
    for _ in range(3):
        assert signed_post.verify() is True
    info = canon.signing_key.cache_info()
    assert (info.misses, info.hits, info.maxsize) == (1, 2, canon.SIGNING_KEY_CACHE_SIZE)


def test_signing_key_matches_aws_documented_example():
    # The AWS General Reference's "derive a signing key" example (iam, us-east-1, 20120215).
    key = canon.signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
