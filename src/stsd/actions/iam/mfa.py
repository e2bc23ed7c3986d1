"""Virtual MFA devices: CreateVirtualMFADevice, EnableMFADevice, ListMFADevices,
ListVirtualMFADevices, DeactivateMFADevice, DeleteVirtualMFADevice."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from stsd.actions.iam.pagination import paginate
from stsd.errors import InvalidAuthenticationCode, NoSuchEntity
from stsd.iam import api, totp
from stsd.protocol.params import Str
from stsd.protocol.render import Node
from stsd.server.context import RequestContext
from stsd.store.directory import AccountView, MfaView

DEVICE_NAME = Str("VirtualMFADeviceName", "virtualMFADeviceName", required=True, min=1, max=226,
                  pattern="[\\w+=,.@-]+")
SERIAL = Str("SerialNumber", "serialNumber", required=True, min=9, max=256, pattern="[\\w+=/:,.@-]+")
CODE1 = Str("AuthenticationCode1", "authenticationCode1", required=True, min=6, max=6, pattern="[\\d]+")
CODE2 = Str("AuthenticationCode2", "authenticationCode2", required=True, min=6, max=6, pattern="[\\d]+")
MSG_BAD_CODES = "Authentication code for device is not valid."
ASSIGNMENT_STATUS = Str("AssignmentStatus", "assignmentStatus", choices=("Assigned", "Unassigned", "Any"))


def create_virtual_mfa_device(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    name, path = params["VirtualMFADeviceName"], params.get("Path", "/")
    api.authorize(ctx, "iam:CreateVirtualMFADevice", api.resource_arn(ctx, "mfa", name, path),
                  request_tags=api.tag_list(params))
    seed = secrets.token_bytes(20)
    serial = ctx.runtime.iam.create_virtual_mfa(ctx.caller().account, name, path, seed)
    seed_b32 = base64.b32encode(seed)
    # The XML carries the blob base64-encoded; SDKs hand users the base32 text.
    return [("VirtualMFADevice", [("SerialNumber", serial),
                                  ("Base32StringSeed", base64.b64encode(seed_b32).decode())])]


def enable_mfa_device(ctx: RequestContext, params: dict[str, Any]) -> None:
    name, serial = params["UserName"], params["SerialNumber"]
    account = api.authorize(ctx, "iam:EnableMFADevice", *api.target(ctx, "user", name))
    api.require_user(account, name)
    device = account.mfa_devices.get(serial)
    if device is None:
        raise NoSuchEntity(f"VirtualMFADevice with serial number {serial} doesn't exist.")
    # AWS wants two consecutive codes; accept them anywhere in a small window around now.
    now = ctx.now.timestamp()
    step1 = totp.matching_step(device.seed, params["AuthenticationCode1"], now - totp.STEP_SECONDS)
    step2 = totp.matching_step(device.seed, params["AuthenticationCode2"], now)
    if step1 is None or step2 is None or step2 != step1 + 1:
        raise InvalidAuthenticationCode(MSG_BAD_CODES)
    ctx.runtime.iam.enable_mfa(account.id, name, serial, step2)


def list_mfa_devices(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    name = api.caller_user_name(ctx, params.get("UserName"))
    account = api.authorize(ctx, "iam:ListMFADevices", *api.target(ctx, "user", name))
    user = api.require_user(account, name)
    page = paginate(ctx, params, "ListMFADevices", account.user_mfa(name), lambda d: d.serial, user.name.lower())
    return page.result("MFADevices", lambda d: [
        ("UserName", d.user_name), ("SerialNumber", d.serial), ("EnableDate", d.enabled_at),
    ])


def list_virtual_mfa_devices(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    status = params.get("AssignmentStatus", "Any")
    account = api.authorize(ctx, "iam:ListVirtualMFADevices", "*")
    # NOTE: unsourced: IAM documents no order for this listing; stsd lists by serial number
    # (the device ARN, code-point order), which keeps pages stable.
    devices = sorted(
        (d for d in account.mfa_devices.values()
         if status == "Any" or (d.user_name is not None) == (status == "Assigned")),
        key=lambda d: d.serial,
    )
    page = paginate(ctx, params, "ListVirtualMFADevices", devices, lambda d: d.serial, status)
    return page.result("VirtualMFADevices", lambda d: _virtual_device_node(account, d))


def _virtual_device_node(account: AccountView, device: MfaView) -> list[Node]:
    """A listed ``VirtualMFADevice`` in the model's member order: never the seed or QR code,
    no Tags (IAM's listings leave tags out, API reference), and for an assigned device the
    ``User`` as ListUsers shows it (Path, UserName, UserId, Arn, CreateDate: the fields of
    the AWS CLI reference's list-virtual-mfa-devices example) and its EnableDate."""
    user = account.user(device.user_name) if device.user_name else None
    return [
        ("SerialNumber", device.serial),
        ("User", api.user_node(user, listing=True) if user is not None else None),
        ("EnableDate", device.enabled_at if device.user_name else None),
    ]


def deactivate_mfa_device(ctx: RequestContext, params: dict[str, Any]) -> None:
    name, serial = params["UserName"], params["SerialNumber"]
    account = api.authorize(ctx, "iam:DeactivateMFADevice", *api.target(ctx, "user", name))
    api.require_user(account, name)
    ctx.runtime.iam.deactivate_mfa(account.id, name, serial)


def delete_virtual_mfa_device(ctx: RequestContext, params: dict[str, Any]) -> None:
    serial = params["SerialNumber"]
    api.authorize(ctx, "iam:DeleteVirtualMFADevice", serial)
    ctx.runtime.iam.delete_virtual_mfa(ctx.caller().account, serial)


ACTIONS = (
    api.action("CreateVirtualMFADevice", (api.path(), DEVICE_NAME, api.TAGS), create_virtual_mfa_device,
               write=True),
    api.action("EnableMFADevice", (api.user_name(), SERIAL, CODE1, CODE2), enable_mfa_device, write=True),
    api.action("ListMFADevices", (api.user_name(False), api.marker(), api.max_items()), list_mfa_devices),
    api.action("ListVirtualMFADevices", (ASSIGNMENT_STATUS, api.marker(), api.max_items()),
               list_virtual_mfa_devices),
    api.action("DeactivateMFADevice", (api.user_name(), SERIAL), deactivate_mfa_device, write=True),
    api.action("DeleteVirtualMFADevice", (SERIAL,), delete_virtual_mfa_device, write=True),
)
