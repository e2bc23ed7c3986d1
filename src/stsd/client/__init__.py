"""Client side: STS endpoint resolution identical to the AWS SDKs (botocore rules), the
SDK behaviour explainer, and a failover STS client with refreshing credentials.

The resolver needs nothing but the standard library; the failover client and the
credential providers need botocore (and boto3 for sessions), so they are imported on
first use: ``from stsd.client import RegionalSTS`` or ``import stsd.client.credentials``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from stsd.client.errors import EndpointResolutionError
from stsd.client.resolver import (
    ResolvedEndpoint,
    resolve_endpoint,
    sts_regional_endpoints_setting,
)

if TYPE_CHECKING:
    from stsd.client.errors import (
        AllRegionsFailedError,
        CrossPartitionError,
        DeadlineExceededError,
        FailoverError,
    )
    from stsd.client.failover import RegionalSTS
    from stsd.client.health import RegionHealth
    from stsd.client.history import Attempt, CallRecord

_LAZY = {
    "RegionalSTS": "stsd.client.failover",
    "RegionHealth": "stsd.client.health",
    "Attempt": "stsd.client.history",
    "CallRecord": "stsd.client.history",
    "FailoverError": "stsd.client.errors",
    "AllRegionsFailedError": "stsd.client.errors",
    "DeadlineExceededError": "stsd.client.errors",
    "CrossPartitionError": "stsd.client.errors",
}
_SUBMODULES = ("credentials", "failover", "health", "explain", "sdk_table", "nearby", "classify", "history")

__all__ = [
    "AllRegionsFailedError",
    "Attempt",
    "CallRecord",
    "CrossPartitionError",
    "DeadlineExceededError",
    "EndpointResolutionError",
    "FailoverError",
    "RegionHealth",
    "RegionalSTS",
    "ResolvedEndpoint",
    "resolve_endpoint",
    "sts_regional_endpoints_setting",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"stsd.client.{name}")
    raise AttributeError(f"module 'stsd.client' has no attribute {name!r}")
