"""Sign with botocore, then present the request to stsd.auth.sigv4 the way uvicorn would.

botocore is the independent implementation: nothing here computes a signature itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import boto3
from botocore.auth import SigV4Auth, SigV4QueryAuth, _host_from_url
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stsd.auth import sigv4
from stsd.errors import AwsError

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_AKID = "ASIAEXAMPLEEXAMPLE01"
SESSION_SECRET = "session/secret+key=EXAMPLEEXAMPLEEXAMPLE"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE+/TOKEN=="
SECRETS = {AKID: SECRET, SESSION_AKID: SESSION_SECRET}

# botocore's clock is naive UTC; every signature in the suite is made at this instant.
SIGNED_AT = dt.datetime(2015, 8, 30, 12, 36, 0)
SIGNED_AT_UTC = SIGNED_AT.replace(tzinfo=dt.UTC)
AMZ_DATE = "20150830T123600Z"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
GCI_BODY = b"Action=GetCallerIdentity&Version=2011-06-15"

CREDS = Credentials(AKID, SECRET)
SESSION_CREDS = Credentials(SESSION_AKID, SESSION_SECRET, TOKEN)


@dataclass(frozen=True)
class Wire:
    """A request as the ASGI server delivers it."""

    method: str
    raw_path: bytes
    raw_query: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    @property
    def query(self) -> list[tuple[str, str]]:
        # What the protocol layer hands to parse_request (stsd.protocol.query.parse_pairs).
        return parse_qsl(self.raw_query.decode("latin-1"), keep_blank_values=True)

    def parse(self) -> sigv4.SigV4Request | None:
        return sigv4.parse_request(self.method, list(self.headers), self.query)

    def verify(self, secret: str = SECRET, req: sigv4.SigV4Request | None = None) -> bool:
        req = req or self.parse()
        assert req is not None
        return sigv4.verify(
            req,
            secret,
            method=self.method,
            raw_path=self.raw_path,
            raw_query=self.raw_query,
            headers=list(self.headers),
            body=self.body,
        )

    def header(self, name: bytes) -> bytes:
        return next(value for key, value in self.headers if key == name)

    def with_header(self, name: bytes, value: bytes) -> Wire:
        """Replace the (first) header called ``name``."""
        headers = list(self.headers)
        index = next(i for i, (key, _) in enumerate(headers) if key == name)
        headers[index] = (name, value)
        return replace(self, headers=tuple(headers))

    def add_headers(self, *extra: tuple[bytes, bytes]) -> Wire:
        return replace(self, headers=(*self.headers, *extra))


def accepts(wire: Wire, secrets: Mapping[str, str] = SECRETS) -> bool:
    """The whole server-side decision: parse, find the secret for the key id, verify."""
    try:
        req = wire.parse()
    except AwsError:
        return False
    if req is None or req.access_key_id not in secrets:
        return False
    return wire.verify(secrets[req.access_key_id], req)


@contextmanager
def frozen_clock(at: dt.datetime = SIGNED_AT) -> Iterator[None]:
    with mock.patch("botocore.auth.get_current_datetime", return_value=at):
        yield


def to_wire(request: AWSRequest, *, strip_values: bool = True) -> Wire:
    """The signed request as it arrives: lower-case names, ISO-8859-1 values, a Host header.

    uvicorn (h11/httptools) strips leading and trailing whitespace from header values;
    ``strip_values=False`` keeps them, for callers that forward headers verbatim.
    """
    url = request.prepare().url
    parts = urlsplit(url)
    headers = [_wire_header(name, value, strip_values) for name, value in request.headers.items()]
    if not any(name == b"host" for name, _ in headers):
        headers.insert(0, (b"host", _host_from_url(url).encode()))
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    return Wire(request.method, (parts.path or "/").encode(), parts.query.encode(), tuple(headers), body)


def _wire_header(name: str, value: str | bytes, strip: bool) -> tuple[bytes, bytes]:
    raw = value if isinstance(value, bytes) else value.encode("latin-1")
    return name.lower().encode(), raw.strip(b" \t") if strip else raw


def sign(
    request: AWSRequest,
    *,
    creds: Credentials = CREDS,
    region: str = "us-east-1",
    service: str = "sts",
    at: dt.datetime = SIGNED_AT,
    strip_values: bool = True,
) -> Wire:
    with frozen_clock(at):
        SigV4Auth(creds, service, region).add_auth(request)
    return to_wire(request, strip_values=strip_values)


def presign(
    request: AWSRequest,
    *,
    creds: Credentials = CREDS,
    region: str = "us-east-1",
    expires: int = 60,
    at: dt.datetime = SIGNED_AT,
) -> Wire:
    with frozen_clock(at):
        SigV4QueryAuth(creds, "sts", region, expires=expires).add_auth(request)
    return to_wire(request)


def form_post(url: str = "https://sts.amazonaws.com/", body: bytes = GCI_BODY, **headers: str):
    return AWSRequest("POST", url, data=body, headers={"Content-Type": FORM, **headers})


def sts_client(region: str = "us-east-1", *, endpoint: str | None = None, session: bool = False):
    creds = SESSION_CREDS if session else CREDS
    return boto3.Session(
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        aws_session_token=creds.token,
    ).client(
        "sts",
        region_name=region,
        endpoint_url=endpoint or f"https://sts.{region}.amazonaws.com",
    )


class _Captured(Exception):
    def __init__(self, request) -> None:
        super().__init__("captured")
        self.request = request


def capture(client, operation: str, **params) -> Wire:
    """Run a real boto3 call and take the request it would have sent (no network)."""

    def stop(request, **_kwargs):
        raise _Captured(request)

    client.meta.events.register("before-send", stop)
    try:
        with frozen_clock():
            getattr(client, operation)(**params)
    except _Captured as captured:
        prepared = captured.request
    else:  # pragma: no cover - the handler always raises
        raise AssertionError("request was not captured")
    parts = urlsplit(prepared.url)
    headers = [_wire_header(k, v, True) for k, v in prepared.headers.items()]
    headers.insert(0, (b"host", _host_from_url(prepared.url).encode()))
    body = prepared.body or b""
    body = body.encode() if isinstance(body, str) else body
    path = parts.path.encode() or b"/"
    return Wire(prepared.method, path, parts.query.encode(), tuple(headers), body)


def presigned_url_wire(url: str, method: str = "GET", **headers: str) -> Wire:
    """A presigned URL replayed by a consumer (aws-iam-authenticator, Vault)."""
    parts = urlsplit(url)
    wire_headers = [(b"host", parts.netloc.encode())]
    wire_headers += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return Wire(method, parts.path.encode() or b"/", parts.query.encode(), tuple(wire_headers), b"")


def auth_headers(authorization: str, *, amz_date: str | None = AMZ_DATE, **extra: str):
    """Hand-built headers for parse-error cases."""
    headers = [(b"host", b"sts.amazonaws.com"), (b"authorization", authorization.encode())]
    if amz_date is not None:
        headers.append((b"x-amz-date", amz_date.encode()))
    headers += [(name.replace("_", "-").encode(), value.encode()) for name, value in extra.items()]
    return headers
