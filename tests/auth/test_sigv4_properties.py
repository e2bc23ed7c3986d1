"""Properties: whatever botocore signs verifies; no single-byte change to a signed part does.

A mutation that leaves the canonical form unchanged (e.g. "%2f" for "%2F", a tab for a space
inside a header value, "/./" in a path) is the same request to AWS, so those are filtered out
with ``assume`` — everything else must be rejected.
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import quote

from botocore.awsrequest import AWSRequest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from stsd.auth import sigv4_canonical as canon

from .sigv4_wire import SESSION_CREDS, Wire, accepts, presign, sign

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies ---------------------------------------------------------------------------

_ANY_CHAR = st.characters(exclude_categories=("Cs",))  # anything UTF-8 can carry
_AWKWARD = st.sampled_from([*" +~%&=?#/;:@!$'()*,[]é€😀\x00\t", "%2F", "%zz", "+%20"])
text = st.lists(st.one_of(_ANY_CHAR, _AWKWARD), max_size=8).map("".join)

param_names = text.filter(lambda name: not name.startswith("X-Amz-"))  # no SigV4 parameters
query_params = st.lists(st.tuples(param_names, text), max_size=6)

_HEADER_CHARS = [chr(c) for c in range(0x20, 0x7F)] + ["\t", "\xa0", "é", "ÿ"]
_padding = st.text(" \t", max_size=3)
header_values = st.builds(
    lambda lead, body, trail: lead + body + trail,
    _padding,
    st.text(st.sampled_from(_HEADER_CHARS), max_size=20),
    _padding,
)
header_names = st.from_regex(r"x-[a-z0-9]{1,8}", fullmatch=True)
extra_headers = st.lists(st.tuples(header_names, header_values), max_size=5)

_segment = st.one_of(
    st.sampled_from(["", ".", ".."]),
    st.builds(quote, text, safe=st.sampled_from(["", "!$&'()*+,;=:@", "@:", "+"])),
)
paths = st.builds(
    lambda segments, trailing: "/" + "/".join(segments) + ("/" if trailing else ""),
    st.lists(_segment, max_size=5),
    st.booleans(),
)
bodies = st.binary(max_size=64)
methods = st.sampled_from(["GET", "POST", "PUT"])


@st.composite
def header_signed(draw, *, body=bodies) -> Wire:
    request = AWSRequest(
        draw(methods),
        "https://sts.amazonaws.com" + draw(paths),
        params=draw(query_params),
        data=draw(body),
    )
    for name, value in draw(extra_headers):
        request.headers[name] = value  # repeated names append, as on the wire
    region = draw(st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2"]))
    return sign(request, region=region, strip_values=draw(st.booleans()))


@st.composite
def presigned(draw) -> Wire:
    request = AWSRequest("GET", "https://sts.amazonaws.com" + draw(paths), params=draw(query_params))
    extra = draw(extra_headers)
    for name, value in extra:
        request.headers[name] = value
    expires = draw(st.integers(min_value=1, max_value=604800))
    return presign(request, creds=SESSION_CREDS, expires=expires)


def mutate(data: bytes, index: int, byte: int) -> bytes:
    index %= len(data)
    assume(data[index] != byte)
    return data[:index] + bytes([byte]) + data[index + 1 :]


printable = st.integers(min_value=0x20, max_value=0x7E)


def trimall(value: bytes) -> str:
    return " ".join(value.decode("latin-1").split())


# --- botocore's signature always verifies -------------------------------------------------


@PROPERTY
@given(header_signed())
def test_header_signed_requests_verify(wire):
    assert accepts(wire)


@PROPERTY
@given(presigned())
def test_presigned_urls_verify(wire):
    assert wire.parse().presigned
    assert accepts(wire)


# --- any single-byte change to a signed component is rejected ----------------------------


@PROPERTY
@given(header_signed(body=st.binary(min_size=1, max_size=64)), st.integers(0), st.integers(0, 255))
def test_body_byte_change_rejected(wire, index, byte):
    assert not accepts(replace(wire, body=mutate(wire.body, index, byte)))


@PROPERTY
@given(st.one_of(header_signed(), presigned()), st.integers(0), st.integers(0), printable)
def test_signed_header_byte_change_rejected(wire, which, index, byte):
    signed = set(wire.parse().signed_headers)
    positions = [i for i, (name, value) in enumerate(wire.headers) if name.decode() in signed and value]
    position = positions[which % len(positions)]
    name, value = wire.headers[position]
    changed = mutate(value, index, byte)
    assume(trimall(changed) != trimall(value))
    headers = list(wire.headers)
    headers[position] = (name, changed)
    assert not accepts(replace(wire, headers=tuple(headers)))


@PROPERTY
@given(st.one_of(header_signed(), presigned()), st.integers(0), printable)
def test_query_byte_change_rejected(wire, index, byte):
    assume(wire.raw_query)
    changed = mutate(wire.raw_query, index, byte)
    # presigned=False keeps X-Amz-Signature in the comparison: changing it is a change.
    before = canon.canonical_query_string(wire.raw_query, presigned=False)
    assume(canon.canonical_query_string(changed, presigned=False) != before)
    assert not accepts(replace(wire, raw_query=changed))


@PROPERTY
@given(st.one_of(header_signed(), presigned()), st.integers(0), printable)
def test_path_byte_change_rejected(wire, index, byte):
    changed = mutate(wire.raw_path, index, byte)
    assume(canon.canonical_uri(changed) != canon.canonical_uri(wire.raw_path))
    assert not accepts(replace(wire, raw_path=changed))


_CREDENTIAL_OR_SIGNATURE = re.compile(rb"(?:Credential|Signature)=([^,\s]+)")


@PROPERTY
@given(header_signed(), st.integers(0), st.integers(0), st.integers(0, 255))
def test_authorization_credential_or_signature_byte_change_rejected(wire, which, index, byte):
    authorization = dict(wire.headers)[b"authorization"]
    spans = [m.span(1) for m in _CREDENTIAL_OR_SIGNATURE.finditer(authorization)]
    start, end = spans[which % len(spans)]
    position = start + index % (end - start)
    changed = mutate(authorization, position, byte)
    headers = tuple((n, changed if n == b"authorization" else v) for n, v in wire.headers)
    assert not accepts(replace(wire, headers=headers))


@PROPERTY
@given(header_signed(), methods)
def test_method_change_rejected(wire, method):
    assume(method != wire.method)
    assert not accepts(replace(wire, method=method))
