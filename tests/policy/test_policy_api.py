"""Public API shape: caching, immutability, no parsing at evaluate time, helpers."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from datetime import UTC, datetime

import pytest

import stsd.policy as policy_pkg
from stsd.policy import (
    AuthzReason,
    Decision,
    Policy,
    PolicyKind,
    PrincipalRef,
    Request,
    ResourceGrant,
    authorize,
    parse_policy,
)
from stsd.policy.dates import iso, parse_date, to_epoch
from tests.policy.policy_helpers import ACCOUNT, doc, identity, trust, user

TRUST_TEXT = doc(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/Caller"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "abc"}},
    }
)


def test_public_names() -> None:
    for name in (
        "PolicyKind",
        "Policy",
        "parse_policy",
        "Decision",
        "Request",
        "PrincipalRef",
        "ResourceGrant",
        "authorize",
        "AuthzResult",
    ):
        assert hasattr(policy_pkg, name)
    assert {g.name for g in ResourceGrant} >= {"DENY", "NOT_APPLICABLE", "ALLOW_PRINCIPAL", "ALLOW_ACCOUNT"}
    assert {d.name for d in Decision} == {"ALLOW", "DENY", "NOT_APPLICABLE"}


def test_parse_is_cached_per_text_and_kind() -> None:
    a = parse_policy(TRUST_TEXT, PolicyKind.TRUST)
    assert parse_policy(TRUST_TEXT, PolicyKind.TRUST) is a
    info = parse_policy.cache_info()
    assert info.hits == 1 and info.misses == 1
    permissions = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    assert parse_policy(permissions, PolicyKind.IDENTITY) is not parse_policy(permissions, PolicyKind.SESSION)
    assert parse_policy(permissions, PolicyKind.IDENTITY, managed=True).kind is PolicyKind.IDENTITY
    assert parse_policy.cache_info().maxsize is not None  # bounded


def test_policy_is_immutable() -> None:
    p = parse_policy(TRUST_TEXT, PolicyKind.TRUST)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.text = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.statements[0].deny = True  # type: ignore[misc]
    assert isinstance(p.statements, tuple)
    assert p.text == TRUST_TEXT and p.kind is PolicyKind.TRUST and p.version == "2012-10-17"


def test_evaluate_neither_parses_json_nor_compiles_regexes(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = identity(
        {
            "Effect": "Allow",
            "Action": ["s3:Get*", "iam:List?"],
            "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::c"],
            "Condition": {
                "StringLike": {"s3:prefix": ["home/*"]},
                "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                "ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:t"},
                "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
            },
        }
    )
    request = Request(
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        None,
        {
            "s3:prefix": "home/x",
            "aws:SourceIp": "10.1.1.1",
            "aws:SourceArn": "arn:aws:sns:us-east-1:1:t",
            "aws:CurrentTime": datetime(2024, 1, 1, tzinfo=UTC),
        },
    )

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("work done at evaluate time")

    monkeypatch.setattr(json, "loads", boom)
    monkeypatch.setattr(re, "compile", boom)
    assert policy.evaluate(request) is Decision.ALLOW


def test_request_normalises_once() -> None:
    r = Request("STS:AssumeRole", "arn:AWS:IAM::1:role/Name", None, {"AWS:SourceIp": "1.2.3.4", "x:y": [], "z": None})
    assert r.action == "STS:AssumeRole"  # the caller's value is kept as given
    assert r._action_lc == "sts:assumerole"
    assert r._resource_norm == "arn:aws:iam::1:role/Name"
    assert r._ctx == {"aws:sourceip": "1.2.3.4"}


def test_request_normalises_mixed_values() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    r = Request("a:b", "*", None, {"K:Time": now, "K:List": ["x", "y"], "K:Set": {"z"}, "K:Empty": (), "K:N": 3})
    assert r._ctx == {"k:time": now, "k:list": ("x", "y"), "k:set": ("z",), "k:n": 3}


def test_principal_ref_accepts_any_iterable_of_arns() -> None:
    p = PrincipalRef(ACCOUNT, {"arn:aws:iam::1:user/a"})  # type: ignore[arg-type]
    assert p.arns == frozenset({"arn:aws:iam::1:user/a"})
    assert hash(p) == hash(PrincipalRef(ACCOUNT, frozenset({"arn:aws:iam::1:user/a"})))


def test_minified_size_ignores_whitespace_outside_strings() -> None:
    text = (
        '{\n  "Version": "2012-10-17",\n  "Statement": '
        '{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::a b"}\n}'
    )
    p = parse_policy(text, PolicyKind.SESSION)
    minified = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::a b"}}'
    assert p.minified == minified
    assert p.size == len(minified)


def test_minify_handles_escaped_quotes() -> None:
    from stsd.policy.model import minify

    assert minify('{ "a" : "x\\" y" , "b" : 1 }') == '{"a":"x\\" y","b":1}'


def test_parallel_evaluation() -> None:
    p = trust(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ACCOUNT},
            "Action": "sts:AssumeRole",
            "Condition": {"StringLike": {"k:v": "${aws:username}-*"}},
        }
    )
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(300):
                ok = Request(
                    "sts:AssumeRole", "arn:aws:iam::1:role/T", user(), {"k:v": f"u{n}-{i}", "aws:username": f"u{n}"}
                )
                bad = Request(
                    "sts:AssumeRole", "arn:aws:iam::1:role/T", user(), {"k:v": f"x-{i}", "aws:username": f"u{n}"}
                )
                assert p.grant(ok) is ResourceGrant.ALLOW_ACCOUNT
                assert p.grant(bad) is ResourceGrant.NOT_APPLICABLE
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_principals_helper_for_existence_checks() -> None:
    p = parse_policy(TRUST_TEXT, PolicyKind.TRUST)
    assert p.principals() == [("AWS", f"arn:aws:iam::{ACCOUNT}:role/Caller")]


def test_service_and_idp_callers_are_decided_by_the_trust_policy_alone() -> None:
    ec2 = PrincipalRef(ACCOUNT, frozenset(), service="ec2.amazonaws.com")
    t = trust({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
    for same_account in (True, False):
        r = authorize(
            Request("sts:AssumeRole", "arn:aws:iam::1:role/T", ec2, {}),
            identity=[],
            resource=[t],
            same_account=same_account,
            resource_required=True,
        )
        assert r.allowed and r.reason is AuthzReason.ALLOWED_BY_RESOURCE
    idp = PrincipalRef(ACCOUNT, frozenset(), federated="accounts.google.com")
    r = authorize(
        Request("sts:AssumeRoleWithWebIdentity", "arn:aws:iam::1:role/T", idp, {}),
        identity=[],
        resource=[t],
        same_account=False,
        resource_required=True,
    )
    assert not r.allowed and r.reason is AuthzReason.NO_RESOURCE_ALLOW
    assert r.explanation("sts:AssumeRoleWithWebIdentity") == (
        "because no role trust policy allows the sts:AssumeRoleWithWebIdentity action"
    )


def test_policy_objects_are_usable_as_dict_keys() -> None:
    p = parse_policy(TRUST_TEXT, PolicyKind.TRUST)
    assert {p: 1}[p] == 1
    assert isinstance(p, Policy)


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-06-01T12:00:00Z", datetime(2020, 6, 1, 12, tzinfo=UTC).timestamp()),
        ("2020-06-01t12:00:00z", datetime(2020, 6, 1, 12, tzinfo=UTC).timestamp()),
        ("2020-06-01T12:00:00.25Z", datetime(2020, 6, 1, 12, tzinfo=UTC).timestamp() + 0.25),
        ("2020-06-01T14:30:00+02:30", datetime(2020, 6, 1, 12, tzinfo=UTC).timestamp()),
        ("2020-06-01T14:30:00+0230", datetime(2020, 6, 1, 12, tzinfo=UTC).timestamp()),
        ("2020-06-01T12:00Z", datetime(2020, 6, 1, 12, tzinfo=UTC).timestamp()),
        ("2020-06-01T12", datetime(2020, 6, 1, 12, tzinfo=UTC).timestamp()),
        ("2020-06-01", datetime(2020, 6, 1, tzinfo=UTC).timestamp()),
        ("2020-06", datetime(2020, 6, 1, tzinfo=UTC).timestamp()),
        ("1591012800", 1591012800.0),
        ("0", 0.0),
        ("1969-12-31T23:59:59Z", -1.0),
        ("2016-12-13t2:00:00.593194+23", datetime(2016, 12, 12, 3, tzinfo=UTC).timestamp() + 0.593194),
        ("sdfdsf", None),
        ("234-13", None),
        ("2020-02-30T25:00:00Z", None),
        ("2020-06-01T12:00:00+1", None),
        ("1.5", None),
        ("-", None),
        ("T12:00", None),
        ("9223372036854775808", None),
    ],
)
def test_parse_date(text: str, expected: float | None) -> None:
    got = parse_date(text)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_to_epoch_and_iso() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert to_epoch(moment) == moment.timestamp()
    assert to_epoch(moment.replace(tzinfo=None)) == moment.timestamp()
    assert to_epoch(10) == 10.0
    assert to_epoch("1.5") == 1.5
    assert to_epoch(True) is None
    assert to_epoch(object()) is None
    assert iso(moment) == "2024-01-02T03:04:05Z"
