"""parse_request(): what counts as SigV4, and every malformed-request text, byte for byte."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsd.auth import sigv4
from stsd.errors import AwsError

from .sigv4_wire import AMZ_DATE, SIGNED_AT_UTC, auth_headers

GOOD = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abcdef0123"
)
PRESIGNED = [
    ("Action", "GetCallerIdentity"),
    ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
    ("X-Amz-Credential", "AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request"),
    ("X-Amz-Date", AMZ_DATE),
    ("X-Amz-Expires", "60"),
    ("X-Amz-SignedHeaders", "host;x-k8s-aws-id"),
    ("X-Amz-Signature", "abcdef0123"),
]
HOST = [(b"host", b"sts.amazonaws.com")]


def parse(headers, query=()):
    return sigv4.parse_request("POST", headers, list(query))


def error(headers, query=()) -> AwsError:
    with pytest.raises(AwsError) as caught:
        parse(headers, query)
    return caught.value


def assert_error(err: AwsError, code: str, status: int, message: str) -> None:
    assert (err.code, err.status, err.message) == (code, status, message)


def without(query, name):
    return [(k, v) for k, v in query if k != name]


def replaced(query, name, value):
    return [(k, value if k == name else v) for k, v in query]


# --- not SigV4 at all ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        HOST,
        [*HOST, (b"authorization", b"")],
        [*HOST, (b"authorization", b"Bearer eyJhbGciOi.x.y")],
        [*HOST, (b"authorization", b"AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=")],
    ],
    ids=["none", "empty", "bearer", "sigv2"],
)
def test_no_sigv4_is_none(headers):
    assert parse(headers) is None


def test_presigned_credential_params_without_algorithm_is_none():
    assert parse(HOST, without(PRESIGNED, "X-Amz-Algorithm")) is None


def test_presigned_with_other_algorithm_is_none():
    query = replaced(PRESIGNED, "X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256")
    assert parse(HOST, query) is None


# --- well-formed --------------------------------------------------------------------------


def test_header_fields():
    req = parse(auth_headers(GOOD, x_amz_security_token="TOKEN"))
    assert req == sigv4.SigV4Request(
        access_key_id="AKIDEXAMPLE",
        scope_date="20150830",
        region="us-east-1",
        service="sts",
        terminator="aws4_request",
        signed_headers=("host", "x-amz-date"),
        signature="abcdef0123",
        amz_date=AMZ_DATE,
        timestamp=SIGNED_AT_UTC,
        security_token="TOKEN",
        presigned=False,
        expires=None,
    )


def test_presigned_fields_first_occurrence_wins():
    query = [*PRESIGNED, ("X-Amz-Security-Token", "T1"), ("X-Amz-Security-Token", "T2")]
    query += [("X-Amz-Date", "20990101T000000Z"), ("X-Amz-Expires", "900")]
    req = parse([*HOST, (b"x-k8s-aws-id", b"c")], query)
    assert req == sigv4.SigV4Request(
        access_key_id="AKIDEXAMPLE",
        scope_date="20150830",
        region="us-east-1",
        service="sts",
        terminator="aws4_request",
        signed_headers=("host", "x-k8s-aws-id"),
        signature="abcdef0123",
        amz_date=AMZ_DATE,
        timestamp=SIGNED_AT_UTC,
        security_token="T1",
        presigned=True,
        expires=60,
    )


@pytest.mark.parametrize(("raw", "expected"), [("60", 60), ("0900", 900), ("abc", None), ("-1", None)])
def test_presigned_expires_is_recorded_not_enforced(raw, expected):
    assert parse(HOST, replaced(PRESIGNED, "X-Amz-Expires", raw)).expires == expected
    assert parse(HOST, without(PRESIGNED, "X-Amz-Expires")).expires is None


def test_header_parameters_in_any_order_separators_and_last_wins():
    header = (
        "AWS4-HMAC-SHA256   Signature=first,Signature=abcdef0123,SignedHeaders=HOST;X-Amz-Date"
        " ,  Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request/"
    )
    req = parse(auth_headers(header))
    assert req.signature == "abcdef0123"
    assert req.signed_headers == ("host", "x-amz-date")  # lower-case, as listed
    assert req.terminator == "aws4_request"  # trailing slashes are ignored


def test_security_token_from_query_for_header_auth():
    assert parse(auth_headers(GOOD), [("X-Amz-Security-Token", "Q")]).security_token == "Q"


def test_date_header_http_date_is_converted():
    headers = auth_headers(GOOD.replace("x-amz-date", "date"), amz_date=None)
    req = parse([*headers, (b"date", b"Sun, 30 Aug 2015 14:36:00 +0200")])
    assert (req.amz_date, req.timestamp) == (AMZ_DATE, SIGNED_AT_UTC)


def test_date_header_may_be_iso_basic():
    req = parse([*auth_headers(GOOD, amz_date=None), (b"date", AMZ_DATE.encode())])
    assert req.amz_date == AMZ_DATE


def test_x_amz_date_wins_over_date_and_empty_counts_as_absent():
    headers = [*auth_headers(GOOD), (b"date", b"Mon, 31 Aug 2015 00:00:00 GMT")]
    assert parse(headers).amz_date == AMZ_DATE
    headers = [*auth_headers(GOOD, amz_date=""), (b"date", b"Sun, 30 Aug 2015 12:36:00 GMT")]
    assert parse(headers).amz_date == AMZ_DATE


# --- header form: the AWS texts -----------------------------------------------------------


def test_found_both_header_and_query_auth():
    assert_error(
        error(auth_headers(GOOD), PRESIGNED),
        "SignatureDoesNotMatch",
        403,
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
    )


def test_missing_equal_sign_after_stray_space():
    # aws cloud9 / STS observations: "Credential= AKID/..." splits at the space.
    header = (
        "AWS4-HMAC-SHA256 Credential= AKIDEXAMPLE/20181128/us-east-1/sts/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abcd"
    )
    assert_error(
        error(auth_headers(header)),
        "IncompleteSignature",
        400,
        "'AKIDEXAMPLE/20181128/us-east-1/sts/aws4_request' not a valid key=value pair "
        "(missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential= "
        "AKIDEXAMPLE/20181128/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, "
        "Signature=abcd'.",
    )


def test_missing_equal_sign_space_inside_credential():
    header = "AWS4-HMAC-SHA256 Credential=not valid/20180109/us-east-1/sts/aws4_request, X"
    assert error(auth_headers(header)).message == (
        "'valid/20180109/us-east-1/sts/aws4_request' not a valid key=value pair (missing "
        f"equal-sign) in Authorization header: '{header}'."
    )


def test_missing_equal_sign_checked_before_missing_parameters():
    header = "AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders"
    assert error(auth_headers(header, amz_date=None)).message == (
        "'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: "
        "'AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders'."
    )


def test_everything_missing():
    assert_error(
        error(auth_headers("AWS4-HMAC-SHA256", amz_date=None)),
        "IncompleteSignature",
        400,
        "Authorization header requires 'Credential' parameter. "
        "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=AWS4-HMAC-SHA256",
    )


def test_signature_and_signed_headers_missing():
    # The shape SES returned in brendanhay/amazonka#316.
    assert error(auth_headers("AWS4-HMAC-SHA256 Credential=ABCDEF")).message == (
        "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization=AWS4-HMAC-SHA256 Credential=ABCDEF"
    )


def test_empty_credential_and_signature_count_as_missing():
    header = "AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature="
    assert error(auth_headers(header)).message == (
        "Authorization header requires 'Credential' parameter. "
        "Authorization header requires 'Signature' parameter. "
        f"Authorization={header}"
    )


def test_only_date_missing():
    assert error(auth_headers(GOOD, amz_date=None)).message == (
        f"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={GOOD}"
    )


@pytest.mark.parametrize(
    "value", ["2015/08/30T12/36/00Z", "20150830T123600", "20151330T123600Z", "2015-08-30T12:36:00Z"]
)
def test_bad_x_amz_date(value):
    assert_error(
        error(auth_headers(GOOD, amz_date=value)),
        "IncompleteSignature",
        400,
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. See http://en.wikipedia.org/wiki/ISO_8601",
    )


def test_bad_date_header():
    headers = [*auth_headers(GOOD, amz_date=None), (b"date", b"yesterday")]
    assert error(headers).message == (
        "Date must be in ISO-8601 'basic format'. Got 'yesterday'. See http://en.wikipedia.org/wiki/ISO_8601"
    )


@pytest.mark.parametrize("signed", ["x-amz-date", "", "hostname;x-amz-date"])
def test_host_must_be_signed(signed):
    header = GOOD.replace("SignedHeaders=host;x-amz-date", f"SignedHeaders={signed}")
    assert_error(
        error(auth_headers(header)),
        "SignatureDoesNotMatch",
        403,
        "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    )


@pytest.mark.parametrize("algorithm", ["AWS4-HMAC-SHA25", "AWS4-ECDSA-P256-SHA256", "AWS4-"])
def test_unsupported_algorithm(algorithm):
    assert_error(
        error(auth_headers(GOOD.replace("AWS4-HMAC-SHA256", algorithm))),
        "IncompleteSignature",
        400,
        f"Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). ",
    )


@pytest.mark.parametrize(
    "credential",
    [
        "a/b/c/d",
        "AKIDEXAMPLE",
        "AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request/extra",
        "UWMPPRonaGauEZx5/MngqKyK/20200619/us-west-2/tagging/aws4_request",
    ],
)
def test_credential_must_have_five_elements(credential):
    header = GOOD.replace("AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request", credential)
    assert_error(
        error(auth_headers(header)),
        "IncompleteSignature",
        400,
        "Credential must have exactly 5 slash-delimited elements, "
        f"e.g. keyid/date/region/service/term, got '{credential}'",
    )


# --- query (presigned) form ---------------------------------------------------------------


def test_presigned_all_missing():
    assert_error(
        error(HOST, [("X-Amz-Algorithm", "")]),
        "IncompleteSignature",
        400,
        "AWS query-string parameters must include 'X-Amz-Algorithm'. "
        "AWS query-string parameters must include 'X-Amz-Credential'. "
        "AWS query-string parameters must include 'X-Amz-Signature'. "
        "AWS query-string parameters must include 'X-Amz-SignedHeaders'. "
        "AWS query-string parameters must include 'X-Amz-Date'. "
        "Re-examine the query-string parameters.",
    )


@pytest.mark.parametrize("name", ["X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"])
def test_presigned_one_missing_or_empty(name):
    expected = f"AWS query-string parameters must include '{name}'. Re-examine the query-string parameters."
    assert error(HOST, without(PRESIGNED, name)).message == expected
    assert error(HOST, replaced(PRESIGNED, name, "")).message == expected


def test_presigned_bad_date():
    assert error(HOST, replaced(PRESIGNED, "X-Amz-Date", "Sun, 30 Aug 2015 12:36:00 GMT")).message == (
        "Date must be in ISO-8601 'basic format'. Got 'Sun, 30 Aug 2015 12:36:00 GMT'. "
        "See http://en.wikipedia.org/wiki/ISO_8601"
    )


def test_presigned_host_must_be_signed():
    err = error(HOST, replaced(PRESIGNED, "X-Amz-SignedHeaders", "x-k8s-aws-id"))
    assert_error(
        err,
        "SignatureDoesNotMatch",
        403,
        "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    )


def test_presigned_credential_must_have_five_elements():
    assert error(HOST, replaced(PRESIGNED, "X-Amz-Credential", "AKID/20150830/sts")).message == (
        "Credential must have exactly 5 slash-delimited elements, "
        "e.g. keyid/date/region/service/term, got 'AKID/20150830/sts'"
    )


_HEADER_CHARS = st.sampled_from([*"AWS4-=,; /\t\n\x0b\x0c\r\x1c\x1f\x85\xa0aZ0", "Credential=", ", "])


@given(st.sampled_from(["", " ", "\t "]), st.lists(_HEADER_CHARS, max_size=30).map("".join))
def test_auth_tokens_are_the_regex_split_without_empty_pieces(lead: str, tail: str) -> None:
    header = lead + "AWS4-HMAC-SHA256" + tail  # parse_request splits only headers starting so
    expected = [token for token in re.split(r"[,\s]+", header.strip()) if token]
    assert sigv4.auth_tokens(header) == expected
