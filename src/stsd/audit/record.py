"""CloudTrail records: from a finished pipeline ``Outcome`` (or an admin call) to the JSON
objects AWS writes, in AWS's field order (aws-sts-behaviour.md §4).

Runs in the audit writer process (:mod:`stsd.audit.worker`): the server process only reduced
the Outcome to primitives (:mod:`stsd.audit.wire`).
"""

from __future__ import annotations

import os
import random
from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from stsd import ids
from stsd.audit.identity import account_view, unknown_identity, user_identity
from stsd.audit.timefmt import iso
from stsd.auth.principal import Principal

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
    additional_event_data: dict[str, Any] | None = None  # more additionalEventData, from the handler
    tls: Sequence[str] | None = None  # (tlsVersion, cipherSuite) of an HTTPS connection


# Event ids identify records; they are not secrets. A seeded generator (seeded per process:
# each writer process has its own) avoids a system call per record.
_ids = random.Random(os.urandom(32))


def new_event_id() -> str:
    """A random (version 4) UUID string, without building a uuid.UUID (cheaper)."""
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


def responds(sts: bool, action_name: str, read_only: bool, failed: bool) -> bool:
    """Whether CloudTrail records the call's ``responseElements`` (decided where the result is
    reduced to them: in the server process, so the result's secrets never leave it)."""
    return not (failed or (sts and action_name in _NO_RESPONSE) or (not sts and read_only))


def extended_request_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in reversed(headers):  # the pipeline appends it last
        if name == _EXTENDED_ID:
            return value.decode()
    return None


def action_call(*, sts: bool, action_name: str, read_only: bool, time: datetime, endpoint_region: str,
                endpoint_type: str, serving_region: str, source_ip: str, user_agent: str, host: str,
                request_id: str, principal: Principal | None, access_key_id: str | None,
                request_parameters: dict[str, Any] | None, response_elements: dict[str, Any] | None,
                error_code: str | None, error_message: str | None, audit: dict[str, Any] | None,
                extended_request_id: str | None, tls: Sequence[str] | None = None) -> Call:
    """The Call of a Query-API request that reached an action (see :mod:`stsd.audit.wire` for
    how the pipeline's Outcome is reduced to these arguments).

    ``audit`` is what the handler left in ``ctx.audit``: ``resources``, and for calls whose
    records carry more than the request's members, ``requestParameters`` (merged over them,
    e.g. AssumeRoleWithWebIdentity's token tags) and ``additionalEventData``."""
    audit = audit or {}
    resources = audit.get("resources")
    extra_parameters = audit.get("requestParameters")
    if extra_parameters:
        request_parameters = {**(request_parameters or {}), **extra_parameters}
    if resources is None and action_name == "AssumeRole" and request_parameters:
        resources = _role_resource(request_parameters.get("roleArn"))
    call = Call(
        event_source=STS_SOURCE if sts else IAM_SOURCE,
        event_name=action_name,
        read_only=read_only,
        time=time,
        # The global endpoint is recorded in us-east-1 whichever Region served it.
        aws_region=endpoint_region if sts else IAM_REGION,
        source_ip=source_ip,
        user_agent=user_agent,
        host=host,
        request_id=request_id,
        principal=principal,
        access_key_id=access_key_id,
        request_parameters=request_parameters,
        response_elements=response_elements,
        error_code=error_code,
        error_message=error_message,
        resources=resources,
        additional_event_data=audit.get("additionalEventData"),
        tls=tls,
    )
    if sts:
        call.request_details = {"awsServingRegion": serving_region, "endpointType": endpoint_type}
        call.extended_request_id = extended_request_id
    return call


def tls_details(call: Call) -> dict[str, str]:
    """``tlsDetails``: the host the client sent, and over HTTPS the negotiated version and cipher."""
    if call.tls is None:
        return {"clientProvidedHostHeader": call.host}
    version, cipher = call.tls
    return {"tlsVersion": version, "cipherSuite": cipher, "clientProvidedHostHeader": call.host}


class AccountSource(Protocol):
    def known_accounts(self) -> list[str]: ...


class KnownAccounts:
    """The ids of the accounts that exist, read once per batch when first needed (a record
    names an account only if it exists: a forged key id must not create a trail)."""

    def __init__(self, source: AccountSource):
        self._source = source
        self._ids: frozenset[str] | None = None

    def __contains__(self, account: object) -> bool:
        if self._ids is None:
            self._ids = frozenset(self._source.known_accounts())
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
    additional: dict[str, Any] = dict(call.additional_event_data) if call.additional_event_data else {}
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
    tail = {"eventCategory": "Management", "tlsDetails": tls_details(call)}
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
