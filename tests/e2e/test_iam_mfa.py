"""Virtual MFA devices (CreateVirtualMFADevice, EnableMFADevice with real TOTP codes,
ListMFADevices) and what MFA changes for GetSessionToken credentials calling IAM.

Texts as recorded against AWS (LocalStack tests/aws/services/iam/test_iam_mfa.snapshot.json,
2026): "MFA device already exists.", "MFA Device is already in use."; GetSessionToken
credentials without MFA are refused by IAM as InvalidClientTokenId "The security token included
in the request is invalid" (aws-vault#15, #328, #1056; aws-sdk-js#460; the IAM body in
aws-cli#8918 has no trailing period).
"""

from __future__ import annotations

import base64
import re

from tests.conftest import session_credentials
from tests.e2e.test_iam_support import (
    ACCOUNT_A,
    MSG_BAD_PATH,
    MSG_IAM_INVALID_TOKEN,
    allow,
    expect_error,
    no_such_user,
    settled_step,
    totp,
    unique,
)


def new_device(iam, name: str | None = None, path: str | None = None) -> dict:
    extra = {"Path": path} if path else {}
    return iam.create_virtual_mfa_device(VirtualMFADeviceName=name or unique("mfa"), **extra)["VirtualMFADevice"]


def enable(iam, user: str, device: dict) -> int:
    """Enable with the codes of the previous and the current step; returns the current step."""
    step = settled_step()
    seed = device["Base32StringSeed"]
    iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step))
    return step


def test_create_virtual_mfa_device(iam_a):
    name = unique("Phone")
    device = new_device(iam_a, name)
    assert device["SerialNumber"] == f"arn:aws:iam::{ACCOUNT_A}:mfa/{name}"
    # Base32StringSeed is a blob: botocore hands over the base32 text (RFC 3548) as bytes.
    assert isinstance(device["Base32StringSeed"], bytes)
    assert re.fullmatch(rb"[A-Z2-7]{32}", device["Base32StringSeed"])
    assert len(base64.b32decode(device["Base32StringSeed"])) == 20
    pathed = new_device(iam_a, name, path="/team/")
    assert pathed["SerialNumber"] == f"arn:aws:iam::{ACCOUNT_A}:mfa/team/{name}"
    assert pathed["Base32StringSeed"] != device["Base32StringSeed"]


def test_create_virtual_mfa_device_errors(iam_a):
    name = unique("dup")
    new_device(iam_a, name)
    expect_error(iam_a.create_virtual_mfa_device, "EntityAlreadyExists", 409, "MFA device already exists.",
                 VirtualMFADeviceName=name)
    expect_error(iam_a.create_virtual_mfa_device, "ValidationError", 400, MSG_BAD_PATH,
                 VirtualMFADeviceName=unique("p"), Path="no-leading-slash/")


def test_enable_and_list(iam_a):
    user = unique("mfa-user")
    iam_a.create_user(UserName=user)
    device = new_device(iam_a)
    listed = iam_a.list_mfa_devices(UserName=user)
    assert (listed["MFADevices"], listed["IsTruncated"]) == ([], False)

    step = settled_step()
    assert set(iam_a.enable_mfa_device(
        UserName=user, SerialNumber=device["SerialNumber"],
        AuthenticationCode1=totp(device["Base32StringSeed"], step - 1),
        AuthenticationCode2=totp(device["Base32StringSeed"], step),
    )) == {"ResponseMetadata"}
    devices = iam_a.list_mfa_devices(UserName=user)["MFADevices"]
    assert len(devices) == 1
    assert set(devices[0]) == {"UserName", "SerialNumber", "EnableDate"}
    assert (devices[0]["UserName"], devices[0]["SerialNumber"]) == (user, device["SerialNumber"])
    assert devices[0]["EnableDate"].tzinfo is not None

    other = unique("other")
    iam_a.create_user(UserName=other)
    step = settled_step()
    expect_error(iam_a.enable_mfa_device, "EntityAlreadyExists", 409, "MFA Device is already in use.",
                 UserName=other, SerialNumber=device["SerialNumber"],
                 AuthenticationCode1=totp(device["Base32StringSeed"], step),
                 AuthenticationCode2=totp(device["Base32StringSeed"], step + 1))
    assert iam_a.list_mfa_devices(UserName=other)["MFADevices"] == []


def test_enable_errors_change_nothing(iam_a):
    user = unique("mfa-bad")
    iam_a.create_user(UserName=user)
    device = new_device(iam_a)
    seed = device["Base32StringSeed"]
    step = settled_step()
    bad = "Authentication code for device is not valid."
    for code1, code2 in (
        ("000000", "000000"),
        (totp(seed, step), totp(seed, step)),  # not consecutive
        (totp(seed, step), totp(seed, step - 1)),  # wrong order
        (totp(seed, step - 10), totp(seed, step - 9)),  # far in the past
    ):
        if (code1, code2) == ("000000", "000000") and totp(seed, step) == "000000":
            continue
        expect_error(iam_a.enable_mfa_device, "InvalidAuthenticationCode", 403, bad, UserName=user,
                     SerialNumber=device["SerialNumber"], AuthenticationCode1=code1, AuthenticationCode2=code2)
    ghost = unique("ghost")
    expect_error(iam_a.enable_mfa_device, "NoSuchEntity", 404, no_such_user(ghost), UserName=ghost,
                 SerialNumber=device["SerialNumber"], AuthenticationCode1="123456", AuthenticationCode2="654321")
    assert iam_a.list_mfa_devices(UserName=user)["MFADevices"] == []
    # Still free to enable properly afterwards.
    enable(iam_a, user, device)
    assert len(iam_a.list_mfa_devices(UserName=user)["MFADevices"]) == 1


