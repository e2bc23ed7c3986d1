"""ListVirtualMFADevices against a real server, through boto3 and the AWS CLI.

Sources: the IAM API reference (AssignmentStatus Assigned | Unassigned | Any, default Any;
"this operation does not return tags"; MaxItems/Marker pagination; no path filter); the AWS CLI
reference's list-virtual-mfa-devices example (an assigned device carries EnableDate and a User
with Path, UserName, UserId, Arn and CreateDate; an unassigned one only its SerialNumber). The
order (by serial number) is stsd's choice: IAM documents none.

The shared server holds devices from other tests, and the listing cannot be narrowed by path, so
every check collects the listing and keeps the serials created here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stsd.testing import StsdServer
from tests.conftest import listed, run_aws_cli
from tests.e2e.test_iam_mfa import enable, new_device
from tests.e2e.test_iam_support import (
    ACCOUNT_A,
    allow,
    assert_recent,
    coral,
    denied,
    expect_error,
    unique,
)

MSG_BAD_STATUS = coral("assignmentStatus", "Member must satisfy enum value set: [Assigned, Unassigned, Any]")
MSG_INVALID_MARKER = "Invalid Marker."
OP, KEY = "list_virtual_mfa_devices", "VirtualMFADevices"


def every(iam: Any, **kwargs: Any) -> list[dict]:
    return listed(iam, OP, KEY, **kwargs)


def serials_of(devices: list[dict], wanted: set[str]) -> list[str]:
    return [d["SerialNumber"] for d in devices if d["SerialNumber"] in wanted]


@pytest.fixture(scope="module")
def fleet(iam_a) -> dict[str, Any]:
    """Five devices of one name stem (two under a path), two of them assigned to users."""
    stem = unique("vlist")
    owner, other = unique("vl-owner"), unique("vl-other")
    iam_a.create_user(UserName=owner, Path="/vl/team/")
    iam_a.create_user(UserName=other)
    devices = {c: new_device(iam_a, f"{stem}-{c}") for c in "ecab"}
    devices["p"] = new_device(iam_a, f"{stem}-p", path="/vl/")
    enable(iam_a, owner, devices["a"])
    enable(iam_a, other, devices["p"])
    serials = {c: d["SerialNumber"] for c, d in devices.items()}
    assigned = sorted([serials["a"], serials["p"]])
    return {
        "all": sorted(serials.values()),
        "assigned": assigned,
        "unassigned": sorted(set(serials.values()) - set(assigned)),
        "serials": serials,
        "owner": iam_a.get_user(UserName=owner)["User"],
        "other": other,
    }


def test_assignment_status_filters(iam_a, fleet):
    mine = set(fleet["all"])
    assert serials_of(every(iam_a), mine) == fleet["all"]
    assert serials_of(every(iam_a, AssignmentStatus="Any"), mine) == fleet["all"]
    assert serials_of(every(iam_a, AssignmentStatus="Assigned"), mine) == fleet["assigned"]
    assert serials_of(every(iam_a, AssignmentStatus="Unassigned"), mine) == fleet["unassigned"]
    # Each filter keeps to its kind across the whole account.
    assert all("User" in d and "EnableDate" in d for d in every(iam_a, AssignmentStatus="Assigned"))
    assert all(set(d) == {"SerialNumber"} for d in every(iam_a, AssignmentStatus="Unassigned"))


def test_device_elements(iam_a, fleet):
    owner, serials = fleet["owner"], fleet["serials"]
    devices = {d["SerialNumber"]: d for d in every(iam_a) if d["SerialNumber"] in set(fleet["all"])}
    assigned = devices[serials["a"]]
    assert list(assigned) == ["SerialNumber", "User", "EnableDate"]
    # The User as ListUsers shows it: no Tags, no PermissionsBoundary.
    assert assigned["User"] == {k: owner[k] for k in ("Path", "UserName", "UserId", "Arn", "CreateDate")}
    assert assigned["User"]["Path"] == "/vl/team/"
    assert_recent(assigned["EnableDate"])
    enabled = iam_a.list_mfa_devices(UserName=owner["UserName"])["MFADevices"]
    assert [(d["SerialNumber"], d["EnableDate"]) for d in enabled] == [(serials["a"], assigned["EnableDate"])]
    assert devices[serials["p"]]["User"]["UserName"] == fleet["other"]
    assert serials["p"] == f"arn:aws:iam::{ACCOUNT_A}:mfa/vl/{serials['p'].rsplit('/', 1)[1]}"
    for c in "ecb":
        assert devices[serials[c]] == {"SerialNumber": serials[c]}
    # Never the seed or the QR code in a listing.
    for device in every(iam_a):
        assert not {"Base32StringSeed", "QRCodePNG", "Tags"} & set(device)


def test_listing_is_ordered_by_serial(iam_a, fleet):
    for status in ("Any", "Assigned", "Unassigned"):
        serials = [d["SerialNumber"] for d in every(iam_a, AssignmentStatus=status)]
        assert serials == sorted(serials)
        assert len(serials) == len(set(serials))


def test_max_items_and_marker(iam_a, fleet):
    mine = set(fleet["all"])
    collected, sizes, marker = [], [], None
    while True:
        page = iam_a.list_virtual_mfa_devices(MaxItems=2, **({"Marker": marker} if marker else {}))
        sizes.append(len(page[KEY]))
        collected += [d["SerialNumber"] for d in page[KEY]]
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        marker = page["Marker"]
    assert all(size == 2 for size in sizes[:-1]) and 1 <= sizes[-1] <= 2
    assert len(collected) == len(set(collected))
    assert [s for s in collected if s in mine] == fleet["all"]

    # The paginator, one item a page, with a filter.
    pages = list(iam_a.get_paginator(OP).paginate(AssignmentStatus="Unassigned", PaginationConfig={"PageSize": 1}))
    assert all(len(p[KEY]) == 1 for p in pages)
    assert serials_of([d for p in pages for d in p[KEY]], mine) == fleet["unassigned"]

    # A marker belongs to its filter: one from the Any listing is refused for Unassigned.
    first = iam_a.list_virtual_mfa_devices(MaxItems=1)
    assert first["IsTruncated"] is True
    expect_error(iam_a.list_virtual_mfa_devices, "ValidationError", 400, MSG_INVALID_MARKER,
                 AssignmentStatus="Unassigned", Marker=first["Marker"])
    # ...and is good for Any, named explicitly or by default.
    again = iam_a.list_virtual_mfa_devices(AssignmentStatus="Any", MaxItems=1, Marker=first["Marker"])
    assert again[KEY] == iam_a.list_virtual_mfa_devices(MaxItems=1, Marker=first["Marker"])[KEY]
    expect_error(iam_a.list_virtual_mfa_devices, "ValidationError", 400, MSG_INVALID_MARKER, Marker="bogus")


def test_invalid_assignment_status(server: StsdServer):
    raw = server.client("iam", server.admins[ACCOUNT_A], parameter_validation=False)
    for status in ("assigned", "All", "ANY"):
        expect_error(raw.list_virtual_mfa_devices, "ValidationError", 400, MSG_BAD_STATUS, AssignmentStatus=status)
    expect_error(raw.list_virtual_mfa_devices, "ValidationError", 400,
                 "2 validation errors detected: Value at 'assignmentStatus' failed to satisfy constraint: "
                 "Member must satisfy enum value set: [Assigned, Unassigned, Any]; Value at 'maxItems' failed "
                 "to satisfy constraint: Member must have value greater than or equal to 1",
                 AssignmentStatus="None", MaxItems=0)


def test_needs_list_virtual_mfa_devices_on_star(server: StsdServer, fleet, make_user):
    creds = make_user(policy=allow(["iam:ListMFADevices", "iam:ListUsers"]))
    arn = f"arn:aws:iam::{ACCOUNT_A}:user/{creds.user_name}"
    iam = server.client("iam", creds)
    expect_error(iam.list_virtual_mfa_devices, "AccessDenied", 403,
                 denied(arn, "iam:ListVirtualMFADevices", "*"))
    # A device ARN as the policy's resource does not cover an action on "*".
    scoped = make_user(policy=allow("iam:ListVirtualMFADevices", f"arn:aws:iam::{ACCOUNT_A}:mfa/*"))
    expect_error(server.client("iam", scoped).list_virtual_mfa_devices, "AccessDenied", 403,
                 denied(f"arn:aws:iam::{ACCOUNT_A}:user/{scoped.user_name}", "iam:ListVirtualMFADevices", "*"),
                 AssignmentStatus="Assigned")
    allowed = make_user(policy=allow("iam:ListVirtualMFADevices"))
    got = every(server.client("iam", allowed), AssignmentStatus="Assigned")
    assert serials_of(got, set(fleet["all"])) == fleet["assigned"]


def test_aws_cli(server: StsdServer, fleet, tmp_path):
    result = run_aws_cli(server, tmp_path, "iam", "list-virtual-mfa-devices", "--assignment-status", "Assigned")
    assert (result.returncode, result.stderr) == (0, "")
    out = json.loads(result.stdout)
    assert list(out) == ["VirtualMFADevices"]
    devices = {d["SerialNumber"]: d for d in out["VirtualMFADevices"]}
    assert serials_of(out["VirtualMFADevices"], set(fleet["all"])) == fleet["assigned"]
    owner = fleet["owner"]
    device = devices[fleet["serials"]["a"]]
    assert list(device) == ["SerialNumber", "User", "EnableDate"]
    assert device["User"]["UserName"] == owner["UserName"]
    assert device["User"]["Arn"] == owner["Arn"]
    assert list(device["User"]) == ["Path", "UserName", "UserId", "Arn", "CreateDate"]
