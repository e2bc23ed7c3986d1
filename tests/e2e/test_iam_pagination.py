"""IAM MaxItems/Marker pagination on every paginated IAM List* action, through boto3, its
paginators and the AWS CLI, against a real server.

AWS's documented behaviour (IAM API reference, every List* action): MaxItems defaults to 100
and is 1..1000; when more items exist IsTruncated is true and Marker tells the next call where
to start; the output shape's members are the list, IsTruncated, Marker (in that order). The
validation texts are IAM's valueless model texts. "Invalid Marker." for a marker that does not
decode is stsd's choice (not from a recorded AWS response; see stsd.actions.iam.pagination).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from stsd.testing import StsdServer
from tests.conftest import run_aws_cli
from tests.e2e.test_iam_mfa import enable, new_device
from tests.e2e.test_iam_support import ACCOUNT_A, ACCOUNT_B, allow, coral, expect_error, trust, unique

MSG_INVALID_MARKER = "Invalid Marker."
TRUST = trust({"Service": "ec2.amazonaws.com"})


def prefix() -> str:
    return f"/pg{uuid.uuid4().hex[:10]}/"


def lower_sorted(names: list[str]) -> list[str]:
    return sorted(names, key=str.lower)


def make_roles(iam: Any, path: str, names: list[str]) -> None:
    for name in names:
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST)


def role_names(response: dict) -> list[str]:
    return [r["RoleName"] for r in response["Roles"]]


@pytest.fixture(scope="module")
def raw_iam(server: StsdServer) -> Any:
    """A client that sends what it is given (botocore itself refuses MaxItems=0)."""
    return server.client("iam", server.admins[ACCOUNT_A], parameter_validation=False)


# --- pages of exact sizes -----------------------------------------------------------------
def test_list_roles_pages_of_exact_sizes(iam_a):
    path = prefix()
    names = [f"{c}{unique('r')}" for c in "bDaEcgF"]
    make_roles(iam_a, path, names)
    expected = lower_sorted(names)

    first = iam_a.list_roles(PathPrefix=path, MaxItems=3)
    assert role_names(first) == expected[:3]
    assert first["IsTruncated"] is True
    assert isinstance(first["Marker"], str) and first["Marker"]
    second = iam_a.list_roles(PathPrefix=path, MaxItems=3, Marker=first["Marker"])
    assert role_names(second) == expected[3:6]
    assert second["IsTruncated"] is True
    third = iam_a.list_roles(PathPrefix=path, MaxItems=3, Marker=second["Marker"])
    assert role_names(third) == expected[6:]
    assert third["IsTruncated"] is False
    assert "Marker" not in third

    # Exactly MaxItems left: not truncated, no marker.
    exact = iam_a.list_roles(PathPrefix=path, MaxItems=7)
    assert (role_names(exact), exact["IsTruncated"], "Marker" in exact) == (expected, False, False)
    # The marker is valid for another page size too.
    rest = iam_a.list_roles(PathPrefix=path, MaxItems=1000, Marker=first["Marker"])
    assert (role_names(rest), rest["IsTruncated"]) == (expected[3:], False)
    # A marker can be used again: same page.
    again = iam_a.list_roles(PathPrefix=path, MaxItems=3, Marker=first["Marker"])
    assert (role_names(again), again["Marker"]) == (expected[3:6], second["Marker"])


def test_truncated_response_element_order(server, iam_a):
    path = prefix()
    make_roles(iam_a, path, [unique("a"), unique("b")])
    bodies: list[str] = []
    iam = server.client("iam", server.admins[ACCOUNT_A])
    iam.meta.events.register("after-call.iam.ListRoles",
                             lambda http_response, **_: bodies.append(http_response.text))
    marker = iam.list_roles(PathPrefix=path, MaxItems=1)["Marker"]
    iam.list_roles(PathPrefix=path, MaxItems=1, Marker=marker)
    truncated, last = bodies
    # The list, then IsTruncated, then Marker (the output shape's member order).
    tail = truncated[truncated.index("</Roles>"):truncated.index("</ListRolesResult>")]
    assert tail == f"</Roles>\n    <IsTruncated>true</IsTruncated>\n    <Marker>{marker}</Marker>\n  "
    tail = last[last.index("</Roles>"):last.index("</ListRolesResult>")]
    assert tail == "</Roles>\n    <IsTruncated>false</IsTruncated>\n  "


def test_default_page_is_100_and_paginator_collects_all_in_order(iam_a):
    path = prefix()
    names = [f"{unique('u')}{i:03d}" for i in range(101)]
    for name in names:
        iam_a.create_user(UserName=name, Path=path)
    expected = lower_sorted(names)

    first = iam_a.list_users(PathPrefix=path)
    assert [u["UserName"] for u in first["Users"]] == expected[:100]
    assert first["IsTruncated"] is True
    second = iam_a.list_users(PathPrefix=path, Marker=first["Marker"])
    assert ([u["UserName"] for u in second["Users"]], second["IsTruncated"]) == (expected[100:], False)
    assert "Marker" not in second

    pages = list(iam_a.get_paginator("list_users").paginate(PathPrefix=path, PaginationConfig={"PageSize": 7}))
    assert [len(p["Users"]) for p in pages] == [7] * 14 + [3]
    assert [u["UserName"] for p in pages for u in p["Users"]] == expected
    assert [p["IsTruncated"] for p in pages] == [True] * 14 + [False]
    # Without a page size the paginator takes IAM's default pages.
    pages = list(iam_a.get_paginator("list_users").paginate(PathPrefix=path))
    assert [len(p["Users"]) for p in pages] == [100, 1]
    # MaxItems (the paginator's total) cuts the listing and hands back a resume token.
    limited = iam_a.get_paginator("list_users").paginate(
        PathPrefix=path, PaginationConfig={"PageSize": 10, "MaxItems": 25}).build_full_result()
    assert [u["UserName"] for u in limited["Users"]] == expected[:25]
    resumed = iam_a.get_paginator("list_users").paginate(
        PathPrefix=path, PaginationConfig={"PageSize": 10, "StartingToken": limited["NextToken"]}
    ).build_full_result()
    assert [u["UserName"] for u in resumed["Users"]] == expected[25:]


# --- every paginated action -----------------------------------------------------------------
def _roles(iam: Any) -> tuple[str, dict, str, Callable[[Any], str], list[str]]:
    path = prefix()
    names = [unique(c) for c in "CaB"]
    make_roles(iam, path, names)
    return "list_roles", {"PathPrefix": path}, "Roles", lambda r: r["RoleName"], lower_sorted(names)


def _access_keys(iam: Any) -> tuple[str, dict, str, Callable[[Any], str], list[str]]:
    user = unique("keys")
    iam.create_user(UserName=user)
    ids = [iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"] for _ in range(2)]
    listed = [k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]]
    assert sorted(listed) == sorted(ids)
    return "list_access_keys", {"UserName": user}, "AccessKeyMetadata", lambda k: k["AccessKeyId"], listed


def _new_owner(iam: Any, owner: str) -> str:
    """A new role or user (``owner``) to hang policies on; returns its name."""
    name = unique(owner)
    if owner == "role":
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    else:
        iam.create_user(UserName=name)
    return name


def _inline(owner: str) -> Callable[[Any], tuple[str, dict, str, Callable[[Any], str], list[str]]]:
    def setup(iam: Any) -> tuple[str, dict, str, Callable[[Any], str], list[str]]:
        name = _new_owner(iam, owner)
        title = owner.title()
        policies = ["zeta", "Alpha", "beta", "Gamma", "delta"]
        for policy in policies:
            getattr(iam, f"put_{owner}_policy")(**{f"{title}Name": name}, PolicyName=policy,
                                                 PolicyDocument=allow("s3:GetObject"))
        return f"list_{owner}_policies", {f"{title}Name": name}, "PolicyNames", lambda p: p, lower_sorted(policies)
    return setup


def _attached(owner: str) -> Callable[[Any], tuple[str, dict, str, Callable[[Any], str], list[str]]]:
    def setup(iam: Any) -> tuple[str, dict, str, Callable[[Any], str], list[str]]:
        name = _new_owner(iam, owner)
        title = owner.title()
        arns = []
        for policy in (unique("m3"), unique("m1"), unique("m2"), unique("m0")):
            arn = iam.create_policy(PolicyName=policy, PolicyDocument=allow("s3:GetObject"))["Policy"]["Arn"]
            getattr(iam, f"attach_{owner}_policy")(**{f"{title}Name": name}, PolicyArn=arn)
            arns.append(arn)
        # The listing's own order (attachment order), unchanged by pagination.
        full = getattr(iam, f"list_attached_{owner}_policies")(**{f"{title}Name": name})
        assert [p["PolicyArn"] for p in full["AttachedPolicies"]] == arns
        return (f"list_attached_{owner}_policies", {f"{title}Name": name}, "AttachedPolicies",
                lambda p: p["PolicyArn"], arns)
    return setup


def _policies(iam: Any) -> tuple[str, dict, str, Callable[[Any], str], list[str]]:
    path = prefix()
    names = [unique(c) for c in "dBcAe"]
    for name in names:
        iam.create_policy(PolicyName=name, Path=path, PolicyDocument=allow("s3:GetObject"))
    return ("list_policies", {"Scope": "Local", "PathPrefix": path}, "Policies", lambda p: p["PolicyName"],
            lower_sorted(names))


def _mfa(iam: Any) -> tuple[str, dict, str, Callable[[Any], str], list[str]]:
    user = unique("mfa-user")
    iam.create_user(UserName=user)
    serials = []
    for _ in range(3):
        device = new_device(iam)
        enable(iam, user, device)
        serials.append(device["SerialNumber"])
    listed = [d["SerialNumber"] for d in iam.list_mfa_devices(UserName=user)["MFADevices"]]
    assert sorted(listed) == sorted(serials)
    return "list_mfa_devices", {"UserName": user}, "MFADevices", lambda d: d["SerialNumber"], listed


LISTINGS = {
    "ListRoles": _roles,
    "ListAccessKeys": _access_keys,
    "ListRolePolicies": _inline("role"),
    "ListUserPolicies": _inline("user"),
    "ListAttachedRolePolicies": _attached("role"),
    "ListAttachedUserPolicies": _attached("user"),
    "ListPolicies": _policies,
    "ListMFADevices": _mfa,
}


@pytest.mark.parametrize("action", list(LISTINGS))
def test_every_list_action_paginates(iam_a, raw_iam, action):
    method, args, key, ident, expected = LISTINGS[action](iam_a)
    call = getattr(iam_a, method)

    full = call(**args)
    assert ([ident(i) for i in full[key]], full["IsTruncated"], "Marker" in full) == (expected, False, False)

    collected, marker, sizes = [], None, []
    while True:
        page = call(**args, MaxItems=2, **({"Marker": marker} if marker else {}))
        sizes.append(len(page[key]))
        collected += [ident(i) for i in page[key]]
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        marker = page["Marker"]
    n = len(expected)
    assert sizes == [2] * (n // 2) + ([n % 2] if n % 2 else [])
    assert collected == expected

    pages = list(iam_a.get_paginator(method).paginate(**args, PaginationConfig={"PageSize": 1}))
    assert [ident(i) for p in pages for i in p[key]] == expected
    assert [len(p[key]) for p in pages] == [1] * n

    expect_error(getattr(raw_iam, method), "ValidationError", 400,
                 coral("maxItems", "Member must have value greater than or equal to 1"), **args, MaxItems=0)
    expect_error(getattr(raw_iam, method), "ValidationError", 400,
                 coral("maxItems", "Member must have value less than or equal to 1000"), **args, MaxItems=1001)
    expect_error(call, "ValidationError", 400, MSG_INVALID_MARKER, **args, Marker="bogus")


# --- parameter errors ---------------------------------------------------------------------
def test_max_items_and_marker_validation_texts(raw_iam):
    list_roles = raw_iam.list_roles
    expect_error(list_roles, "ValidationError", 400,
                 coral("maxItems", "Member must have value greater than or equal to 1"), MaxItems=0)
    expect_error(list_roles, "ValidationError", 400,
                 coral("maxItems", "Member must have value greater than or equal to 1"), MaxItems=-5)
    expect_error(list_roles, "ValidationError", 400,
                 coral("maxItems", "Member must have value less than or equal to 1000"), MaxItems=1001)
    # An empty marker fails the pattern ("+") and the length, pattern clause first.
    expect_error(list_roles, "ValidationError", 400,
                 "2 validation errors detected: Value at 'marker' failed to satisfy constraint: Member must "
                 "satisfy regular expression pattern: [\\u0020-\\u00FF]+; Value at 'marker' failed to satisfy "
                 "constraint: Member must have length greater than or equal to 1", Marker="")
    expect_error(list_roles, "ValidationError", 400,
                 coral("marker", "Member must have length less than or equal to 320"), Marker="A" * 321)
    expect_error(list_roles, "ValidationError", 400,
                 coral("marker", "Member must satisfy regular expression pattern: [\\u0020-\\u00FF]+"),
                 Marker="caf\u0113")
    # Both members wrong: one message, in the model's member order (Marker before MaxItems).
    expect_error(list_roles, "ValidationError", 400,
                 "2 validation errors detected: Value at 'marker' failed to satisfy constraint: Member must "
                 "have length less than or equal to 320; Value at 'maxItems' failed to satisfy constraint: "
                 "Member must have value less than or equal to 1000", Marker="A" * 321, MaxItems=5000)
    # The bounds themselves are accepted.
    assert raw_iam.list_roles(MaxItems=1)["Roles"] is not None
    assert raw_iam.list_roles(MaxItems=1000)["IsTruncated"] is False


@pytest.mark.parametrize("marker", ["bogus", "A", "=" * 8, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "a b c"])
def test_markers_that_do_not_decode(iam_a, marker):
    expect_error(iam_a.list_roles, "ValidationError", 400, MSG_INVALID_MARKER, Marker=marker)
    expect_error(iam_a.list_users, "ValidationError", 400, MSG_INVALID_MARKER, Marker=marker, MaxItems=5)


def test_tampered_marker_is_refused(iam_a):
    path = prefix()
    make_roles(iam_a, path, [unique("t") for _ in range(3)])
    marker = iam_a.list_roles(PathPrefix=path, MaxItems=1)["Marker"]
    for position in range(len(marker)):
        flipped = marker[:position] + ("B" if marker[position] != "B" else "C") + marker[position + 1:]
        expect_error(iam_a.list_roles, "ValidationError", 400, MSG_INVALID_MARKER, PathPrefix=path, Marker=flipped)


# --- markers stay within the caller's own listing -----------------------------------------------
def test_marker_of_another_account_reveals_nothing(iam_a, iam_b):
    path = prefix()
    names_a = [unique("a") for _ in range(3)]
    names_b = [unique("b") for _ in range(3)]
    make_roles(iam_a, path, names_a)
    make_roles(iam_b, path, names_b)
    marker_a = iam_a.list_roles(PathPrefix=path, MaxItems=1)["Marker"]
    marker_b = iam_b.list_roles(PathPrefix=path, MaxItems=1)["Marker"]
    expect_error(iam_b.list_roles, "ValidationError", 400, MSG_INVALID_MARKER, PathPrefix=path, Marker=marker_a)
    expect_error(iam_a.list_roles, "ValidationError", 400, MSG_INVALID_MARKER, PathPrefix=path, Marker=marker_b)
    # Each account's own marker lists only its own roles.
    rest_a = iam_a.list_roles(PathPrefix=path, Marker=marker_a)
    assert role_names(rest_a) == lower_sorted(names_a)[1:]
    assert all(r["Arn"].startswith(f"arn:aws:iam::{ACCOUNT_A}:") for r in rest_a["Roles"])
    rest_b = iam_b.list_roles(PathPrefix=path, Marker=marker_b)
    assert role_names(rest_b) == lower_sorted(names_b)[1:]


def test_marker_belongs_to_one_listing(iam_a):
    path = prefix()
    make_roles(iam_a, path, [unique("r") for _ in range(3)])
    for _ in range(3):
        iam_a.create_user(UserName=unique("u"), Path=path)
    roles_marker = iam_a.list_roles(PathPrefix=path, MaxItems=1)["Marker"]
    # Another action, another path prefix, or none: refused.
    expect_error(iam_a.list_users, "ValidationError", 400, MSG_INVALID_MARKER, PathPrefix=path, Marker=roles_marker)
    expect_error(iam_a.list_roles, "ValidationError", 400, MSG_INVALID_MARKER, Marker=roles_marker)
    expect_error(iam_a.list_roles, "ValidationError", 400, MSG_INVALID_MARKER, PathPrefix=path + "x/",
                 Marker=roles_marker)
    # One user's access-key marker does not list another user's keys.
    alice, bob = unique("alice"), unique("bob")
    for user in (alice, bob):
        iam_a.create_user(UserName=user)
        for _ in range(2):
            iam_a.create_access_key(UserName=user)
    marker = iam_a.list_access_keys(UserName=alice, MaxItems=1)["Marker"]
    expect_error(iam_a.list_access_keys, "ValidationError", 400, MSG_INVALID_MARKER, UserName=bob, Marker=marker)
    # ListPolicies: the marker carries its Scope.
    marker = iam_a.list_policies(Scope="AWS", MaxItems=1)["Marker"]
    expect_error(iam_a.list_policies, "ValidationError", 400, MSG_INVALID_MARKER, Scope="Local", Marker=marker)


def test_access_denied_comes_before_the_marker(server, make_user):
    creds = make_user(policy=allow("iam:ListUsers"))
    iam = server.client("iam", creds)
    expect_error(iam.list_roles, "AccessDenied", 403,
                 f"User: arn:aws:iam::{ACCOUNT_A}:user/{creds.user_name} is not authorized to perform: "
                 f"iam:ListRoles on resource: arn:aws:iam::{ACCOUNT_A}:role/ because no identity-based policy "
                 "allows the iam:ListRoles action", Marker="bogus")


def test_other_account_listing_through_markers_is_impossible(iam_a, iam_b):
    """Pages of account B's listing never contain account A's entities, whatever marker B sends."""
    path = prefix()
    make_roles(iam_a, path, [unique("secret") for _ in range(4)])
    names_b = [unique("mine") for _ in range(2)]
    make_roles(iam_b, path, names_b)
    seen = set()
    marker = None
    while True:
        page = iam_b.list_roles(PathPrefix=path, MaxItems=1, **({"Marker": marker} if marker else {}))
        seen |= {r["Arn"] for r in page["Roles"]}
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    assert seen == {f"arn:aws:iam::{ACCOUNT_B}:role{path}{n}" for n in names_b}


# --- changes between pages ----------------------------------------------------------------
def test_deleting_the_last_listed_item_skips_nothing(iam_a):
    path = prefix()
    names = lower_sorted([unique(c) for c in "abcde"])
    make_roles(iam_a, path, names)
    first = iam_a.list_roles(PathPrefix=path, MaxItems=2)
    assert role_names(first) == names[:2]
    iam_a.delete_role(RoleName=names[1])
    rest = iam_a.list_roles(PathPrefix=path, Marker=first["Marker"])
    assert role_names(rest) == names[2:]


def test_items_added_before_the_marker_cause_no_repeats(iam_a):
    path = prefix()
    names = [f"m{unique('x')}" for _ in range(4)]
    make_roles(iam_a, path, names)
    names = lower_sorted(names)
    first = iam_a.list_roles(PathPrefix=path, MaxItems=2)
    earlier = f"a{unique('x')}"
    make_roles(iam_a, path, [earlier])
    rest = iam_a.list_roles(PathPrefix=path, Marker=first["Marker"])
    assert role_names(rest) == names[2:]


# --- the AWS CLI --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def aws(server: StsdServer, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("aws-home")

    def run(*args: str) -> dict:
        result = run_aws_cli(server, home, *args)
        assert (result.returncode, result.stderr) == (0, "")
        return json.loads(result.stdout)

    return run


def test_aws_cli_max_items_and_page_size(aws, iam_a):
    path = prefix()
    names = [unique(c) for c in "EdCbA"]
    make_roles(iam_a, path, names)
    expected = lower_sorted(names)

    first = aws("iam", "list-roles", "--path-prefix", path, "--max-items", "2")
    assert [r["RoleName"] for r in first["Roles"]] == expected[:2]
    assert list(first) == ["Roles", "NextToken"]
    second = aws("iam", "list-roles", "--path-prefix", path, "--max-items", "2",
                 "--starting-token", first["NextToken"])
    assert [r["RoleName"] for r in second["Roles"]] == expected[2:4]
    third = aws("iam", "list-roles", "--path-prefix", path, "--max-items", "2",
                "--starting-token", second["NextToken"])
    assert [r["RoleName"] for r in third["Roles"]] == expected[4:]
    assert "NextToken" not in third

    # --page-size: the CLI walks every page itself and prints all roles.
    everything = aws("iam", "list-roles", "--path-prefix", path, "--page-size", "2")
    assert [r["RoleName"] for r in everything["Roles"]] == expected
    assert "NextToken" not in everything
    # --no-paginate with --max-items: one raw IAM page, IAM's own fields.
    one = aws("iam", "list-roles", "--path-prefix", path, "--no-paginate", "--max-items", "3")
    assert [r["RoleName"] for r in one["Roles"]] == expected[:3]
    assert one["IsTruncated"] is True
    assert list(one) == ["Roles", "IsTruncated", "Marker"]
