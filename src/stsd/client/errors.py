"""Errors raised while resolving an STS endpoint, and by the failover client.

Every resolution error carries the SDK's message text verbatim, and its name matches the botocore
exception raised in the same situation (``botocore_name`` says which, where it differs),
so callers and tests can compare the two implementations one to one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from stsd.client.history import Attempt


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


# --- failover client -------------------------------------------------------------------


class FailoverConfigError(ValueError):
    """A RegionalSTS configuration that cannot work (raised at construction)."""


class CrossPartitionError(FailoverConfigError):
    """A fallback Region (or the global endpoint) outside the primary Region's partition."""


class InvalidFailoverRegionError(FailoverConfigError):
    """A pseudo-Region or malformed name given as a primary or fallback Region."""


class FailoverError(Exception):
    """No endpoint produced an answer. ``attempts`` says what was tried, in order."""

    def __init__(self, message: str, attempts: tuple[Attempt, ...], last_error: BaseException | None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_error = last_error

    @property
    def response(self) -> dict[str, Any] | None:
        """The last botocore error response, if the last failure was one (like ClientError)."""
        return getattr(self.last_error, "response", None)


class AllRegionsFailedError(FailoverError):
    """Every candidate endpoint failed with an error worth failing over on."""


class DeadlineExceededError(FailoverError):
    """The overall deadline ran out before any endpoint answered."""
