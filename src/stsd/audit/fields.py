"""The columns the audit queries filter and group on, derived from a record.

One function for both sources — records stsd writes to its store and records read from
CloudTrail files (stsd's or real AWS logs) — so a query answers the same either way.
Records from before 2025 have no ``RequestDetails``; there the host header tells the
global endpoint (``sts.amazonaws.com``) from the Regional ones, and the global endpoint was
always served in us-east-1.
"""

from __future__ import annotations

from typing import Any

GLOBAL_HOSTS = frozenset({"sts.amazonaws.com"})


def _host(record: dict[str, Any]) -> str:
    tls = record.get("tlsDetails") or {}
    host = str(tls.get("clientProvidedHostHeader") or "").lower()
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def endpoint_details(record: dict[str, Any]) -> tuple[str | None, str | None]:
    """(endpointType, awsServingRegion) of an STS record; (None, None) for other services."""
    details = (record.get("additionalEventData") or {}).get("RequestDetails") or {}
    endpoint_type = details.get("endpointType")
    serving = details.get("awsServingRegion")
    if record.get("eventSource") != "sts.amazonaws.com":
        return endpoint_type, serving
    if endpoint_type is None:
        host = _host(record)
        if host in GLOBAL_HOSTS:
            endpoint_type = "global"
        elif host.startswith(("sts.", "sts-fips.")) or ".sts." in host:
            endpoint_type = "regional"
    if serving is None and endpoint_type is not None:
        serving = "us-east-1" if endpoint_type == "global" else record.get("awsRegion")
    return endpoint_type, serving


def principal_of(record: dict[str, Any]) -> str | None:
    identity = record.get("userIdentity") or {}
    return identity.get("arn") or identity.get("principalId")


COLUMNS = ("event_id", "event_time", "account_id", "region", "event_source", "event_name", "principal_arn",
           "identity_type", "endpoint_type", "serving_region", "source_ip", "user_agent", "error_code", "request_id")


def index_values(record: dict[str, Any]) -> tuple[Any, ...]:
    """The indexed columns of ``audit_events`` (without the JSON itself), in :data:`COLUMNS` order."""
    endpoint_type, serving = endpoint_details(record)
    identity = record.get("userIdentity") or {}
    return (
        record["eventID"],
        record["eventTime"],
        record.get("recipientAccountId") or "",
        record.get("awsRegion") or "",
        record.get("eventSource") or "",
        record.get("eventName") or "",
        identity.get("arn") or identity.get("principalId"),
        identity.get("type"),
        endpoint_type,
        serving,
        record.get("sourceIPAddress"),
        record.get("userAgent"),
        record.get("errorCode"),
        record.get("requestID"),
    )


def index_row(record: dict[str, Any]) -> dict[str, Any]:
    return dict(zip(COLUMNS, index_values(record), strict=True))
