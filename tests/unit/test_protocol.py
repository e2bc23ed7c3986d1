"""Query parsing, rendering and identifiers (unit and property tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote_plus, urlencode

from hypothesis import given
from hypothesis import strategies as st

from stsd import ids
from stsd.errors import AccessDenied, MalformedInput
from stsd.protocol.query import first_wins, is_form_content_type, parse_pairs, percent_decode
from stsd.protocol.render import Members, java_double, render_error_xml, render_json, render_xml

names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
values = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(st.lists(st.tuples(names, values), max_size=12))
def test_query_round_trip_keeps_order_and_first_occurrence(pairs: list[tuple[str, str]]) -> None:
    parsed = parse_pairs(urlencode(pairs).encode())
    assert parsed == pairs
    merged = first_wins(parsed)
    for name, _value in pairs:
        assert name in merged
    expected: dict[str, str] = {}
    for name, value in pairs:
        expected.setdefault(name, value)
    assert merged == expected


@given(st.binary(max_size=200))
def test_query_parser_never_raises_on_garbage(raw: bytes) -> None:
    assert isinstance(parse_pairs(raw), list)


# Text that is mostly escapes, good and bad: "%", hex digits of both cases, "+", and ASCII.
escapy = st.text(alphabet=st.sampled_from("%+%%0aAfF9gG=&~ \x00\x7f"), max_size=40) | st.text(
    alphabet=st.characters(max_codepoint=127), max_size=40
)


@given(escapy)
def test_percent_decode_is_urllibs_unquote_plus(text: str) -> None:
    assert percent_decode(text) == unquote_plus(text, encoding="utf-8", errors="replace")


def _reference_pairs(raw: bytes) -> list[tuple[str, str]]:
    """parse_pairs as it was before its fast path: urllib per piece."""

    def unquote(text: str) -> str:
        if "%" in text or "+" in text:
            return unquote_plus(text, encoding="utf-8", errors="replace")
        return text.encode("latin-1").decode("utf-8", "replace")

    pieces = (piece.partition("=") for piece in raw.decode("latin-1").split("&") if piece)
    return [(unquote(name), unquote(value)) for name, _, value in pieces]


@given(st.binary(max_size=200) | escapy.map(str.encode) | st.text(max_size=40).map(str.encode))
def test_query_parser_equals_urllib_for_any_bytes(raw: bytes) -> None:
    assert parse_pairs(raw) == _reference_pairs(raw)


def test_first_wins_across_sources() -> None:
    assert first_wins([("Action", "A")], [("Action", "B"), ("X", "1")]) == {"Action": "A", "X": "1"}


def test_form_content_type() -> None:
    assert is_form_content_type("application/x-www-form-urlencoded; charset=utf-8")
    assert is_form_content_type("Application/X-WWW-Form-URLEncoded")
    assert not is_form_content_type("application/json")
    assert not is_form_content_type(None)


def test_java_double_matches_javas_double_to_string() -> None:
    assert java_double(1514869445) == "1.514869445E9"
    assert java_double(1700000000) == "1.7E9"
    assert java_double(1234567890123) == "1.234567890123E12"


def test_render_xml_escapes_and_orders() -> None:
    body = render_xml("Op", "ns", [("A", "x<&>y"), ("B", None), ("C", Members(["m1", "m2"])),
                                   ("D", datetime(2026, 1, 1, 1, 0, tzinfo=UTC)), ("E", True)], "rid")
    assert body.decode() == (
        '<OpResponse xmlns="ns">\n'
        "  <OpResult>\n"
        "    <A>x&lt;&amp;&gt;y</A>\n"
        "    <C>\n"
        "      <member>m1</member>\n"
        "      <member>m2</member>\n"
        "    </C>\n"
        "    <D>2026-01-01T01:00:00Z</D>\n"
        "    <E>true</E>\n"
        "  </OpResult>\n"
        "  <ResponseMetadata>\n"
        "    <RequestId>rid</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</OpResponse>\n"
    )


def test_render_without_result_and_with_empty_result() -> None:
    assert b"<OpResult" not in render_xml("Op", "ns", None, "r")
    assert b"  <OpResult/>\n" in render_xml("Op", "ns", [], "r")


def test_render_json_mirrors_the_tree() -> None:
    body = render_json("Op", [("Expiration", datetime.fromtimestamp(1514869445, UTC)), ("N", 3)], "r")
    assert body == (b'{"OpResponse":{"OpResult":{"Expiration":1.514869445E9,"N":3},'
                    b'"ResponseMetadata":{"RequestId":"r"}}}')


def test_error_without_message_has_no_message_element() -> None:
    body = render_error_xml(MalformedInput(), "ns", "r").decode()
    assert "<Message>" not in body
    assert "<Code>MalformedInput</Code>" in body
    assert "<Message>no &amp; way</Message>" in render_error_xml(AccessDenied("no & way"), "ns", "r").decode()


@given(st.from_regex(r"[0-9]{12}", fullmatch=True), st.sampled_from(["AKIA", "ASIA"]))
def test_access_key_ids_encode_their_account(account: str, prefix: str) -> None:
    key_id = ids.new_access_key_id(account, prefix)
    assert key_id.startswith(prefix) and len(key_id) == 20
    assert key_id[4] not in "IJ"
    assert ids.account_from_access_key_id(key_id) == account


def test_aws_published_samples_decode() -> None:
    assert ids.account_from_access_key_id("AKIARZPUZDIKGB2VALC4") == "123456789012"
    assert ids.account_from_access_key_id("ASIAQAAAAAAAGMKEM7X5") == "000000000000"
    assert ids.account_from_access_key_id("AKIAIOSFODNN7EXAMPLE") is None


def test_account_ids_are_ascii_digits_only() -> None:
    assert ids.is_account_id("123456789012")
    assert not ids.is_account_id("00000000000\u0660")  # ARABIC-INDIC DIGIT ZERO
    assert not ids.is_account_id("12345678901")
