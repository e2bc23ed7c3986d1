"""Errors raised while resolving an STS endpoint.

Every class carries the SDK's message text verbatim, and its name matches the botocore
exception raised in the same situation (``botocore_name`` says which, where it differs),
so callers and tests can compare the two implementations one to one.
"""

from __future__ import annotations

from typing import ClassVar


class EndpointResolutionError(ValueError):
    """Base class: ``str(exc)`` is exactly the SDK's message."""

    botocore_name: ClassVar[str] = "EndpointResolutionError"


class RulesetError(EndpointResolutionError):
    """An ``error`` rule of the STS ruleset ("Invalid Configuration: Missing Region", ...)."""


class InvalidSTSRegionalEndpointsConfigError(EndpointResolutionError):
    botocore_name = "InvalidSTSRegionalEndpointsConfigError"

    def __init__(self, value: object) -> None:
        super().__init__(
            f"STS regional endpoints option {value} is invalid. "
            'Valid options are: "legacy", "regional"'
        )
        self.value = value


class InvalidRegionError(EndpointResolutionError):
    botocore_name = "InvalidRegionError"

    def __init__(self, region: str) -> None:
        super().__init__(f"Provided region_name '{region}' doesn't match a supported format.")
        self.region = region


class NoRegionError(EndpointResolutionError):
    """A custom endpoint with no Region: nothing to put in the SigV4 scope."""

    botocore_name = "NoRegionError"

    def __init__(self) -> None:
        super().__init__("You must specify a region.")


class EndpointVariantError(EndpointResolutionError):
    """botocore's endpoints.json layer has no dual-stack variant (aws-iso-e, aws-iso-f)."""

    botocore_name = "EndpointVariantError"

    def __init__(self, tags: list[str]) -> None:
        super().__init__(
            f"Unable to construct a modeled endpoint with the following variant(s) {tags}: "
        )
        self.tags = tags


class InvalidEndpointError(EndpointResolutionError):
    """A URL that is not a usable endpoint (botocore raises a plain ValueError)."""

    botocore_name = "ValueError"

    def __init__(self, url: str) -> None:
        super().__init__(f"Invalid endpoint: {url}")
        self.url = url


class ProfileNotFound(EndpointResolutionError):
    botocore_name = "ProfileNotFound"

    def __init__(self, profile: str) -> None:
        super().__init__(f"The config profile ({profile}) could not be found")
        self.profile = profile


class InvalidConfigError(EndpointResolutionError):
    botocore_name = "InvalidConfigError"


class ConfigParseError(EndpointResolutionError):
    botocore_name = "ConfigParseError"

    def __init__(self, path: str) -> None:
        super().__init__(f"Unable to parse config file: {path}")
        self.path = path
