"""Every condition operator: match, no match, missing key, IfExists, set qualifiers."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

import pytest

from stsd.policy import Decision, Request
from tests.policy.policy_helpers import identity


def _decide(operator: str, key: str, values: Any, context: dict[str, Any], version: str = "2012-10-17"):
    policy = identity(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {operator: {key: values}},
        },
        version=version,
    )
    return policy.evaluate(Request("s3:GetObject", "arn:aws:s3:::b/k", None, context))


def holds(operator: str, values: Any, value: Any = None, key: str = "k:x", **kw: Any) -> bool:
    """Does the condition hold? ``value=None`` means the key is absent from the request."""
    context = {} if value is None else {key: value}
    return _decide(operator, key, values, context, **kw) is Decision.ALLOW


# --- String ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "values", "value", "expected"),
    [
        ("StringEquals", "abc", "abc", True),
        ("StringEquals", "abc", "ABC", False),
        ("StringEquals", "abc", "ab", False),
        ("StringEquals", ["x", "abc"], "abc", True),  # several values: OR
        ("StringEquals", "a*", "abc", False),  # no wildcards
        ("StringEquals", "a*", "a*", True),
        ("StringEquals", "abc", None, False),  # missing key
        ("StringEquals", "true", True, True),  # non-string context values compare as text
        ("StringEquals", "5", 5, True),
        ("StringNotEquals", "abc", "abc", False),
        ("StringNotEquals", "abc", "abd", True),
        ("StringNotEquals", ["abc", "abd"], "abd", False),  # negated: NOR
        ("StringNotEquals", ["abc", "abd"], "abe", True),
        ("StringNotEquals", "abc", None, True),  # missing key: negated is true
        ("StringEqualsIgnoreCase", "AbC", "aBc", True),
        ("StringEqualsIgnoreCase", "AbC", "abd", False),
        ("StringEqualsIgnoreCase", "AbC", None, False),
        ("StringNotEqualsIgnoreCase", "AbC", "aBc", False),
        ("StringNotEqualsIgnoreCase", "AbC", "x", True),
        ("StringNotEqualsIgnoreCase", "AbC", None, True),
        ("StringLike", "a*c", "abbbc", True),
        ("StringLike", "a*c", "ac", True),
        ("StringLike", "a?c", "abc", True),
        ("StringLike", "a?c", "ac", False),
        ("StringLike", "a?c", "abbc", False),
        ("StringLike", "A*", "abc", False),  # case-sensitive
        ("StringLike", ["x*", "*c"], "abc", True),
        ("StringLike", "home/*", "home/a/b\nc", True),  # * spans anything, newlines included
        ("StringLike", "a.c", "abc", False),  # regex metacharacters are literal
        ("StringLike", "a+c", "a+c", True),
        ("StringLike", "*", None, False),
        ("StringNotLike", "a*", "abc", False),
        ("StringNotLike", "a*", "xbc", True),
        ("StringNotLike", ["a*", "x*"], "xbc", False),
        ("StringNotLike", "a*", None, True),
    ],
)
def test_string_operators(operator: str, values: Any, value: Any, expected: bool) -> None:
    assert holds(operator, values, value) is expected


# --- Numeric -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "values", "value", "expected"),
    [
        ("NumericEquals", "10", 10, True),
        ("NumericEquals", "10", "10", True),
        ("NumericEquals", "10", "10.0", True),
        ("NumericEquals", "10.5", 10.5, True),
        ("NumericEquals", "10", 11, False),
        ("NumericEquals", ["1", "2"], 2, True),
        ("NumericEquals", "10", "ten", False),  # not a number: never equal
        ("NumericEquals", "10", True, False),
        ("NumericEquals", "10", None, False),
        ("NumericEquals", 10, 10, True),  # JSON number in the policy
        ("NumericNotEquals", "10", 10, False),
        ("NumericNotEquals", "10", 11, True),
        ("NumericNotEquals", ["10", "11"], 11, False),
        ("NumericNotEquals", "10", "ten", True),
        ("NumericNotEquals", "10", None, True),
        ("NumericLessThan", "10", 9, True),
        ("NumericLessThan", "10", 10, False),
        ("NumericLessThan", "10", "-3", True),
        ("NumericLessThan", "10", None, False),
        ("NumericLessThanEquals", "10", 10, True),
        ("NumericLessThanEquals", "10", 10.01, False),
        ("NumericGreaterThan", "10", 11, True),
        ("NumericGreaterThan", "10", 10, False),
        ("NumericGreaterThan", "0.5", "0.75", True),
        ("NumericGreaterThanEquals", "10", 10, True),
        ("NumericGreaterThanEquals", "10", 9, False),
        ("NumericGreaterThanEquals", "10", None, False),
        ("NumericLessThan", "abc", 1, False),  # an unparsable policy value never matches
    ],
)
def test_numeric_operators(operator: str, values: Any, value: Any, expected: bool) -> None:
    assert holds(operator, values, value) is expected


# --- Date --------------------------------------------------------------------------------

NOON = datetime(2020, 6, 1, 12, 0, 0, tzinfo=UTC)
NOON_EPOCH = int(NOON.timestamp())


@pytest.mark.parametrize(
    ("operator", "values", "value", "expected"),
    [
        ("DateEquals", "2020-06-01T12:00:00Z", NOON, True),
        ("DateEquals", "2020-06-01T12:00:00Z", NOON.replace(tzinfo=None), True),  # naive = UTC
        ("DateEquals", "2020-06-01T14:00:00+02:00", NOON, True),
        ("DateEquals", "2020-06-01T07:00:00-05:00", NOON, True),
        ("DateEquals", str(NOON_EPOCH), NOON, True),  # epoch seconds in the policy
        ("DateEquals", "2020-06-01T12:00:00Z", NOON_EPOCH, True),  # epoch in the request
        ("DateEquals", "2020-06-01T12:00:00Z", "2020-06-01T12:00:00Z", True),
        ("DateEquals", "2020-06-01T12:00:00Z", str(NOON_EPOCH), True),
        ("DateEquals", "2020-06-01", datetime(2020, 6, 1, tzinfo=UTC), True),
        ("DateEquals", "2020-06-01T12:00:00.5Z", NOON, False),
        ("DateEquals", "2020-06-01T12:00:00Z", "not a date", False),
        ("DateEquals", "2020-06-01T12:00:00Z", None, False),
        ("DateNotEquals", "2020-06-01T12:00:00Z", NOON, False),
        ("DateNotEquals", "2020-06-01T12:00:01Z", NOON, True),
        ("DateNotEquals", "2020-06-01T12:00:00Z", None, True),
        ("DateLessThan", "2020-06-01T12:00:01Z", NOON, True),
        ("DateLessThan", "2020-06-01T12:00:00Z", NOON, False),
        ("DateLessThan", "2020-06-01T12:00:00Z", None, False),
        ("DateLessThanEquals", "2020-06-01T12:00:00Z", NOON, True),
        ("DateLessThanEquals", "2020-06-01T11:59:59Z", NOON, False),
        ("DateGreaterThan", "2020-06-01T11:59:59Z", NOON, True),
        ("DateGreaterThan", "2020-06-01T12:00:00Z", NOON, False),
        ("DateGreaterThan", "2020", NOON, True),  # a bare year
        ("DateGreaterThanEquals", "2020-06-01T12:00:00Z", NOON, True),
        ("DateGreaterThanEquals", "2020-06-01T12:00:00.001Z", NOON, False),
        ("DateGreaterThanEquals", ["2030-01-01T00:00:00Z", "2019-01-01T00:00:00Z"], NOON, True),
    ],
)
def test_date_operators(operator: str, values: Any, value: Any, expected: bool) -> None:
    assert holds(operator, values, value) is expected


# --- Bool, Binary, IP, ARN, Null ----------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "value", "expected"),
    [
        ("true", True, True),
        ("true", "true", True),
        ("true", "TRUE", True),
        ("True", True, True),
        ("false", False, True),
        ("false", True, False),
        (True, True, True),  # JSON boolean in the policy
        (False, "false", True),
        ("true", "yes", False),
        ("true", 1, False),
        ("true", None, False),
    ],
)
def test_bool(values: Any, value: Any, expected: bool) -> None:
    assert holds("Bool", values, value) is expected


def test_bool_if_exists() -> None:
    assert holds("BoolIfExists", "false", None) is True
    assert holds("BoolIfExists", "false", True) is False


@pytest.mark.parametrize(
    ("values", "value", "expected"),
    [
        ("QmluYXJ5VmFsdWVJbkJhc2U2NA==", b"BinaryValueInBase64", True),
        ("QmluYXJ5VmFsdWVJbkJhc2U2NA==", b"BinaryValueInBase65", False),
        ("QmluYXJ5VmFsdWVJbkJhc2U2NA==", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", True),
        ("QmluYXJ5VmFsdWVJbkJhc2U2NA==", None, False),
        ("not base64!", b"x", False),
    ],
)
def test_binary_equals(values: Any, value: Any, expected: bool) -> None:
    assert holds("BinaryEquals", values, value) is expected


@pytest.mark.parametrize(
    ("operator", "values", "value", "expected"),
    [
        ("IpAddress", "203.0.113.0/24", "203.0.113.7", True),
        ("IpAddress", "203.0.113.0/24", "203.0.114.7", False),
        ("IpAddress", "203.0.113.7", "203.0.113.7", True),  # no prefix means /32
        ("IpAddress", "203.0.113.7", "203.0.113.8", False),
        ("IpAddress", "203.0.113.9/24", "203.0.113.1", True),  # host bits are ignored
        ("IpAddress", "2001:DB8:1234:5678::/64", "2001:db8:1234:5678::1", True),
        ("IpAddress", "2001:DB8:1234:5678::/64", "2001:db8:1234:5679::1", False),
        ("IpAddress", ["10.0.0.0/8", "2001:DB8::/32"], "2001:db8::5", True),
        ("IpAddress", "10.0.0.0/8", ipaddress.ip_address("10.1.2.3"), True),
        ("IpAddress", "10.0.0.0/8", "2001:db8::5", False),  # families never mix
        ("IpAddress", "10.0.0.0/8", "not-an-ip", False),
        ("IpAddress", "garbage", "10.0.0.1", False),
        ("IpAddress", "10.0.0.0/8", None, False),
        ("NotIpAddress", "10.0.0.0/8", "10.0.0.1", False),
        ("NotIpAddress", "10.0.0.0/8", "11.0.0.1", True),
        ("NotIpAddress", ["10.0.0.0/8", "11.0.0.0/8"], "11.0.0.1", False),
        ("NotIpAddress", "10.0.0.0/8", None, True),
    ],
)
def test_ip_operators(operator: str, values: Any, value: Any, expected: bool) -> None:
    assert holds(operator, values, value) is expected


SNS = "arn:aws:sns:us-east-1:123456789012:topic"


@pytest.mark.parametrize("operator", ["ArnEquals", "ArnLike"])
@pytest.mark.parametrize(
    ("values", "value", "expected"),
    [
        (SNS, SNS, True),
        (SNS, SNS.upper(), False),  # case-sensitive
        ("arn:aws:sns:*:123456789012:topic", SNS, True),
        ("arn:aws:sns:us-east-?:123456789012:*", SNS, True),
        ("arn:aws:sns:*:123456789012:*", "arn:aws:sns:us-east-1:123456789012:a:b", True),
        # AWS's own example: ArnLike matches field by field, StringLike would match here
        (
            "arn:aws:someservice:*:111122223333:finance/*",
            "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
            False,
        ),
        ("arn:aws:sns:*:*:*", "not-an-arn", False),
        ("arn:aws:sns:*:*:*", "arn:aws:sns:us-east-1", False),
        ("*", SNS, True),  # not an ARN pattern: whole-value glob
        (SNS, None, False),
    ],
)
def test_arn_equals_and_like(operator: str, values: Any, value: Any, expected: bool) -> None:
    assert holds(operator, values, value) is expected


def test_arn_like_vs_string_like_on_aws_example() -> None:
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    assert holds("StringLike", pattern, value) is True
    assert holds("ArnLike", pattern, value) is False


@pytest.mark.parametrize("operator", ["ArnNotEquals", "ArnNotLike"])
@pytest.mark.parametrize(
    ("values", "value", "expected"),
    [
        (SNS, SNS, False),
        ("arn:aws:sns:*:123456789012:*", SNS, False),
        ("arn:aws:sns:*:999999999999:*", SNS, True),
        (SNS, None, True),
    ],
)
def test_arn_negated(operator: str, values: Any, value: Any, expected: bool) -> None:
    assert holds(operator, values, value) is expected


@pytest.mark.parametrize(
    ("values", "value", "expected"),
    [
        ("true", None, True),
        ("true", "x", False),
        ("false", "x", True),
        ("false", None, False),
        (True, None, True),
        (["true", "false"], "x", True),
        (["true", "false"], None, True),
        ("true", [], True),  # an empty multivalued key counts as absent
        ("false", ["a"], True),
        ("true", "", False),  # an empty string is a value
    ],
)
def test_null(values: Any, value: Any, expected: bool) -> None:
    context = {} if value is None else {"k:x": value}
    assert (_decide("Null", "k:x", values, context) is Decision.ALLOW) is expected


# --- IfExists on every operator family ------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "values", "mismatch"),
    [
        ("StringEqualsIfExists", "a", "b"),
        ("StringNotEqualsIfExists", "a", "a"),
        ("StringEqualsIgnoreCaseIfExists", "a", "b"),
        ("StringNotEqualsIgnoreCaseIfExists", "a", "A"),
        ("StringLikeIfExists", "a*", "b"),
        ("StringNotLikeIfExists", "a*", "abc"),
        ("NumericEqualsIfExists", "1", 2),
        ("NumericNotEqualsIfExists", "1", 1),
        ("NumericLessThanIfExists", "1", 2),
        ("NumericLessThanEqualsIfExists", "1", 2),
        ("NumericGreaterThanIfExists", "1", 0),
        ("NumericGreaterThanEqualsIfExists", "1", 0),
        ("DateEqualsIfExists", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"),
        ("DateNotEqualsIfExists", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z"),
        ("DateLessThanIfExists", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"),
        ("DateLessThanEqualsIfExists", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"),
        ("DateGreaterThanIfExists", "2020-01-01T00:00:00Z", "2019-01-01T00:00:00Z"),
        ("DateGreaterThanEqualsIfExists", "2020-01-01T00:00:00Z", "2019-01-01T00:00:00Z"),
        ("BoolIfExists", "true", False),
        ("BinaryEqualsIfExists", "YQ==", b"b"),
        ("IpAddressIfExists", "10.0.0.0/8", "11.0.0.1"),
        ("NotIpAddressIfExists", "10.0.0.0/8", "10.0.0.1"),
        ("ArnEqualsIfExists", SNS, SNS + "x"),
        ("ArnLikeIfExists", SNS, SNS + "x"),
        ("ArnNotEqualsIfExists", SNS, SNS),
        ("ArnNotLikeIfExists", SNS, SNS),
    ],
)
def test_if_exists_is_true_when_missing_and_still_checks_present_values(
    operator: str, values: Any, mismatch: Any
) -> None:
    assert holds(operator, values, None) is True
    assert holds(operator, values, mismatch) is False


def test_deny_with_negated_if_exists_still_denies_when_missing() -> None:
    # IAM: "If you are using an "Effect": "Deny" element with a negated condition operator
    # like StringNotEqualsIfExists, the request is still denied even if the tag is missing."
    policy = identity(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringNotEqualsIfExists": {"aws:ResourceTag/env": "dev"}},
        },
    )
    assert policy.evaluate(Request("ec2:StopInstances", "*")) is Decision.DENY
    tagged = Request("ec2:StopInstances", "*", None, {"aws:ResourceTag/env": "dev"})
    assert policy.evaluate(tagged) is Decision.ALLOW


# --- set qualifiers ------------------------------------------------------------------------

TAGS = ["PostDateTime", "Message", "Tags"]


@pytest.mark.parametrize(
    ("operator", "values", "value", "expected"),
    [
        ("ForAllValues:StringEquals", TAGS, ["PostDateTime", "Message"], True),
        ("ForAllValues:StringEquals", TAGS, ["PostDateTime", "UserName"], False),
        ("ForAllValues:StringEquals", TAGS, None, True),  # missing key: true
        ("ForAllValues:StringEquals", TAGS, [], True),  # empty set: true
        ("ForAllValues:StringEquals", TAGS, "Message", True),  # a single value is a set of one
        ("ForAllValues:StringEquals", TAGS, "ID", False),
        (
            "ForAnyValue:StringEquals",
            ["ID", "PostDateTime"],
            ["UserName", "Message", "PostDateTime"],
            True,
        ),
        ("ForAnyValue:StringEquals", ["ID", "PostDateTime"], ["UserName"], False),
        ("ForAnyValue:StringEquals", ["ID"], None, False),  # missing key: false
        ("ForAnyValue:StringEquals", ["ID"], [], False),  # empty set: false
        ("ForAnyValue:StringEquals", ["ID"], "ID", True),
        # AWS's DenyRestrictedTags example for ForAllValues:StringNotLike
        ("ForAllValues:StringNotLike", "key1*", ["key1:legal"], False),
        ("ForAllValues:StringNotLike", "key1*", ["key1:hr", "key1:personnel"], False),
        ("ForAllValues:StringNotLike", "key1*", ["key2:audit"], True),
        ("ForAllValues:StringNotLike", "key1*", None, True),
        ("ForAllValues:StringNotLike", "key1*", ["key1:hr", "key2:audit"], False),
        ("ForAnyValue:StringNotLike", "key1*", ["key1:hr", "key2:audit"], True),
        ("ForAnyValue:StringNotLike", "key1*", ["key1:hr"], False),
        ("ForAnyValue:StringNotLike", "key1*", None, False),
        ("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "b"], False),
        ("ForAnyValue:StringNotEquals", ["a", "b"], ["a", "c"], True),
        ("ForAllValues:StringNotEquals", ["a", "b"], ["c", "d"], True),
        ("ForAllValues:StringNotEquals", ["a", "b"], ["c", "a"], False),
        ("ForAllValues:StringLike", ["Created*"], ["CreatedBy", "CreatedAt"], True),
        ("ForAllValues:StringEqualsIgnoreCase", ["abc"], ["ABC", "aBc"], True),
        ("ForAnyValue:NumericLessThan", "5", [7, 3], True),
        ("ForAllValues:NumericLessThan", "5", [7, 3], False),
        ("ForAnyValue:IpAddress", "10.0.0.0/8", ["192.168.0.1", "10.2.3.4"], True),
        (
            "ForAllValues:ArnLike",
            "arn:aws:iam::*:role/*",
            ["arn:aws:iam::1:role/a", "arn:aws:iam::2:role/b"],
            True,
        ),
        ("ForAnyValue:StringEqualsIfExists", ["ID"], None, True),
        ("ForAnyValue:StringEqualsIfExists", ["ID"], ["X"], False),
        ("ForAllValues:StringEqualsIfExists", ["ID"], None, True),
    ],
)
def test_set_operators(operator: str, values: Any, value: Any, expected: bool) -> None:
    assert holds(operator, values, value, key="aws:TagKeys") is expected


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("StringEquals", ["x", "a"], True),  # a multivalued key without qualifier: any value
        ("StringEquals", ["x", "y"], False),
        ("StringNotEquals", ["x", "a"], False),  # ... and its negation: no value matches
        ("StringNotEquals", ["x", "y"], True),
    ],
)
def test_operator_without_qualifier_on_multivalued_key(operator: str, value: Any, expected: bool) -> None:
    assert holds(operator, "a", value) is expected


# --- combination rules -------------------------------------------------------------------


def test_keys_and_operators_are_anded_values_ored() -> None:
    policy = identity(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:PrincipalTag/dept": ["eng", "ops"],
                    "aws:PrincipalTag/role": "admin",
                },
                "Bool": {"aws:SecureTransport": "true"},
            },
        }
    )

    def ctx(**kw: Any) -> Decision:
        return policy.evaluate(Request("s3:GetObject", "arn:aws:s3:::b", None, kw))

    full = {
        "aws:PrincipalTag/dept": "ops",
        "aws:PrincipalTag/role": "admin",
        "aws:SecureTransport": True,
    }
    assert ctx(**full) is Decision.ALLOW
    assert ctx(**{**full, "aws:PrincipalTag/dept": "sales"}) is Decision.NOT_APPLICABLE
    assert ctx(**{**full, "aws:PrincipalTag/role": "dev"}) is Decision.NOT_APPLICABLE
    assert ctx(**{**full, "aws:SecureTransport": False}) is Decision.NOT_APPLICABLE


def test_condition_keys_are_case_insensitive_values_are_not() -> None:
    assert holds("StringEquals", "Alice", "Alice", key="AWS:UserName") is True
    policy = identity(
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:username": "Alice"}},
        }
    )
    assert policy.evaluate(Request("s3:GetObject", "*", None, {"AWS:USERNAME": "Alice"})) is Decision.ALLOW
    assert policy.evaluate(Request("s3:GetObject", "*", None, {"aws:username": "alice"})) is Decision.NOT_APPLICABLE


def test_unknown_operator_with_empty_block_is_inert() -> None:
    policy = identity({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Whatever": {}}})
    assert policy.evaluate(Request("s3:GetObject", "*")) is Decision.ALLOW


def test_empty_value_list() -> None:
    assert holds("StringEquals", [], "a") is False
    assert holds("StringNotEquals", [], "a") is True


def test_none_values_in_context_mean_missing() -> None:
    assert _decide("StringEquals", "k:x", "a", {"k:x": None}) is Decision.NOT_APPLICABLE
    assert _decide("Null", "k:x", "true", {"k:x": None}) is Decision.ALLOW
