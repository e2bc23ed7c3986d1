"""Property tests of the Query parameter validation (stsd.protocol.params) through the real
server: every input either passes validation or gets exactly AWS's Coral message(s)
(aws-sts-behaviour.md §6.1 integer parsing, §6.3 validation grammar).

A value "passes" when the request gets past validation to authorisation: the role named here
does not exist, so a valid request ends in the AccessDenied that hides it."""

from __future__ import annotations

import re
import string
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.e2e.test_sts_helpers import (
    ACCOUNT_A,
    STS_NS,
    assume_role_params,
    signed_request,
    unique,
    user_arn,
)

NS = {"e": STS_NS}
WORD = string.ascii_letters + string.digits + "_"
NAME_CHARS = WORD + "+=,.@-"
NAME_RE = re.compile(r"[\w+=,.@-]*", re.ASCII)
INT32 = (-(2**31), 2**31 - 1)

PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any text that survives a round trip through XML 1.0 (no controls, surrogates, non-characters).
any_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=80)
valid_names = st.text(st.sampled_from(NAME_CHARS), min_size=2, max_size=64)


@pytest.fixture(scope="module")
def wire(server, make_user):
    user = make_user()
    with httpx.Client() as client:
        yield {
            "server": server,
            "user": user,
            "client": client,
            "role": f"arn:aws:iam::{ACCOUNT_A}:role/{unique('absent')}",
        }


def call(wire: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    response = signed_request(wire["server"], params, wire["user"], client=wire["client"])
    root = ET.fromstring(response.text)
    error = root.find("e:Error", NS)
    if error is None:
        return {"status": response.status_code}
    message = error.find("e:Message", NS)
    return {"status": response.status_code, "Type": error.findtext("e:Type", namespaces=NS),
            "Code": error.findtext("e:Code", namespaces=NS),
            **({"Message": message.text or ""} if message is not None else {})}


def passed(wire: dict[str, Any]) -> dict[str, Any]:
    return {"status": 403, "Type": "Sender", "Code": "AccessDenied",
            "Message": f"User: {user_arn(wire['user'])} is not authorized to perform: sts:AssumeRole "
                       f"on resource: {wire['role']}"}


def coral(problems: list[str]) -> dict[str, Any]:
    noun = "error" if len(problems) == 1 else "errors"
    return {"status": 400, "Type": "Sender", "Code": "ValidationError",
            "Message": f"{len(problems)} validation {noun} detected: " + "; ".join(problems)}


def name_problems(value: str, member: str) -> list[str]:
    """What Coral says about a roleSessionName/sourceIdentity value (2..64, [\\w+=,.@-]*)."""
    out = []
    prefix = f"Value '{value}' at '{member}' failed to satisfy constraint: "
    if not NAME_RE.fullmatch(value):
        out.append(prefix + r"Member must satisfy regular expression pattern: [\w+=,.@-]*")
    if len(value) > 64:
        out.append(prefix + "Member must have length less than or equal to 64")
    if len(value) < 2:
        out.append(prefix + "Member must have length greater than or equal to 2")
    return out


# --- strings ---------------------------------------------------------------------------------


@PROPERTY
@given(name=st.one_of(valid_names, any_text, st.text(st.sampled_from(NAME_CHARS + ": /é"), max_size=70)))
@example(name="ab")
@example(name="x" * 64)
@example(name="x" * 65)
@example(name="x")
@example(name="")
@example(name="é")
@example(name="Session1:2")
@example(name="<&>'\"")
def test_role_session_name(wire, name):
    problems = name_problems(name, "roleSessionName")
    expected = coral(problems) if problems else passed(wire)
    assert call(wire, assume_role_params(wire["role"], name)) == expected


@PROPERTY
@given(name=st.one_of(valid_names, any_text), source=st.one_of(valid_names, any_text, st.just("aws:x"),
                                                                 valid_names.map(lambda v: "AWS:" + v)))
def test_session_name_and_source_identity_errors_are_joined_in_member_order(wire, name, source):
    problems = name_problems(name, "roleSessionName") + name_problems(source, "sourceIdentity")
    expected = coral(problems) if problems else passed(wire)
    assert call(wire, assume_role_params(wire["role"], name, SourceIdentity=source)) == expected


arn_like = st.lists(st.text(st.sampled_from("arnwsiamrole/-1234:é"), max_size=12), min_size=1, max_size=8).map(
    ":".join).map(lambda v: v if len(v) >= 20 else v + "/" + "x" * (19 - len(v)))


@PROPERTY
@given(arn=st.one_of(
    arn_like,
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), min_size=20, max_size=60),
))
@example(arn="nothing-valid-in-here")
@example(arn="arn:a:b:::something/test-role")
def test_role_arn_syntax(wire, arn):
    # 20..2048 characters of the ARN character class: either an ARN with partition, service
    # and resource (then authorisation decides) or "<value> is invalid".
    fields = arn.split(":", 5)
    if len(fields) == 6 and fields[0] == "arn" and fields[1] and fields[2] and fields[5]:
        expected = {"status": 403, "Type": "Sender", "Code": "AccessDenied",
                    "Message": f"User: {user_arn(wire['user'])} is not authorized to perform: sts:AssumeRole "
                               f"on resource: {arn}"}
    else:
        expected = {"status": 400, "Type": "Sender", "Code": "ValidationError", "Message": f"{arn} is invalid"}
    assert call(wire, assume_role_params(arn, "valid-name")) == expected


