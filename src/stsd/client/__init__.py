"""Client side: STS endpoint resolution identical to the AWS SDKs (botocore rules)."""

from stsd.client.errors import EndpointResolutionError
from stsd.client.resolver import (
    ResolvedEndpoint,
    resolve_endpoint,
    sts_regional_endpoints_setting,
)

__all__ = [
    "EndpointResolutionError",
    "ResolvedEndpoint",
    "resolve_endpoint",
    "sts_regional_endpoints_setting",
]
