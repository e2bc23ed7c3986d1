"""SigV4 canonicalization and signing primitives (server side).

Everything here rebuilds, from the request *as received*, the exact bytes the client hashed.
The reference implementation is botocore's signer (``botocore.auth.SigV4Auth``), which is
also what the AWS documentation describes; each function notes where AWS (or botocore)
does something a straightforward reading of the spec would not predict.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import quote_from_bytes, unquote_to_bytes

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
SIGNATURE_PARAM = "X-Amz-Signature"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
CONTENT_SHA256_HEADER = b"x-amz-content-sha256"

# One entry per (secret, day, region, service): a busy server sees few distinct keys a day.
SIGNING_KEY_CACHE_SIZE = 4096

# Already canonical: unreserved characters, and upper-case %XX escapes of bytes that are *not*
# unreserved (AWS decodes "%41" to "A", and re-encodes "%2f" as "%2F").
_UNRESERVED_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_CANONICAL_ESCAPES = frozenset(b"%%%02X" % b for b in range(256) if b not in _UNRESERVED_BYTES)
_CANONICAL = re.compile(rb"(?:[A-Za-z0-9_.~-]|%(?:[0189A-F][0-9A-F]|2[0-9A-CF]|3[A-F]|40|5[B-E]|60|7[B-DF]))*")
_ESCAPES = re.compile(rb"%.{0,2}", re.DOTALL)
_QUERY_PLAIN = bytes(sorted(_UNRESERVED_BYTES)) + b"=&"
_QUERY_SAFE = b"-_.~"  # RFC 3986 unreserved; quote_from_bytes keeps alphanumerics anyway
_PATH_SAFE = b"/~"


# --- canonical URI ------------------------------------------------------------------------


def canonical_uri(raw_path: bytes) -> str:
    """The canonical URI for a non-S3 service.

    AWS encodes the path *twice* for every service but S3: the path on the wire is already
    percent-encoded once, and the canonical form percent-encodes it again (``%20`` becomes
    ``%2520``). Dot segments are removed and runs of ``/`` collapse first, as botocore does.
    """
    if raw_path in (b"", b"/"):
        return "/"
    return quote_from_bytes(_remove_dot_segments(raw_path), safe=_PATH_SAFE)


def _remove_dot_segments(path: bytes) -> bytes:
    # RFC 3986 §5.2.4, plus the AWS rule that empty segments ("//") disappear.
    segments: list[bytes] = []
    for segment in path.split(b"/"):
        if segment == b"..":
            if segments:
                segments.pop()
        elif segment and segment != b".":
            segments.append(segment)
    lead = b"/" if path.startswith(b"/") else b""
    trail = b"/" if path.endswith(b"/") and segments else b""
    return lead + b"/".join(segments) + trail


# --- canonical query string ---------------------------------------------------------------


def canonical_query_string(raw_query: bytes, *, presigned: bool) -> str:
    """Sorted ``name=value`` pairs, each side decoded and re-encoded per RFC 3986.

    A presigned URL's own ``X-Amz-Signature`` is left out: it was appended after signing.
    Empty fields ("a=1&&b=2") carry no parameter and are skipped.
    """
    if not raw_query:
        return ""
    if _is_canonical_query(raw_query):  # what SDKs send: split, sort, done
        fields = [field.partition("=") for field in raw_query.decode("ascii").split("&") if field]
        # A second "=" belongs to the value, where its canonical form is "%3D".
        pairs = [(name, value.replace("=", "%3D")) for name, _, value in fields]
    else:
        raw_fields = [field.partition(b"=") for field in raw_query.split(b"&") if field]
        pairs = [(_canonical_component(n), _canonical_component(v)) for n, _, v in raw_fields]
    if presigned:
        pairs = [pair for pair in pairs if pair[0] != SIGNATURE_PARAM]
    pairs.sort()  # by encoded name, then encoded value (repeated names)
    return "&".join(map("=".join, pairs))


def _is_canonical_query(raw_query: bytes) -> bool:
    leftover = raw_query.translate(None, _QUERY_PLAIN)
    if not leftover:
        return True
    if leftover.strip(b"%"):
        return False
    return all(escape in _CANONICAL_ESCAPES for escape in _ESCAPES.findall(raw_query))


def _canonical_component(component: bytes) -> str:
    if _CANONICAL.fullmatch(component):
        return component.decode("ascii")  # nothing to redo
    # "+" means space: botocore itself sends spaces as "+" (urlencode) while signing them as
    # "%20", and the Query protocol's form decoding reads "+" as a space too.
    decoded = unquote_to_bytes(component.replace(b"+", b" "))
    return quote_from_bytes(decoded, safe=_QUERY_SAFE)


# --- canonical headers and payload --------------------------------------------------------


def collect_headers(headers: Iterable[tuple[bytes, bytes]], names: Iterable[str]) -> dict[bytes, list[str]]:
    """Values of the named headers, in arrival order, each trimmed and whitespace-collapsed.

    Header bytes are read as ISO-8859-1 characters and the canonical request is hashed as
    UTF-8 — what botocore (which builds header values as ``str``) and AWS both do.
    """
    wanted: dict[bytes, list[str]] = {name: [] for name in _encoded(tuple(names))}
    for raw_name, raw_value in headers:
        bucket = wanted.get(raw_name.lower())
        if bucket is not None:
            bucket.append(_trimall_cached(raw_value) if len(raw_value) <= _CACHED_VALUE_BYTES else _trimall(raw_value))
    return wanted


def _trimall(raw_value: bytes) -> str:
    """Strip the ends and turn every internal whitespace run into one space."""
    return " ".join(raw_value.decode("latin-1").split())


# Short signed values (Host, Content-Type, X-Amz-Date) repeat from request to request; long
# ones (session tokens) are trimmed each time and never kept.
_CACHED_VALUE_BYTES = 128
_trimall_cached = lru_cache(maxsize=1024)(_trimall)


def canonical_headers(signed_headers: Sequence[str], values: dict[bytes, list[str]]) -> str:
    """One ``name:value`` line per signed header; repeated headers join with ``,``."""
    out: list[str] = []  # appended piece by piece: a third cheaper than an f-string per line
    # strict=False: the encoded names derive from these, and the length check costs a tenth
    for name, key in zip(signed_headers, _encoded(tuple(signed_headers)), strict=False):
        out.append(name)
        out.append(":")
        out.append(",".join(values.get(key, ())))
        out.append("\n")
    return "".join(out)


@lru_cache(maxsize=1024)  # a few distinct SignedHeaders lists; bounded against hostile ones
def _encoded(names: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(name.encode("latin-1", "replace") for name in names)


def payload_hash(values: dict[bytes, list[str]], body: bytes) -> str | None:
    """The payload hash to sign with, or ``None`` when the request must not verify.

    A declared ``x-amz-content-sha256`` is honoured only when it is true: a hash that does
    not match the body, or ``UNSIGNED-PAYLOAD`` with a non-empty body, would leave the body —
    which carries the Action and its parameters — outside the signature.
    """
    declared_values = values.get(CONTENT_SHA256_HEADER)
    actual = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
    if not declared_values:
        return actual
    declared = declared_values[0]
    if declared == UNSIGNED_PAYLOAD:
        return declared if not body else None
    return declared if declared.lower() == actual else None


def build_canonical_request(
    *,
    method: str,
    raw_path: bytes,
    raw_query: bytes,
    presigned: bool,
    signed_headers: Sequence[str],
    header_values: dict[bytes, list[str]],
    payload: str,
) -> str:
    return "\n".join(
        (
            method,
            canonical_uri(raw_path),
            canonical_query_string(raw_query, presigned=presigned),
            canonical_headers(signed_headers, header_values),
            ";".join(signed_headers),
            payload,
        )
    )


# --- string to sign and signature ---------------------------------------------------------


def string_to_sign(amz_date: str, credential_scope: str, canonical_request: str) -> str:
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{credential_scope}\n{digest}"


@lru_cache(maxsize=SIGNING_KEY_CACHE_SIZE)
def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC chain over date, region, service and the terminator (cached)."""
    key = _hmac(f"AWS4{secret_access_key}".encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, TERMINATOR)


def signature(key: bytes, to_sign: str) -> str:
    mac = _keyed_mac(key).copy()  # the key schedule is done once per signing key, not per request
    mac.update(to_sign.encode("utf-8"))
    return mac.finalize().hex()


@lru_cache(maxsize=SIGNING_KEY_CACHE_SIZE)
def _keyed_mac(key: bytes) -> crypto_hmac.HMAC:
    return crypto_hmac.HMAC(key, hashes.SHA256())


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.digest(key, message.encode("utf-8"), "sha256")
