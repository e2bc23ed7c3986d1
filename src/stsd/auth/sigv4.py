"""Server-side AWS Signature Version 4 verification: ``Authorization`` header and presigned URL.

The four steps are independent; AWS ("Coral" services, STS among them) reports problems in
this order::

    req = parse_request(method, headers, query)   # None: no SigV4 at all (unsigned)
    check_time(req, now)                          # ±15 minutes, presigned URLs included
    check_scope(req, region=..., service="sts")   # region, service, terminator, scope date
    ... look up the secret for req.access_key_id, validate req.security_token ...
    if not verify(req, secret, ...): raise SignatureDoesNotMatch(MSG_SIGNATURE_MISMATCH)

Error texts are AWS's, byte for byte, where a capture exists:

* live STS: the short region sentence and the ``'sts'`` service sentence (vault,
  spring-vault, terraform-provider-aws issues, 2022-2024); the clock-skew sentences
  (aws/aws-cli#6676); the ``key=value`` sentence, HTTP 400, with the header split on commas
  *and* spaces (Apache Hadoop's S3A assumed-role troubleshooting page; the reference notes);
* a live Coral service (DynamoDB) as captured in mhart/dynalite: the ``requires``,
  ``query-string``, date-format, ``Host``, algorithm, five-element and ``Found both``
  texts, and that every scope problem goes into one SignatureDoesNotMatch listing region,
  service, terminator and date, in that order; SES returned the same ``requires`` form
  (brendanhay/amazonka#316).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache

from stsd.auth import sigv4_canonical as canon
from stsd.errors import MSG_SCOPE_REGION, IncompleteSignature, SignatureDoesNotMatch

AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
ALLOWED_SKEW = timedelta(minutes=15)

# --- AWS message texts (the region text lives in stsd.errors) -----------------------------
MSG_FOUND_BOTH = "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
MSG_NOT_KEY_VALUE = "'{token}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
MSG_HEADER_REQUIRES = "Authorization header requires '{name}' parameter."
MSG_HEADER_REQUIRES_DATE = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
MSG_QUERY_REQUIRES = "AWS query-string parameters must include '{name}'. "
MSG_QUERY_REEXAMINE = "Re-examine the query-string parameters."
MSG_BAD_DATE = "Date must be in ISO-8601 'basic format'. Got '{value}'. See http://en.wikipedia.org/wiki/ISO_8601"
MSG_HOST_NOT_SIGNED = "'Host' must be a 'SignedHeader' in the AWS Authorization."
MSG_UNSUPPORTED_ALGORITHM = "Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). "
MSG_CREDENTIAL_PARTS = (
    "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
)
MSG_SCOPE_SERVICE = "Credential should be scoped to correct service: '{service}'. "
MSG_SCOPE_TERMINATOR = "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
MSG_SCOPE_DATE = (
    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
    "HTTP: '{scope_date}' != '{request_date}', from '{amz_date}'."
)
MSG_SIGNATURE_EXPIRED = "Signature expired: {ts} is now earlier than {edge} ({now} - 15 min.)"
MSG_NOT_YET_CURRENT = "Signature not yet current: {ts} is still later than {edge} ({now} + 15 min.)"

_QUERY_AUTH_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "X-Amz-Date",
)
_ISO_BASIC = re.compile(r"\d{8}T\d{6}Z")
_DIGITS = re.compile(r"\d+")
_CONTENT_SHA256 = canon.CONTENT_SHA256_HEADER.decode()
# Request headers as ASGI gives them (lower-case names), or the pipeline's map of them
# (first occurrence of each name).
Headers = Sequence[tuple[bytes, bytes]] | Mapping[bytes, bytes]


@dataclass(slots=True)  # per request, never shared: frozen would only slow its construction
class SigV4Request:
    access_key_id: str
    scope_date: str  # YYYYMMDD from the credential scope
    region: str
    service: str
    terminator: str  # "aws4_request"
    signed_headers: tuple[str, ...]  # lower-case, as listed
    signature: str  # hex
    amz_date: str  # YYYYMMDDTHHMMSSZ (X-Amz-Date, or the Date header converted)
    timestamp: datetime  # amz_date parsed, UTC
    security_token: str | None  # X-Amz-Security-Token (header or query)
    presigned: bool
    expires: int | None  # X-Amz-Expires for presigned (STS ignores it)

    @property
    def credential_scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/{self.terminator}"


# --- parsing ------------------------------------------------------------------------------


def parse_request(
    method: str, headers: Headers, query: Sequence[tuple[str, str]]
) -> SigV4Request | None:
    """Extract the SigV4 elements of a request, raising AWS's errors for malformed ones.

    ``None`` means the request carries no SigV4: no ``Authorization`` header and no
    ``X-Amz-Algorithm`` parameter, an ``Authorization`` header that does not start with
    ``AWS4-`` (e.g. ``Bearer``), or a presigned algorithm other than AWS4-HMAC-SHA256 — AWS
    answers all of those as unauthenticated (MissingAuthenticationToken).
    ``method`` plays no part in parsing; it is signed, so :func:`verify` takes it.
    """
    authorization = _first_header(headers, b"authorization")
    params = _first_values(query)
    if authorization and "X-Amz-Algorithm" in params:
        raise SignatureDoesNotMatch(MSG_FOUND_BOTH)
    if authorization:
        if not authorization.lstrip().startswith("AWS4-"):
            return None
        return _parse_authorization(authorization, headers, params)
    if "X-Amz-Algorithm" in params:
        algorithm = params["X-Amz-Algorithm"]
        if algorithm and algorithm != canon.ALGORITHM:
            return None
        return _parse_presigned(headers, params)
    return None


def _parse_authorization(
    authorization: str, headers: Headers, params: dict[str, str]
) -> SigV4Request:
    # AWS's order: key=value syntax, required parts, date format, (its clock check — here
    # check_time), Host signed, algorithm, credential shape.
    algorithm, *tokens = auth_tokens(authorization)
    fields = _auth_fields(tokens, authorization)
    date_value, from_date_header = _require_header_parts(fields, headers, authorization)
    amz_date, timestamp = _parse_date(date_value, http_date_allowed=from_date_header)
    signed_headers = _signed_headers(fields["SignedHeaders"])
    if algorithm != canon.ALGORITHM:
        raise IncompleteSignature(MSG_UNSUPPORTED_ALGORITHM.format(algorithm=algorithm))
    key_id, scope_date, region, service, terminator = _credential_parts(fields["Credential"])
    token = _first_header(headers, b"x-amz-security-token") or params.get("X-Amz-Security-Token")
    return SigV4Request(
        access_key_id=key_id,
        scope_date=scope_date,
        region=region,
        service=service,
        terminator=terminator,
        signed_headers=signed_headers,
        signature=fields["Signature"],
        amz_date=amz_date,
        timestamp=timestamp,
        security_token=token or None,
        presigned=False,
        expires=None,
    )


def auth_tokens(authorization: str) -> list[str]:
    """The header split on commas and whitespace (AWS's reading), empty pieces dropped.

    The same pieces as ``re.split(r"[,\\s]+", ...)`` minus its empty ones (which
    ``_auth_fields`` skips), ten times faster: ``str.split()`` and ``\\s`` know the same
    whitespace.
    """
    return authorization.replace(",", " ").split()


def _auth_fields(tokens: list[str], authorization: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for token in tokens:
        if not token:
            continue
        name, equals, value = token.partition("=")
        if not equals:
            raise IncompleteSignature(MSG_NOT_KEY_VALUE.format(token=token, header=authorization))
        fields[name] = value  # a repeated name: the last one wins, as on AWS
    return fields


def _require_header_parts(
    fields: dict[str, str], headers: Headers, header: str
) -> tuple[str, bool]:
    """All four parts are reported at once; returns (date value, came from Date header).

    Empty Credential / Signature count as missing; an empty SignedHeaders does not (it then
    fails the Host rule instead).
    """
    date_value, from_date_header = _request_date(headers)
    if date_value is not None and fields.get("Credential") and fields.get("Signature") and "SignedHeaders" in fields:
        return date_value, from_date_header  # everything there (the usual case)
    missing = [MSG_HEADER_REQUIRES.format(name=name) for name in ("Credential", "Signature") if not fields.get(name)]
    if "SignedHeaders" not in fields:
        missing.append(MSG_HEADER_REQUIRES.format(name="SignedHeaders"))
    if date_value is None:
        missing.append(MSG_HEADER_REQUIRES_DATE)
    if missing or date_value is None:
        raise IncompleteSignature(f"{' '.join(missing)} Authorization={header}")
    return date_value, from_date_header


def _parse_presigned(headers: Headers, params: dict[str, str]) -> SigV4Request:
    missing = [MSG_QUERY_REQUIRES.format(name=name) for name in _QUERY_AUTH_PARAMS if not params.get(name)]
    if missing:
        raise IncompleteSignature("".join(missing) + MSG_QUERY_REEXAMINE)
    amz_date, timestamp = _parse_date(params["X-Amz-Date"], http_date_allowed=False)
    signed_headers = _signed_headers(params["X-Amz-SignedHeaders"])
    key_id, scope_date, region, service, terminator = _credential_parts(params["X-Amz-Credential"])
    token = params.get("X-Amz-Security-Token") or _first_header(headers, b"x-amz-security-token")
    return SigV4Request(
        access_key_id=key_id,
        scope_date=scope_date,
        region=region,
        service=service,
        terminator=terminator,
        signed_headers=signed_headers,
        signature=params["X-Amz-Signature"],
        amz_date=amz_date,
        timestamp=timestamp,
        security_token=token or None,
        presigned=True,
        expires=_expires(params.get("X-Amz-Expires")),
    )


# Clients send a handful of distinct SignedHeaders lists, credential scopes and (within a
# second) dates; parsing each once keeps string work off the per-request path. Bounded, so
# hostile variety only evicts.
@lru_cache(maxsize=1024)
def _signed_headers(value: str) -> tuple[str, ...]:
    names = tuple(name.lower() for name in value.split(";"))
    if "host" not in names:
        raise SignatureDoesNotMatch(MSG_HOST_NOT_SIGNED)
    return names


@lru_cache(maxsize=4096)
def _credential_parts(credential: str) -> tuple[str, ...]:
    parts = tuple(credential.rstrip("/").split("/"))  # AWS ignores trailing slashes
    if len(parts) != 5:
        raise IncompleteSignature(MSG_CREDENTIAL_PARTS.format(credential=credential))
    return parts


def _expires(value: str | None) -> int | None:
    # Recorded for callers that want it; STS itself ignores X-Amz-Expires entirely.
    return int(value) if value is not None and _DIGITS.fullmatch(value) else None


# --- dates --------------------------------------------------------------------------------


def _request_date(headers: Headers) -> tuple[str | None, bool]:
    """(value, came_from_Date_header): X-Amz-Date wins; an empty one counts as absent."""
    amz_date = _first_header(headers, b"x-amz-date")
    if amz_date:
        return amz_date, False
    date = _first_header(headers, b"date")
    return (date, True) if date else (None, False)


def _parse_date(value: str, *, http_date_allowed: bool) -> tuple[str, datetime]:
    """(YYYYMMDDTHHMMSSZ, UTC datetime) for an X-Amz-Date or Date value."""
    parsed = _parse_iso_basic(value)
    if parsed is not None:
        return value, parsed
    if http_date_allowed:
        # A Date header is normally an HTTP-date; botocore sends email.utils.formatdate()
        # there and signs the same instant in ISO basic form.
        parsed = _parse_http_date(value)
        if parsed is not None:
            return _fmt(parsed), parsed
    raise IncompleteSignature(MSG_BAD_DATE.format(value=value))


@lru_cache(maxsize=1024)
def _parse_iso_basic(value: str) -> datetime | None:
    if not _ISO_BASIC.fullmatch(value):
        return None
    try:
        return datetime(int(value[0:4]), int(value[4:6]), int(value[6:8]),
                        int(value[9:11]), int(value[11:13]), int(value[13:15]), tzinfo=UTC)
    except ValueError:
        return None  # e.g. month 13


def _parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000" (botocore's formatdate): UTC, per RFC 5322
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --- scope and clock checks ---------------------------------------------------------------


def check_scope(req: SigV4Request, *, region: str, service: str) -> None:
    """AWS reports every credential-scope problem in one SignatureDoesNotMatch message,
    region first, then service, terminator and the scope date (compared with the request
    date). STS's region sentence is the short one, without ``not '<region>'`` (2022+)."""
    problems = []
    if req.region != region:
        problems.append(MSG_SCOPE_REGION)
    if req.service != service:
        problems.append(MSG_SCOPE_SERVICE.format(service=service))
    if req.terminator != canon.TERMINATOR:
        problems.append(MSG_SCOPE_TERMINATOR.format(terminator=req.terminator))
    if req.scope_date != req.amz_date[:8]:
        problems.append(
            MSG_SCOPE_DATE.format(scope_date=req.scope_date, request_date=req.amz_date[:8], amz_date=req.amz_date)
        )
    if problems:
        raise SignatureDoesNotMatch("".join(problems))


def check_time(req: SigV4Request, now: datetime) -> None:
    """Reject a timestamp more than 15 minutes from ``now`` (both directions, inclusive edges).

    Presigned URLs get the same rule: STS ignores X-Amz-Expires, so a URL is good for 15
    minutes after X-Amz-Date whatever it asks for (kubernetes-sigs/aws-iam-authenticator#160,
    aws/aws-sdk-go#2167) and an old one fails with the same "Signature expired" text.
    """
    now = _utc_seconds(now)
    if req.timestamp < now - ALLOWED_SKEW:
        raise SignatureDoesNotMatch(
            MSG_SIGNATURE_EXPIRED.format(ts=req.amz_date, edge=_fmt(now - ALLOWED_SKEW), now=_fmt(now))
        )
    if req.timestamp > now + ALLOWED_SKEW:
        raise SignatureDoesNotMatch(
            MSG_NOT_YET_CURRENT.format(ts=req.amz_date, edge=_fmt(now + ALLOWED_SKEW), now=_fmt(now))
        )


def _utc_seconds(now: datetime) -> datetime:
    # Whole seconds, so the edge printed in the message is the edge actually applied.
    if now.tzinfo is UTC and not now.microsecond:
        return now  # what the pipeline passes
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return now.replace(microsecond=0)


def _fmt(moment: datetime) -> str:
    return moment.strftime(AMZ_DATE_FORMAT)


# --- signature ----------------------------------------------------------------------------


def verify(
    req: SigV4Request,
    secret_access_key: str,
    *,
    method: str,
    raw_path: bytes,
    raw_query: bytes,
    headers: Sequence[tuple[bytes, bytes]],
    body: bytes,
) -> bool:
    """Recompute the signature from the request as received; constant-time comparison."""
    header_values = canon.collect_headers(headers, (*req.signed_headers, _CONTENT_SHA256))
    payload = canon.payload_hash(header_values, body)
    if payload is None:
        return False
    canonical_request = canon.build_canonical_request(
        method=method,
        raw_path=raw_path,
        raw_query=raw_query,
        presigned=req.presigned,
        signed_headers=req.signed_headers,
        header_values=header_values,
        payload=payload,
    )
    key = canon.signing_key(secret_access_key, req.scope_date, req.region, req.service)
    to_sign = canon.string_to_sign(req.amz_date, req.credential_scope, canonical_request)
    expected = canon.signature(key, to_sign)
    return hmac.compare_digest(expected.encode(), req.signature.encode("utf-8"))


# --- small helpers ------------------------------------------------------------------------


def _first_header(headers: Headers, name: bytes) -> str | None:
    if isinstance(headers, dict):  # the pipeline's map: lower-case names, first occurrence kept
        value = headers.get(name)
        return None if value is None else value.decode("latin-1")
    for raw_name, raw_value in headers:
        if raw_name.lower() == name:
            return raw_value.decode("latin-1")
    return None


def _first_values(query: Sequence[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in query:
        values.setdefault(name, value)  # repeated parameters: the first one wins, as on AWS
    return values