# --- integers --------------------------------------------------------------------------------


def spellings(value: int) -> st.SearchStrategy[str]:
    """Ways to write an integer that Coral accepts: optional '+', leading zeros."""
    digits = str(abs(value))
    sign = st.just("-") if value < 0 else st.sampled_from(["", "+"])
    return st.builds(lambda s, zeros: f"{s}{'0' * zeros}{digits}", sign, st.integers(0, 3))


@PROPERTY
@given(raw=st.integers(*INT32).flatmap(lambda v: spellings(v).map(lambda text: (v, text))))
@example(raw=(900, "+900"))
@example(raw=(900, "0900"))
@example(raw=(43200, "43200"))
@example(raw=(43201, "43201"))
@example(raw=(899, "0899"))
@example(raw=(0, "-0"))
@example(raw=(2**31 - 1, "2147483647"))
@example(raw=(-(2**31), "-2147483648"))
def test_int32_duration(wire, raw):
    value, text = raw
    params = assume_role_params(wire["role"], "valid-name", DurationSeconds=text)
    if value > 43200:
        expected = coral([f"Value '{value}' at 'durationSeconds' failed to satisfy constraint: "
                          "Member must have value less than or equal to 43200"])
    elif value < 900:
        expected = coral([f"Value '{value}' at 'durationSeconds' failed to satisfy constraint: "
                          "Member must have value greater than or equal to 900"])
    else:
        expected = passed(wire)
    assert call(wire, params) == expected


MALFORMED = {"status": 400, "Type": "Sender", "Code": "MalformedInput"}  # and no <Message>


@PROPERTY
@given(text=st.one_of(
    st.integers().filter(lambda v: not INT32[0] <= v <= INT32[1]).map(str),
    st.text(st.sampled_from(string.ascii_letters + string.digits + string.punctuation + " "), min_size=1,
            max_size=20).filter(lambda t: not re.fullmatch(r"[+-]?[0-9]+", t)),
))
@example(text="900.0")
@example(text="abc")
@example(text="2147483648")
@example(text="-2147483649")
@example(text="9e2")
@example(text=" 900")
@example(text="+-900")
@example(text="0x384")
def test_malformed_integers(wire, text):
    assert call(wire, assume_role_params(wire["role"], "valid-name", DurationSeconds=text)) == MALFORMED


def test_empty_integer(wire):
    assert call(wire, assume_role_params(wire["role"], "valid-name", DurationSeconds="")) == {
        **MALFORMED, "Message": "missing value for decimal type"}


def test_malformed_input_comes_before_validation(wire):
    # An unparsable number stops the request before the other members are validated.
    assert call(wire, assume_role_params(wire["role"], "x", DurationSeconds="abc")) == MALFORMED


@PROPERTY
@given(value=st.integers(*INT32))
@example(value=129600)
@example(value=129601)
@example(value=899)
def test_get_session_token_duration(wire, value):
    params = {"Action": "GetSessionToken", "Version": "2011-06-15", "DurationSeconds": str(value)}
    outcome = call(wire, params)
    if value > 129600:
        assert outcome == coral([f"Value '{value}' at 'durationSeconds' failed to satisfy constraint: "
                                 "Member must have value less than or equal to 129600"])
    elif value < 900:
        assert outcome == coral([f"Value '{value}' at 'durationSeconds' failed to satisfy constraint: "
                                 "Member must have value greater than or equal to 900"])
    else:
        assert outcome == {"status": 200}


# --- IAM's form of the same messages (no values), straight from the parser -----------------


@PROPERTY
@given(name=st.one_of(valid_names, any_text), duration=st.integers(*INT32))
def test_messages_without_values(name, duration):
    from stsd.actions.sts.assume_role import PARAMS
    from stsd.errors import AwsError
    from stsd.protocol.params import parse_params

    role = f"arn:aws:iam::{ACCOUNT_A}:role/some-role"
    request = {"RoleArn": role, "RoleSessionName": name, "DurationSeconds": str(duration)}
    members = [("roleSessionName", p.split("failed to satisfy constraint: ", 1)[1])
               for p in name_problems(name, "roleSessionName")]
    if duration > 43200:
        members.append(("durationSeconds", "Member must have value less than or equal to 43200"))
    elif duration < 900:
        members.append(("durationSeconds", "Member must have value greater than or equal to 900"))
    hidden = [f"Value at '{m}' failed to satisfy constraint: {c}" for m, c in members]
    try:
        parsed = parse_params(PARAMS, request, show_values=False)
    except AwsError as error:
        assert coral(hidden) == {"status": error.status, "Type": error.spec.fault, "Code": error.code,
                                 "Message": error.message}
    else:
        assert hidden == []
        assert parsed == {"RoleArn": role, "RoleSessionName": name, "DurationSeconds": duration}
