"""Property tests: matchers against reference implementations, evaluation invariants, and
parser robustness."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stsd.errors import AwsError
from stsd.policy import Decision, PolicyKind, Request, parse_policy
from stsd.policy.conditions import BASE_OPERATORS
from stsd.policy.dates import parse_date

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEAVY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference_glob(pattern: str, text: str) -> bool:
    """fnmatch-style reference: ``*`` any run, ``?`` one character, nothing else special."""

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(text)
        if pattern[i] == "*":
            return match(i + 1, j) or (j < len(text) and match(i, j + 1))
        if j < len(text) and pattern[i] in ("?", text[j]):
            return match(i + 1, j + 1)
        return False

    return match(0, 0)


def _policy(*statements: dict[str, Any], kind: PolicyKind = PolicyKind.IDENTITY):
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}), kind)


GLOB = st.text(alphabet="aAbB.+()[]\\$^*?", max_size=8)
WORD = st.text(alphabet="aAbB.+()[]\\$^", max_size=8)


@SETTINGS
@given(GLOB, WORD)
def test_action_wildcards_agree_with_reference(pattern: str, name: str) -> None:
    policy = _policy({"Effect": "Allow", "Action": f"svc:{pattern}", "Resource": "*"})
    got = policy.evaluate(Request(f"svc:{name}", "*")) is Decision.ALLOW
    assert got == reference_glob(f"svc:{pattern}".lower(), f"svc:{name}".lower())


@SETTINGS
@given(GLOB, WORD)
def test_not_action_is_the_complement_of_action(pattern: str, name: str) -> None:
    action = _policy({"Effect": "Allow", "Action": f"svc:{pattern}", "Resource": "*"})
    not_action = _policy({"Effect": "Allow", "NotAction": f"svc:{pattern}", "Resource": "*"})
    request = Request(f"svc:{name}", "*")
    assert (action.evaluate(request) is Decision.ALLOW) != (not_action.evaluate(request) is Decision.ALLOW)


@SETTINGS
@given(GLOB, WORD)
def test_string_like_agrees_with_reference(pattern: str, value: str) -> None:
    policy = _policy(
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringLike": {"k:v": pattern}},
        }
    )
    got = policy.evaluate(Request("s:a", "*", None, {"k:v": value})) is Decision.ALLOW
    assert got == reference_glob(pattern, value)


@SETTINGS
@given(st.text(alphabet="ab/:*?", max_size=10), st.text(alphabet="ab/:", max_size=10))
def test_resource_part_wildcards_agree_with_reference(pattern: str, name: str) -> None:
    policy = _policy({"Effect": "Allow", "Action": "*", "Resource": f"arn:aws:s3:::{pattern}"})
    got = policy.evaluate(Request("s3:GetObject", f"arn:aws:s3:::{name}")) is Decision.ALLOW
    assert got == reference_glob(pattern, name)


@SETTINGS
@given(st.text(min_size=1, max_size=12).filter(lambda s: "}" not in s))
def test_substituted_variables_are_literal(username: str) -> None:
    policy = _policy({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/${aws:username}"})
    ctx = {"aws:username": username}
    assert policy.evaluate(Request("s3:GetObject", f"arn:aws:s3:::b/{username}", None, ctx)) is Decision.ALLOW
    if username != "x":
        other = Request("s3:GetObject", "arn:aws:s3:::b/x", None, ctx)
        assert policy.evaluate(other) is Decision.NOT_APPLICABLE


@SETTINGS
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_iso_dates_round_trip(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    text = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parse_date(text) == moment.replace(tzinfo=UTC).timestamp()


# --- random but valid policies -------------------------------------------------------------

OPERATORS = [
    prefix + name + suffix
    for name in BASE_OPERATORS
    for prefix in ("", "ForAllValues:", "ForAnyValue:")
    for suffix in ("", "IfExists")
    if not (name == "Null" and suffix)
]
KEYS = st.sampled_from(["k:a", "k:b", "aws:TagKeys"])
SCALARS = st.one_of(
    st.sampled_from(
        [
            "a",
            "b",
            "a*",
            "?",
            "10",
            "2020-01-01T00:00:00Z",
            "10.0.0.0/8",
            "true",
            "YQ==",
            "arn:aws:s3:::b",
        ]
    ),
    st.booleans(),
    st.integers(min_value=0, max_value=20),
)
CONTEXT_VALUES = st.one_of(
    st.sampled_from(["a", "b", "10", "10.1.2.3", "true", "2021-01-01T00:00:00Z", "arn:aws:s3:::b", ""]),
    st.booleans(),
    st.integers(min_value=-5, max_value=20),
    st.datetimes(timezones=st.just(UTC)),
    st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
    st.binary(max_size=3),
)


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        draw(st.sampled_from(["Action", "NotAction"])): draw(
            st.lists(
                st.sampled_from(["s3:*", "s3:Get*", "s3:GetObject", "iam:?etUser", "*"]),
                min_size=1,
                max_size=3,
            )
        ),
        draw(st.sampled_from(["Resource", "NotResource"])): draw(
            st.lists(
                st.sampled_from(["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/${k:a}", "arn:aws:s3:::?/k"]),
                min_size=1,
                max_size=2,
            )
        ),
    }
    if draw(st.booleans()):
        condition: dict[str, dict[str, Any]] = {}
        for operator in draw(st.lists(st.sampled_from(OPERATORS), max_size=3, unique=True)):
            if "Date" in operator:
                values: Any = draw(st.sampled_from(["2020-01-01T00:00:00Z", "1600000000", ["2020", "2022-02-02"]]))
            else:
                values = draw(st.one_of(SCALARS, st.lists(SCALARS, max_size=3)))
            condition[operator] = {draw(KEYS): values}
        statement["Condition"] = condition
    return statement


@st.composite
def requests(draw: st.DrawFn) -> Request:
    action = draw(st.sampled_from(["s3:GetObject", "s3:PutObject", "iam:GetUser", "sts:AssumeRole"]))
    resource = draw(st.sampled_from(["arn:aws:s3:::b/k", "arn:aws:s3:::a/k", "arn:aws:iam::1:user/x"]))
    context = draw(st.dictionaries(KEYS, CONTEXT_VALUES, max_size=3))
    return Request(action, resource, None, context)


@HEAVY
@given(statements(), requests())
def test_deny_and_allow_of_the_same_statement_always_denies(statement: dict[str, Any], request: Request) -> None:
    allow_only = _policy(statement)
    both = _policy(statement, {**statement, "Effect": "Deny"})
    deny_only = _policy({**statement, "Effect": "Deny"})
    allowed = allow_only.evaluate(request)
    assert allowed in (Decision.ALLOW, Decision.NOT_APPLICABLE)
    assert both.evaluate(request) is not Decision.ALLOW
    assert both.evaluate(request) is deny_only.evaluate(request)
    expected = Decision.DENY if allowed is Decision.ALLOW else Decision.NOT_APPLICABLE
    assert deny_only.evaluate(request) is expected


@HEAVY
@given(st.lists(statements(), min_size=1, max_size=4), requests())
def test_statement_order_does_not_matter(stmts: list[dict[str, Any]], request: Request) -> None:
    assert _policy(*stmts).evaluate(request) is _policy(*reversed(stmts)).evaluate(request)


# --- parser robustness ---------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
GRAMMAR_KEYS = st.sampled_from(
    [
        "Version",
        "Statement",
        "Id",
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
        "AWS",
        "Service",
        "StringEquals",
        "DateLessThan",
        "ForAllValues:StringLike",
        "Null",
        "2012-10-17",
        "Allow",
        "Deny",
        "*",
        "s3:GetObject",
    ]
)
GRAMMAR_VALUES = st.sampled_from(
    [
        *[
            "2012-10-17",
            "2008-10-17",
            "Allow",
            "Deny",
            "*",
            "s3:*",
            "arn:aws:s3:::b",
            "123456789012",
            "x",
        ],
        "arn:aws:iam::123456789012:root",
        "ec2.amazonaws.com",
        "2020-01-01",
        "",
    ]
)
POLICY_LIKE = st.recursive(
    GRAMMAR_VALUES | st.booleans() | st.integers(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(GRAMMAR_KEYS, children, max_size=4),
    max_leaves=25,
)


def _parses_or_malformed(text: str) -> None:
    for kind in PolicyKind:
        try:
            policy = parse_policy(text, kind)
        except AwsError as err:
            assert err.code == "MalformedPolicyDocument"
            assert isinstance(err.message, str) and err.message
        else:
            assert policy.kind is kind
            policy.evaluate(Request("s3:GetObject", "arn:aws:s3:::b", None, {"k": "v"}))


@SETTINGS
@given(st.text(max_size=50))
def test_parse_never_crashes_on_text(text: str) -> None:
    _parses_or_malformed(text)


@HEAVY
@given(JSON)
def test_parse_never_crashes_on_json(value: Any) -> None:
    _parses_or_malformed(json.dumps(value))


@HEAVY
@given(POLICY_LIKE)
def test_parse_never_crashes_on_policy_like_documents(value: Any) -> None:
    _parses_or_malformed(json.dumps(value))


@HEAVY
@given(st.lists(statements(), min_size=1, max_size=3))
def test_generated_policies_are_valid(stmts: list[dict[str, Any]]) -> None:
    _policy(*stmts)
