"""Canonicalization pieces, against botocore's own helpers and the SigV4 rules."""

from __future__ import annotations

from urllib.parse import quote, quote_from_bytes, unquote_to_bytes

import pytest
from botocore.utils import remove_dot_segments
from hypothesis import given, settings
from hypothesis import strategies as st

from stsd.auth import sigv4_canonical as canon


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "/"),
        (b"/", "/"),
        (b"/a%20b", "/a%2520b"),  # double encoding, every service but S3
        (b"/a//b///c/", "/a/b/c/"),
        (b"/a/./b/../c", "/a/c"),
        (b"/..", "/"),
        (b"/a/%2E%2E/b", "/a/%252E%252E/b"),  # encoded dots are not dot segments
        (b"/~user/w*rld+x", "/~user/w%2Arld%2Bx"),
        ("/é".encode(), "/%C3%A9"),
    ],
)
def test_canonical_uri(raw, expected):
    assert canon.canonical_uri(raw) == expected


@pytest.mark.parametrize("path", ["/a/b", "//x//", "/./", "/a/../../b/", "/a/b/..", "/.../..../x", "/a/./"])
def test_dot_segments_match_botocore(path):
    assert canon.canonical_uri(path.encode()) == quote(remove_dot_segments(path), safe="/~")


@pytest.mark.parametrize(
    ("raw", "presigned", "expected"),
    [
        (b"", False, ""),
        (b"b=2&a=1&a=0", False, "a=0&a=1&b=2"),
        (b"a+b=c+d&e=%7e&f=%2f&g=%41", False, "a%20b=c%20d&e=~&f=%2F&g=A"),
        (b"flag&=v&&x=", False, "=v&flag=&x="),
        (b"%E2%82%AC=%F0%9F%98%80", False, "%E2%82%AC=%F0%9F%98%80"),
        (b"a=1&X-Amz-Signature=ff&b=2", True, "a=1&b=2"),
        (b"a=1&X-Amz-Signature=ff", False, "X-Amz-Signature=ff&a=1"),
        (b"bad=%zz%", False, "bad=%25zz%25"),
        (b"a=b=c&d=1", False, "a=b%3Dc&d=1"),
    ],
)
def test_canonical_query_string(raw, presigned, expected):
    assert canon.canonical_query_string(raw, presigned=presigned) == expected


def _slow_component(component: bytes) -> str:
    return quote_from_bytes(unquote_to_bytes(component.replace(b"+", b" ")), safe=b"-_.~")


def _slow_query(raw: bytes, presigned: bool) -> str:
    pairs = []
    for field in filter(None, raw.split(b"&")):
        name, _, value = field.partition(b"=")
        pairs.append((_slow_component(name), _slow_component(value)))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs) if not (presigned and k == "X-Amz-Signature"))


def test_fast_path_agrees_with_full_decoding_for_every_byte():
    for byte in range(256):
        for component in (bytes([byte]), f"%{byte:02X}".encode(), f"x%{byte:02x}y".encode()):
            assert canon._canonical_component(component) == _slow_component(component), component
            query = b"k=" + component + b"&" + component + b"=v"
            assert canon.canonical_query_string(query, presigned=False) == _slow_query(query, False)


_QUERY_PIECES = st.sampled_from(
    [bytes([b]) for b in b"aZ09-_.~=&%+ /:?#\x00\x7f\xe9"] + [b"%2F", b"%2f", b"%41", b"%7E", b"%3D"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_QUERY_PIECES, max_size=24).map(b"".join), st.booleans())
def test_canonical_query_matches_reference(raw, presigned):
    assert canon.canonical_query_string(raw, presigned=presigned) == _slow_query(raw, presigned)


def test_canonical_headers_in_listed_order_with_trimall():
    values = canon.collect_headers(
        [(b"Host", b"h"), (b"x-a", b"  1   2 "), (b"x-a", b"\t3"), (b"x-b", b"\xe9")],
        ["host", "x-a", "x-b", "x-missing"],
    )
    assert canon.canonical_headers(["host", "x-a", "x-b", "x-missing"], values) == (
        "host:h\nx-a:1 2,3\nx-b:é\nx-missing:\n"
    )


@pytest.mark.parametrize(
    ("declared", "body", "expected"),
    [
        (None, b"", canon.EMPTY_SHA256),
        (None, b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
            b"abc",
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
        ),
        (canon.EMPTY_SHA256, b"abc", None),
        ("UNSIGNED-PAYLOAD", b"", "UNSIGNED-PAYLOAD"),
        ("UNSIGNED-PAYLOAD", b"abc", None),
        ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", b"abc", None),
    ],
)
def test_payload_hash(declared, body, expected):
    values = {canon.CONTENT_SHA256_HEADER: [] if declared is None else [declared]}
    assert canon.payload_hash(values, body) == expected