def test_list_mfa_devices_without_user_name_is_the_caller(server, iam_a, make_user):
    creds = make_user(policy=allow("iam:ListMFADevices"))
    device = new_device(iam_a)
    enable(iam_a, creds.user_name, device)
    mine = server.client("iam", creds).list_mfa_devices()["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in mine] == [(creds.user_name, device["SerialNumber"])]


def test_session_token_without_mfa_cannot_call_iam(server, make_user):
    creds = make_user(policy=allow("iam:*"))
    session = session_credentials(server.client("sts", creds).get_session_token(), ACCOUNT_A)
    iam = server.client("iam", session)
    for call, kwargs in ((iam.list_users, {}), (iam.get_user, {}), (iam.create_user, {"UserName": unique("no")})):
        expect_error(call, "InvalidClientTokenId", 403, MSG_IAM_INVALID_TOKEN, **kwargs)
    # The same session is fine elsewhere: STS still knows it.
    assert server.client("sts", session).get_caller_identity()["Arn"] == (
        f"arn:aws:iam::{ACCOUNT_A}:user/{creds.user_name}")


def test_session_token_with_mfa_can_call_iam(server, iam_a, make_user):
    creds = make_user(policy=allow(["iam:GetUser", "iam:ListMFADevices"]))
    device = new_device(iam_a)
    step = enable(iam_a, creds.user_name, device)
    # The next step's code is accepted (one step of clock drift) and has not been used yet.
    response = server.client("sts", creds).get_session_token(
        SerialNumber=device["SerialNumber"], TokenCode=totp(device["Base32StringSeed"], step + 1))
    session = session_credentials(response, ACCOUNT_A)
    iam = server.client("iam", session)
    assert iam.get_user()["User"]["UserName"] == creds.user_name
    assert len(iam.list_mfa_devices()["MFADevices"]) == 1
    # MFA gets the session into IAM; its permissions are still the user's.
    expect_error(iam.list_users, "AccessDenied", 403,
                 f"User: arn:aws:iam::{ACCOUNT_A}:user/{creds.user_name} is not authorized to perform: "
                 f"iam:ListUsers on resource: arn:aws:iam::{ACCOUNT_A}:user/ because no identity-based policy "
                 "allows the iam:ListUsers action")


def test_account_summary_counts_devices(server):
    # A fresh view of account A's counters around one new device and its activation.
    admin = server.admins[ACCOUNT_A]
    iam = server.client("iam", admin)
    before = iam.get_account_summary()["SummaryMap"]
    user = unique("counted")
    iam.create_user(UserName=user)
    device = new_device(iam)
    enable(iam, user, device)
    after = iam.get_account_summary()["SummaryMap"]
    assert after["MFADevices"] == before["MFADevices"] + 1
    assert after["MFADevicesInUse"] == before["MFADevicesInUse"] + 1
    assert after["Users"] == before["Users"] + 1


def test_deactivate_then_delete_lets_the_user_go(iam_a):
    """A user with MFA can be deleted once the device is deactivated and deleted, as on AWS."""
    user = unique("leaver")
    iam_a.create_user(UserName=user)
    device = new_device(iam_a)
    serial = device["SerialNumber"]
    enable(iam_a, user, device)
    expect_error(iam_a.delete_user, "DeleteConflict", 409, "Cannot delete entity, must delete MFA device first.",
                 UserName=user)
    expect_error(iam_a.delete_virtual_mfa_device, "DeleteConflict", 409, "MFA device is still in use.",
                 SerialNumber=serial)
    other = unique("other")
    iam_a.create_user(UserName=other)
    expect_error(iam_a.deactivate_mfa_device, "NoSuchEntity", 404,
                 f"MFA Device with serial number {serial} doesn't exist.", UserName=other, SerialNumber=serial)
    # Nothing changed by the refusals:
    assert [d["SerialNumber"] for d in iam_a.list_mfa_devices(UserName=user)["MFADevices"]] == [serial]

    iam_a.deactivate_mfa_device(UserName=user, SerialNumber=serial)
    assert iam_a.list_mfa_devices(UserName=user)["MFADevices"] == []
    iam_a.delete_virtual_mfa_device(SerialNumber=serial)
    expect_error(iam_a.delete_virtual_mfa_device, "NoSuchEntity", 404,
                 f"VirtualMFADevice with serial number {serial} doesn't exist.", SerialNumber=serial)
    iam_a.delete_user(UserName=user)
    expect_error(iam_a.get_user, "NoSuchEntity", 404, no_such_user(user), UserName=user)


def test_a_deactivated_device_can_be_enabled_again(iam_a):
    user = unique("again")
    iam_a.create_user(UserName=user)
    device = new_device(iam_a)
    enable(iam_a, user, device)
    iam_a.deactivate_mfa_device(UserName=user, SerialNumber=device["SerialNumber"])
    iam_a.create_user(UserName=user + "-2")
    step = enable(iam_a, user + "-2", device)
    assert step > 0
    assert [d["UserName"] for d in iam_a.list_mfa_devices(UserName=user + "-2")["MFADevices"]] == [user + "-2"]
