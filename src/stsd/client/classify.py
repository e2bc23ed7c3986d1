"""Which failures move a call on to the next Region, and which must reach the caller.

The rule: fail over when *another Region could plausibly answer* — the endpoint did not
respond (connection errors, timeouts, a dropped or garbled response), it is unhealthy
(5xx), it is over its quota (throttling: quotas are per Region), or STS is deactivated
there for the account (RegionDisabledException). Never fail over when the answer would
be the same everywhere: the request or the credentials are wrong (AccessDenied,
validation errors, ExpiredToken, InvalidClientTokenId, MalformedPolicyDocument,
PackedPolicyTooLarge, signature errors...). Unknown error codes with a 4xx status do not
fail over either: repeating a rejected request in every Region only multiplies it.
(One exception depends on the Region, so :class:`~stsd.client.failover.RegionalSTS` makes it:
InvalidClientTokenId from an opt-in *fallback* Region means the account has not enabled it.)
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore import exceptions as bce
from botocore.parsers import ResponseParserError

# Throttling codes botocore's standard retry mode knows, plus STS's own.
THROTTLING_CODES = frozenset({
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
})
# Transient service-side codes that may come with a non-5xx status.
TRANSIENT_CODES = frozenset({
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "RequestTimeout",
    "RequestTimeoutException",
    "IDPCommunicationError",  # STS could not reach the IdP from this Region
})
REGION_DISABLED = "RegionDisabledException"
# Documented for readers and asserted by tests: these never fail over (neither does any
# other unlisted 4xx code).
NEVER_FAILOVER_CODES = frozenset({
    "AccessDenied",
    "AccessDeniedException",
    "ValidationError",
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "MissingParameter",
    "InvalidAction",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "MalformedPolicyDocument",
    "MalformedPolicyDocumentException",
    "PackedPolicyTooLarge",
    "PackedPolicyTooLargeException",
    "InvalidIdentityToken",
    "InvalidIdentityTokenException",
    "IDPRejectedClaim",
    "IDPRejectedClaimException",
    "InvalidAuthorizationMessageException",
})


@dataclass(frozen=True, slots=True)
class Verdict:
    failover: bool
    reason: str  # short, stable label for logs and Attempt.reason
    trip: bool = False  # open the Region's breaker at once (the failure will repeat)
    code: str | None = None
    status: int | None = None


def classify(exc: BaseException) -> Verdict:
    if isinstance(exc, bce.ClientError):
        return _client_error(exc)
    if isinstance(exc, bce.ConnectTimeoutError):
        return Verdict(True, "connect-timeout")
    if isinstance(exc, bce.ReadTimeoutError):
        return Verdict(True, "read-timeout")
    if isinstance(exc, bce.EndpointConnectionError):
        return Verdict(True, "connection-error")
    if isinstance(exc, bce.ProxyConnectionError):
        return Verdict(True, "proxy-error")
    if isinstance(exc, bce.ConnectionClosedError):
        return Verdict(True, "connection-closed")
    if isinstance(exc, bce.SSLError):
        return Verdict(True, "tls-error")
    if isinstance(exc, bce.HTTPClientError | bce.ConnectionError):
        return Verdict(True, "http-client-error")
    if isinstance(exc, ResponseParserError):
        # Not an STS answer at all (a proxy's or load balancer's error page).
        return Verdict(True, "unparsable-response")
    if isinstance(exc, AttemptTimeout):
        return Verdict(True, "deadline")
    return Verdict(False, type(exc).__name__)


def _client_error(exc: bce.ClientError) -> Verdict:
    error = exc.response.get("Error", {}) or {}
    code = str(error.get("Code") or "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == REGION_DISABLED:
        return Verdict(True, "region-disabled", trip=True, code=code, status=status)
    if code in THROTTLING_CODES:
        return Verdict(True, "throttling", code=code, status=status)
    if code in TRANSIENT_CODES or (isinstance(status, int) and status >= 500):
        return Verdict(True, f"http-{status}" if status else "transient", code=code, status=status)
    return Verdict(False, code or f"http-{status}", code=code or None, status=status)


class AttemptTimeout(Exception):
    """The overall deadline ran out while an attempt was still waiting for an answer."""
