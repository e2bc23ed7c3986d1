"""CloudTrail records: from a finished pipeline ``Outcome`` (or an admin call) to the JSON
objects AWS writes, in AWS's field order (aws-sts-behaviour.md §4).

Runs on the writer thread: the request path only queued the Outcome.
"""

from __future__ import annotations

import os
import random
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stsd import ids
from stsd.audit import elements
from stsd.audit.identity import account_view, unknown_identity, user_identity
from stsd.audit.timefmt import iso
from stsd.auth.principal import Principal

if TYPE_CHECKING:
    from stsd.server.pipeline import Outcome
    from stsd.store.directory import Directory

EVENT_VERSION = "1.11"
STS_SOURCE = "sts.amazonaws.com"
IAM_SOURCE = "iam.amazonaws.com"
IAM_REGION = "us-east-1"  # IAM is global: CloudTrail records it in us-east-1
# STS calls CloudTrail records with requestParameters/responseElements null or without a response.
_NO_RESPONSE = frozenset({"GetCallerIdentity", "GetAccessKeyInfo"})
_EXTENDED_ID = b"x-amz-sts-extended-request-id"


@dataclass(slots=True)
class Call:
    """Everything a record is made of, independent of where the call came from."""

    event_source: str
    event_name: str
    read_only: bool
    time: datetime
    aws_region: str
    source_ip: str
    user_agent: str
    host: str
    request_id: str
    principal: Principal | None
    access_key_id: str | None = None
    request_parameters: dict[str, Any] | None = None
    response_elements: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    resources: list[dict[str, str]] | None = None
    request_details: dict[str, str] | None = None  # STS: awsServingRegion, endpointType
    extended_request_id: str | None = None


# Event ids identify records; they are not secrets. A seeded generator avoids a system call
# per record, which on a busy single core also cost a GIL hand-off to the request thread.
_ids = random.Random(os.urandom(32))


def new_event_id() -> str:
    """A random (version 4) UUID string, without building a uuid.UUID (cheaper on the writer)."""
    raw = bytearray(_ids.getrandbits(128).to_bytes(16, "big"))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _role_resource(role_arn: Any) -> list[dict[str, str]] | None:
    """AssumeRole's resource when the handler did not get as far as naming it (a failure)."""
    parts = ids.split_arn(role_arn) if isinstance(role_arn, str) else None
    if parts is None or parts[1] != "iam" or not parts[4].startswith("role/") or not ids.is_account_id(parts[3]):
        return None
    return [{"accountId": parts[3], "type": "AWS::IAM::Role", "ARN": role_arn}]


def from_outcome(outcome: Outcome) -> Call:
    ctx, action = outcome.context, outcome.action
    assert ctx is not None and action is not None
    sts = action.service.name == "sts"
    error = outcome.error
    params = elements.request_parameters(action.params, outcome.params)
    if error is not None or (sts and action.name in _NO_RESPONSE) or (not sts and action.read_only):
        response = None
    else:
        response = elements.response_elements(outcome.result)
    resources = ctx.audit.get("resources")
    if resources is None and action.name == "AssumeRole" and params:
        resources = _role_resource(params.get("roleArn"))
    call = Call(
        event_source=STS_SOURCE if sts else IAM_SOURCE,
        event_name=action.name,
        read_only=action.read_only,
        time=ctx.now,
        # The global endpoint is recorded in us-east-1 whichever Region served it.
        aws_region=ctx.endpoint.region if sts else IAM_REGION,
        source_ip=ctx.source_ip,
        user_agent=ctx.user_agent,
        host=ctx.host,
        request_id=ctx.request_id,
        principal=ctx.principal,
        access_key_id=outcome.access_key_id,
        request_parameters=params,
        response_elements=response,
        error_code=error.trail_code if error is not None else None,
        error_message=error.message if error is not None else None,
        resources=resources,
    )
    if sts:
        call.request_details = {"awsServingRegion": ctx.serving_region, "endpointType": ctx.endpoint.endpoint_type}
        for name, value in outcome.headers:
            if name == _EXTENDED_ID:
                call.extended_request_id = value.decode()
    return call


class KnownAccounts:
    """The ids of the accounts that exist, read once per batch when first needed.

    Deliberately not ``Directory.account``: that loads and caches account snapshots, and a
    load from the writer thread racing an IAM write could cache a stale one for the request
    path."""

    def __init__(self, directory: Directory):
        self._directory = directory
        self._ids: frozenset[str] | None = None

    def __contains__(self, account: object) -> bool:
        if self._ids is None:
            self._ids = frozenset(self._directory.known_accounts())
        return account in self._ids


def _known(accounts: Container[str], account: str | None) -> str | None:
    return account if account and account in accounts else None


def records(call: Call, accounts: Container[str]) -> list[dict[str, Any]]:
    """One record, or two for a cross-account call (the caller's and the resource owner's)."""
    principal = call.principal
    resource_account = call.resources[0].get("accountId") if call.resources else None
    if principal is not None:
        identity = user_identity(principal)
        account: str | None = principal.account
    else:
        key_account = ids.account_from_access_key_id(call.access_key_id) if call.access_key_id else None
        key_account = _known(accounts, key_account)
        identity = unknown_identity(call.access_key_id, key_account)
        # Unsigned federation calls belong to the account of the role they name.
        account = key_account or _known(accounts, resource_account)
    record: dict[str, Any] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": identity,
        "eventTime": iso(call.time),
        "eventSource": call.event_source,
        "eventName": call.event_name,
        "awsRegion": call.aws_region,
        "sourceIPAddress": call.source_ip,
        "userAgent": call.user_agent,
    }
    if call.error_code is not None:
        record["errorCode"] = call.error_code
        record["errorMessage"] = call.error_message
    record["requestParameters"] = call.request_parameters
    record["responseElements"] = call.response_elements
    additional: dict[str, Any] = {}
    if call.request_details is not None:
        additional["RequestDetails"] = call.request_details
    if call.extended_request_id is not None:
        additional["ExtendedRequestId"] = call.extended_request_id
    if additional:
        record["additionalEventData"] = additional
    record["requestID"] = call.request_id
    record["eventID"] = new_event_id()
    record["readOnly"] = call.read_only
    if call.resources:
        record["resources"] = call.resources
    record["eventType"] = "AwsApiCall"
    record["managementEvent"] = True
    if account:
        record["recipientAccountId"] = account
    tail = {"eventCategory": "Management", "tlsDetails": {"clientProvidedHostHeader": call.host}}
    other = _known(accounts, resource_account) if principal is not None else None
    if other is None or other == account:
        record.update(tail)
        return [record]
    assert principal is not None
    record["sharedEventID"] = new_event_id()
    record.update(tail)
    owner_view = dict(record)
    owner_view["userIdentity"] = account_view(principal)
    owner_view["eventID"] = new_event_id()
    owner_view["recipientAccountId"] = other
    return [record, owner_view]
