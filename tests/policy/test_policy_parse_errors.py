"""MalformedPolicyDocument messages, byte for byte.

The IDENTITY/managed table reproduces the cases IAM's CreatePolicy was observed to answer
(moto's AWS-validated table), plus the kind-specific rules (trust/resource/session).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stsd.errors import AwsError
from stsd.policy import PolicyKind, parse_policy

S3 = "arn:aws:s3:::example_bucket"
V = "2012-10-17"


def _stmt(**kw: Any) -> dict[str, Any]:
    return kw


def _allow(**kw: Any) -> dict[str, Any]:
    return {"Effect": "Allow", **kw}


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _message(document: Any, kind: PolicyKind = PolicyKind.IDENTITY, managed: bool = True) -> str:
    with pytest.raises(AwsError) as info:
        parse_policy(_text(document), kind, managed=managed)
    err = info.value
    assert err.code == "MalformedPolicyDocument"
    assert err.status == 400
    assert err.trail_code == "MalformedPolicyDocumentException"
    return err.message


INVALID_JSON = "This policy contains invalid Json"
SYNTAX = "Syntax errors in policy."
VERSION = "Policy document must be version 2012-10-17 or greater."
LEGACY = "The policy failed legacy parsing"
PREFIX = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON = "Actions/Condition can contain only one colon."
NEED_ACTIONS = "Policy statement must contain actions."
NEED_RESOURCES = "Policy statement must contain resources."
IAM_PATH = (
    'IAM resource path must either be "*" or start with user/, federated-user/, role/, group/, '
    "instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, "
    "oidc-provider/, report/, access-report/."
)


def _cond(condition: Any, **extra: Any) -> dict[str, Any]:
    return {
        "Version": V,
        "Statement": _allow(Action="s3:ListBucket", Resource=S3, Condition=condition, **extra),
    }


MANAGED_CASES: list[tuple[Any, str]] = [
    ("This is not a json document", INVALID_JSON),
    ("", INVALID_JSON),
    ('{"Version": "2012-10-17", "Statement": [}', INVALID_JSON),
    ({"Statement": _allow(Action="s3:ListBucket", Resource=S3)}, VERSION),
    ({"Version": "2008-10-17", "Statement": _allow(Action="s3:ListBucket", Resource=S3)}, VERSION),
    ({"Version": "2013-10-17", "Statement": _allow(Action="s3:ListBucket", Resource=S3)}, SYNTAX),
    ({"Version": 2012, "Statement": _allow(Action="s3:ListBucket", Resource=S3)}, SYNTAX),
    ({"Version": V}, SYNTAX),
    ({"Version": V, "Statement": ["afd"]}, SYNTAX),
    ({"Version": V, "Statement": []}, SYNTAX),
    ({"Version": V, "Statement": "x"}, SYNTAX),
    (
        {"Version": V, "Statement": _allow(Action="s3:ListBucket", Resource=S3), "Extra": "v"},
        SYNTAX,
    ),
    ({"Version": V, "Statement": _allow(Action="s3:ListBucket", Resource=S3, Extra="v")}, SYNTAX),
    (
        {"Version": V, "Id": ["cd3a"], "Statement": _allow(Action="s3:ListBucket", Resource=S3)},
        SYNTAX,
    ),
    ({"Version": V, "Id": {}, "Statement": _allow(Action="s3:ListBucket", Resource=S3)}, SYNTAX),
    (
        {"Version": V, "Statement": _stmt(Effect="invalid", Action="s3:ListBucket", Resource=S3)},
        SYNTAX,
    ),
    ({"Version": V, "Statement": _allow(Action="invalid", Resource=S3)}, PREFIX),
    ({"Version": V, "Statement": _allow(NotAction="", Resource=S3)}, PREFIX),
    (
        {"Version": V, "Statement": _allow(Action="a a:ListBucket", Resource=S3)},
        "Vendor a a is not valid",
    ),
    ({"Version": V, "Statement": _allow(Action="s3:List:Bucket", Resource=S3)}, ONE_COLON),
    (
        {
            "Version": V,
            "Statement": [
                _allow(Action="s3s:ListBucket", Resource=S3),
                _allow(Action="s:3s:ListBucket", Resource=S3),
            ],
        },
        ONE_COLON,
    ),
    (
        {"Version": V, "Statement": _allow(Action="s3:ListBucket", Resource="invalid resource")},
        'Resource invalid resource must be in ARN format or "*".',
    ),
    (
        {
            "Version": V,
            "Statement": [
                _allow(
                    Sid="EnableDisableHongKong",
                    Action=["account:EnableRegion", "account:DisableRegion"],
                    Resource="",
                    Condition={"StringEquals": {"account:TargetRegion": "ap-east-1"}},
                ),
                _allow(Sid="ViewConsole", Action=["aws-portal:ViewAccount"], Resource=""),
            ],
        },
        'Resource  must be in ARN format or "*".',
    ),
    (
        {"Version": V, "Statement": _allow(Action="s:3:ListBucket", Resource="sdfsadf")},
        'Resource sdfsadf must be in ARN format or "*".',
    ),
    (
        {"Version": V, "Statement": _allow(Action="s3:ListBucket", Resource=["adf"])},
        'Resource adf must be in ARN format or "*".',
    ),
    (
        {"Version": V, "Statement": _allow(Action="s3:ListBucket", Resource="")},
        'Resource  must be in ARN format or "*".',
    ),
    (
        {"Version": V, "Statement": _allow(NotAction="s3s:ListBucket", Resource="a:bsdfdsafsad")},
        'Partition "bsdfdsafsad" is not valid for resource "arn:bsdfdsafsad:*:*:*:*".',
    ),
    (
        {"Version": V, "Statement": _allow(NotAction="s3s:ListBucket", Resource="a:b:cadfsdf")},
        'Partition "b" is not valid for resource "arn:b:cadfsdf:*:*:*".',
    ),
    (
        {"Version": V, "Statement": _allow(NotAction="s3s:ListBucket", Resource="a:b:c:d:e:f:g:h")},
        'Partition "b" is not valid for resource "arn:b:c:d:e:f:g:h".',
    ),
    (
        {
            "Version": V,
            "Statement": _allow(Action="s3:ListBucket", Resource="aws:s3:::example_bucket"),
        },
        'Partition "s3" is not valid for resource "arn:s3:::example_bucket:*".',
    ),
    (
        {
            "Version": V,
            "Statement": _allow(
                Action="s3:ListBucket",
                Resource=["arn:error:s3:::example_bucket", "arn:error:s3::example_bucket"],
            ),
        },
        'Partition "error" is not valid for resource "arn:error:s3:::example_bucket".',
    ),
    ({"Version": V, "Statement": _allow(Action="s3:ListBucket")}, NEED_RESOURCES),
    ({"Version": V, "Statement": _allow(Action="s3:ListBucket", Resource=[])}, NEED_RESOURCES),
    ({"Version": V, "Statement": _allow(Action="invalid")}, PREFIX),
    ({"Version": V, "Statement": _allow(Resource=S3)}, NEED_ACTIONS),
    ({"Version": V, "Statement": _stmt(Action="s3:ListBucket", Resource=S3)}, SYNTAX),
    ({"Version": V, "Statement": _allow()}, NEED_ACTIONS),
    ({"Version": V, "Statement": _allow(Action=[], Resource=S3)}, NEED_ACTIONS),
    (
        {
            "Version": V,
            "Statement": [_stmt(Effect="Deny"), _allow(Action="s3:ListBucket", Resource=S3)],
        },
        NEED_ACTIONS,
    ),
    (
        {
            "Version": V,
            "Statement": _allow(Action="s3:ListBucket", Resource="arn:aws:iam:::example_bucket"),
        },
        IAM_PATH,
    ),
    (
        {
            "Version": V,
            "Statement": _allow(Action="s3:ListBucket", Resource="arn:aws:s3::example_bucket"),
        },
        LEGACY,
    ),
    ({"Version": V, "Statement": _allow(Resource="arn:aws:s3::example_bucket")}, LEGACY),
    (
        {"Version": V, "Statement": _allow(Action="s3:ListBucket", Resource="arn:aws")},
        "Resource vendor must be fully qualified and cannot contain regexes.",
    ),
    ({"Version": V, "Statement": _allow(Action="s3:ListBucket", Resource={"a": S3})}, SYNTAX),
    (
        {
            "Version": V,
            "Statement": _stmt(Effect="Deny", Action="s3:ListBucket", Resource=["adfdf", {}]),
        },
        SYNTAX,
    ),
    (
        {"Version": V, "Statement": _allow(NotAction="s3:ListBucket", Resource=S3, NotResource=[])},
        SYNTAX,
    ),
    ({"Version": V, "Statement": _stmt(Effect="Deny", Action=[[]], Resource=S3)}, SYNTAX),
    (
        {"Version": V, "Statement": _allow(NotAction="s3s:ListBucket", Action=[], Resource=S3)},
        SYNTAX,
    ),
    ({"Version": V, "Statement": _allow(Action={}, Resource=S3)}, SYNTAX),
    ({"Version": V, "Statement": _allow(Action=[None], Resource=S3)}, SYNTAX),
    (_cond([]), SYNTAX),
    (_cond("a"), SYNTAX),
    (_cond({"a": "b"}), SYNTAX),
    (_cond({"DateGreaterThan": "b"}), SYNTAX),
    (_cond({"DateGreaterThan": []}), SYNTAX),
    (_cond({"DateGreaterThan": {"a": {}}}), SYNTAX),
    (_cond({"StringEquals": {"a": None}}), SYNTAX),
    (_cond({"StringEquals": {"a": [["x"]]}}), SYNTAX),
    (
        {"Version": V, "Statement": _allow(Resource=S3, Condition={"DateGreaterThan": {"a": {}}})},
        SYNTAX,
    ),
    (_cond({"x": {"a": "1"}}), SYNTAX),
    (_cond({"stringequals": {"a": "1"}}), SYNTAX),
    (_cond({"ForAnyValue::StringEqualsIfExists": {"a": "asf"}}), SYNTAX),
    (_cond([{"ForAllValues:StringEquals": {"aws:TagKeys": "Department"}}]), SYNTAX),
    (
        {
            "Version": V,
            "Statement": _allow(Action="s3:ListBucket", Resource="arn:aws:iam:us-east-1::example_bucket"),
        },
        "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information.",
    ),
    (
        {
            "Version": V,
            "Statement": _allow(Action="s3:ListBucket", Resource="arn:aws:s3:us-east-1::example_bucket"),
        },
        "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information.",
    ),
    ({"Version": V, "Statement": _allow(Sid={}, Action="s3:ListBucket", Resource=S3)}, SYNTAX),
    ({"Version": V, "Statement": _allow(Sid=[], Action="s3:ListBucket", Resource=S3)}, SYNTAX),
    (
        {
            "Version": V,
            "Statement": [
                _allow(Sid="sdf", Action="s3:ListBucket", Resource=S3),
                _allow(Sid="sdf"),
            ],
        },
        "Statement IDs (SID) in a single policy must be unique.",
    ),
    (
        {"Statement": [_allow(Sid="sdf", Action="s3:ListBucket", Resource=S3), _allow(Sid="sdf")]},
        VERSION,
    ),
    (
        {
            "Version": V,
            "Statement": _allow(NotAction="s3:ListBucket", Action="iam:dsf", Resource=S3),
        },
        SYNTAX,
    ),
    (
        {"Version": V, "Statement": _allow(Action="s3:ListBucket", Resource=S3, NotResource="*")},
        SYNTAX,
    ),
    (
        {"Version": V, "Statement": _stmt(Effect="denY", Action="s3:ListBucket", Resource=S3)},
        LEGACY,
    ),
    (_cond({"DateGreaterThan": {"a": "sdfdsf"}}), LEGACY),
    (
        {"Statement": _allow(Action="s3:ListBucket", Resource=S3, Condition={"DateGreaterThan": {"a": "x"}})},
        VERSION,
    ),
    ({"Statement": _stmt(Effect="denY", Action="s3:ListBucket", Resource=S3)}, VERSION),
    ({"Version": V, "Statement": _allow(Condition={"DateGreaterThan": {"a": "sdfdsf"}})}, LEGACY),
    (
        {
            "Version": V,
            "Statement": _allow(NotAction="s3:ListBucket", Resource="arn:aws::::example_bucket"),
        },
        LEGACY,
    ),
    (
        {
            "Version": V,
            "Statement": _stmt(Effect="allow", Resource="arn:aws:s3:us-east-1::example_bucket"),
        },
        LEGACY,
    ),
    (
        {
            "Version": V,
            "Statement": [
                _stmt(Sid="sdf", Effect="aLLow", Action="s3:ListBucket", Resource=S3),
                _allow(Sid="sdf"),
            ],
        },
        LEGACY,
    ),
    (
        {
            "Version": V,
            "Statement": _allow(Action="s3:ListBucket", NotResource="arn:aws:s3::example_bucket"),
        },
        LEGACY,
    ),
    (_cond({"DateLessThanEquals": {"a": "234-13"}}), LEGACY),
    (_cond({"DateLessThanEquals": {"a": "2016-12-13t2:00:00.593194+1"}}), LEGACY),
    (_cond({"DateLessThanEquals": {"a": "2016-12-13t2:00:00.1999999999+10:59"}}), LEGACY),
    (_cond({"DateLessThan": {"a": "9223372036854775808"}}), LEGACY),
    (_cond({"DateLessThan": {"a": True}}), LEGACY),
    (
        {
            "Version": V,
            "Statement": _allow(
                Action="s3:ListBucket",
                Resource="arn:error:s3:::example_bucket",
                Condition={"DateGreaterThan": {"a": "sdfdsf"}},
            ),
        },
        LEGACY,
    ),
    (
        {"Version": V, "Statement": _allow(Action="s3:ListBucket", Resource="arn:aws::fdsasf")},
        LEGACY,
    ),
    # documents that are JSON but not objects
    ("[]", SYNTAX),
    ('"policy"', SYNTAX),
    ("42", SYNTAX),
    ("null", SYNTAX),
    # JSON oddities Python would otherwise accept
    ('{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": []}', INVALID_JSON),
    ('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Effect": "Deny"}}', INVALID_JSON),
    ('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": NaN}}', INVALID_JSON),
    ("[" * 100_000, INVALID_JSON),
]


@pytest.mark.parametrize(("document", "message"), MANAGED_CASES)
def test_managed_policy_errors(document: Any, message: str) -> None:
    assert _message(document) == message


VALID = [
    {"Version": V, "Statement": _allow(Action="s3:ListBucket", Resource=[S3])},
    {"Version": V, "Statement": _allow(Action="iam: asdf safdsf af ", Resource=S3)},
    {"Version": V, "Statement": _allow(Action="s3:ListBucket", Resource=[S3, "*"])},
    {"Version": V, "Statement": _allow(Action="*", Resource=S3)},
    {"Version": V, "Statement": [_allow(Action="s3:ListBucket", Resource=S3)]},
    {"Version": V, "Statement": _allow(Action="fsx:ListBucket", Resource=S3)},
    {
        "Version": V,
        "Statement": _allow(Action="s3:ListBucket", Resource="arn:aws:iam:::user/example_bucket"),
    },
    {
        "Version": V,
        "Statement": _allow(Action="s3:ListBucket", Resource="arn:aws:s33:::example_bucket"),
    },
    {"Version": V, "Statement": _allow(Action="s3:ListBucket", Resource="arn:aws:fdsasf")},
    {
        "Version": V,
        "Statement": _allow(Action="s3:ListBucket", Resource="arn:aws:cloudwatch:us-east-1::x"),
    },
    {
        "Version": V,
        "Statement": _allow(Action="s3:ListBucket", Resource="arn:aws:invalid-service:::x"),
    },
    _cond({}),
    _cond({"ForAllValues:StringEquals": {"aws:TagKeys": "Department"}}),
    _cond({"DateGreaterThan": {"aws:CurrentTime": "2017-07-01T00:00:00Z"}}),
    _cond({"DateGreaterThan": {}}),
    _cond({"DateGreaterThan": {"a": []}}),
    _cond({"a": {}}),
    _cond({"x": {}, "y": {}}),
    _cond({"DateGreaterThan": {"a": "01T"}}),
    _cond({"StringEqualsIfExists": {"a": "asf"}}),
    _cond({"ForAnyValue:StringEqualsIfExists": {"a": "asf"}}),
    _cond({"DateLessThanEquals": {"a": "2019-07-01T13:20:15Z"}}),
    _cond({"DateLessThanEquals": {"a": "2016-12-13T21:20:37.593194+00:00"}}),
    _cond({"DateLessThanEquals": {"a": "2016-12-13t2:00:00.593194+23"}}),
    _cond({"DateLessThan": {"a": "-292275054"}}),
    _cond({"NumericLessThanEquals": {"s3:max-keys": 10}}),
    _cond({"Bool": {"aws:SecureTransport": False}}),
    {"Version": V, "Statement": _allow(NotAction="s3:ListBucket", NotResource="*")},
    {"Version": V, "Id": "sdfsdfsdf", "Statement": _allow(NotAction="s3:ListBucket", Resource=S3)},
    {
        "Version": V,
        "Statement": _allow(Action="aaaaaadsfdsafsadfsadfaaaaa:ListBucket", Resource=S3),
    },
    {"Version": V, "Statement": _allow(Action="s3-s:ListBucket", Resource=S3)},
    {"Version": V, "Statement": _allow(Action="s3.s:ListBucket", Resource=S3)},
    {"Version": V, "Statement": _allow(Action="*:ListBucket", Resource=S3)},
    {
        "Version": V,
        "Statement": [
            _allow(Sid="", Action="rds:*", Resource=["arn:aws:rds:region:*:*"]),
            _allow(Sid="", Action=["rds:Describe*"], Resource=["*"]),
        ],
    },
    {
        "Version": V,
        "Statement": _allow(
            Action=["s3:*"],
            Resource=[
                "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point",
                "arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point/object/*",
            ],
        ),
    },
    {
        "Version": V,
        "Statement": _allow(Action="iam:GetUser", Resource="arn:aws:iam::*:user/${aws:username}"),
    },
    {"Version": V, "Statement": _allow(Action="s3:GetObject", Resource=[S3, None])},
]


@pytest.mark.parametrize("document", VALID)
def test_valid_managed_policies(document: Any) -> None:
    policy = parse_policy(json.dumps(document), PolicyKind.IDENTITY, managed=True)
    assert policy.kind is PolicyKind.IDENTITY


@pytest.mark.parametrize("version", [None, "2008-10-17"])
def test_inline_policies_accept_old_or_missing_version(version: str | None) -> None:
    body: dict[str, Any] = {"Statement": _allow(Action="s3:ListBucket", Resource=S3)}
    if version:
        body["Version"] = version
    policy = parse_policy(json.dumps(body), PolicyKind.IDENTITY)
    assert policy.version == version


# --- kind-specific rules ---------------------------------------------------------------------

TRUST_OK = {
    "Effect": "Allow",
    "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole",
}


def test_trust_policy_with_resource() -> None:
    document = {"Version": V, "Statement": [dict(TRUST_OK, Resource="*")]}
    assert _message(document, PolicyKind.TRUST, managed=False) == "Has prohibited field Resource"


def test_trust_policy_with_not_resource() -> None:
    document = {"Version": V, "Statement": [dict(TRUST_OK, NotResource="*")]}
    assert _message(document, PolicyKind.TRUST, managed=False) == "Has prohibited field NotResource"


def test_trust_policy_without_principal() -> None:
    document = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    assert _message(document, PolicyKind.TRUST, managed=False) == "Missing required field Principal"


def test_resource_policy_without_principal() -> None:
    document = {"Version": V, "Statement": [_allow(Action="s3:GetObject", Resource=S3)]}
    assert _message(document, PolicyKind.RESOURCE, managed=False) == "Missing required field Principal"


def test_resource_policy_needs_resources() -> None:
    document = {"Version": V, "Statement": [_allow(Principal="*", Action="s3:GetObject")]}
    assert _message(document, PolicyKind.RESOURCE, managed=False) == NEED_RESOURCES


NO_PRINCIPALS = (
    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
    "The passed in policy has a statement with no principals!"
)


@pytest.mark.parametrize("principal", [{}, {"AWS": []}, {"AWS": [], "Service": []}])
def test_trust_policy_with_empty_principal(principal: Any) -> None:
    document = {"Version": V, "Statement": [dict(TRUST_OK, Principal=principal)]}
    assert _message(document, PolicyKind.TRUST, managed=False) == NO_PRINCIPALS


@pytest.mark.parametrize(
    ("principal", "message"),
    [
        ({"AWS": "foo"}, 'Invalid principal in policy: "AWS":"foo"'),
        ({"AWS": "12345678901"}, 'Invalid principal in policy: "AWS":"12345678901"'),
        (
            {"AWS": "arn:aws:iam::111122223333:role/*"},
            'Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:role/*"',
        ),
        (
            {"AWS": "arn:aws:iam::111122223333:group/devs"},
            'Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:group/devs"',
        ),
        (
            {"AWS": "arn:aws:sts::111122223333:assumed-role/R/*"},
            'Invalid principal in policy: "AWS":"arn:aws:sts::111122223333:assumed-role/R/*"',
        ),
        ({"Service": "amazonaws.com"}, 'Invalid principal in policy: "SERVICE":"amazonaws.com"'),
        ({"Service": "*"}, 'Invalid principal in policy: "SERVICE":"*"'),
        ({"Federated": "*"}, 'Invalid principal in policy: "FEDERATED":"*"'),
        (
            {"AWS": ["arn:aws:iam::111122223333:root", "nope"]},
            'Invalid principal in policy: "AWS":"nope"',
        ),
    ],
)
def test_invalid_principals(principal: Any, message: str) -> None:
    document = {"Version": V, "Statement": [dict(TRUST_OK, Principal=principal)]}
    assert _message(document, PolicyKind.TRUST, managed=False) == message


@pytest.mark.parametrize(
    "principal",
    ["arn:aws:iam::111122223333:root", "lowercase", {"aws": "*"}, {"AWS": 1}, {"AWS": [None]}, 5],
)
def test_principal_shape_errors(principal: Any) -> None:
    # A bare string other than "*", unknown/lower-case types and non-string values: grammar.
    document = {"Version": V, "Statement": [dict(TRUST_OK, Principal=principal)]}
    assert _message(document, PolicyKind.TRUST, managed=False) == SYNTAX


@pytest.mark.parametrize("kind", [PolicyKind.IDENTITY, PolicyKind.SESSION])
@pytest.mark.parametrize("element", ["Principal", "NotPrincipal"])
def test_identity_and_session_policies_reject_principals(kind: PolicyKind, element: str) -> None:
    document = {
        "Version": V,
        "Statement": [
            {
                "Sid": "AllowUploads",
                "Effect": "Allow",
                element: {"AWS": "*"},
                "Action": "s3:PutObject",
                "Resource": S3,
            }
        ],
    }
    assert _message(document, kind, managed=False) == "Policy document should not specify a principal."


def test_principal_and_not_principal_together() -> None:
    document = {"Version": V, "Statement": [dict(TRUST_OK, NotPrincipal={"AWS": "*"})]}
    assert _message(document, PolicyKind.TRUST, managed=False) == SYNTAX


def test_session_policy_without_resources() -> None:
    document = {"Version": V, "Statement": [_allow(Action="s3:GetObject")]}
    assert _message(document, PolicyKind.SESSION, managed=False) == NEED_RESOURCES


def test_non_string_text_is_invalid_json() -> None:
    with pytest.raises(AwsError) as info:
        parse_policy(b"{}", PolicyKind.IDENTITY)  # type: ignore[arg-type]
    assert info.value.message == INVALID_JSON


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": "111122223333"},
        {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws-cn:iam::111122223333:root"]},
        {"AWS": "arn:aws:iam::111122223333:user/path/to/alice"},
        {"AWS": "arn:aws:iam::111122223333:role/service-role/R"},
        {"AWS": "arn:aws:sts::111122223333:assumed-role/R/session@example.com"},
        {"AWS": "arn:aws:sts::111122223333:federated-user/bob"},
        {"AWS": "AROAEXAMPLEROLEIDXYZ"},
        {
            "Service": [
                "ec2.amazonaws.com",
                "states.us-east-1.amazonaws.com",
                "ec2.amazonaws.com.cn",
            ]
        },
        {"Federated": "arn:aws:iam::111122223333:saml-provider/ADFS"},
        {"Federated": "accounts.google.com"},
        {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
    ],
)
def test_valid_principals(principal: Any) -> None:
    document = {"Version": "2008-10-17", "Statement": [dict(TRUST_OK, Principal=principal)]}
    assert parse_policy(json.dumps(document), PolicyKind.TRUST).kind is PolicyKind.TRUST


def test_trust_field_rules_come_before_resource_format() -> None:
    document = {"Version": V, "Statement": [dict(TRUST_OK, Resource="not-an-arn")]}
    assert _message(document, PolicyKind.TRUST, managed=False) == "Has prohibited field Resource"


def test_missing_principal_comes_before_action_prefix() -> None:
    document = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "AssumeRole"}]}
    assert _message(document, PolicyKind.TRUST, managed=False) == "Missing required field Principal"


def test_principal_values_are_checked_last() -> None:
    document = {"Version": V, "Statement": [dict(TRUST_OK, Principal={"AWS": "bad"}, Action="nope")]}
    assert _message(document, PolicyKind.TRUST, managed=False) == PREFIX
