"""The one error table: every error stsd returns on the wire is declared here.

An :class:`ErrorSpec` fixes the wire ``Code``, the HTTP status, the fault ``Type`` and the
name CloudTrail records as ``errorCode`` (AWS logs the exception *shape* name for modelled
errors, e.g. ``PackedPolicyTooLargeException``, but sends the shorter wire code).
Handlers raise :class:`AwsError` built from a spec; the renderer turns it into the XML/JSON
envelope. Messages are AWS's texts, byte for byte (see shared/reference).
"""

from __future__ import annotations

from dataclasses import dataclass

STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"
AWSFAULT_NAMESPACE = "http://webservices.amazon.com/AWSFault/2005-15-09"


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    code: str
    status: int
    fault: str = "Sender"  # "Sender" (client's fault) or "Receiver" (ours)
    trail_code: str | None = None  # CloudTrail errorCode when it differs from the wire code

    def __call__(self, message: str | None = None, *, namespace: str | None = None) -> AwsError:
        return AwsError(self, message, namespace)


class AwsError(Exception):
    """An error with AWS's wire shape. ``message=None`` renders without a <Message> element."""

    def __init__(self, spec: ErrorSpec, message: str | None = None, namespace: str | None = None):
        super().__init__(f"{spec.code}: {message}")
        self.spec = spec
        self.message = message
        self.namespace = namespace  # None: the namespace of the service that was called

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def status(self) -> int:
        return self.spec.status

    @property
    def trail_code(self) -> str:
        return self.spec.trail_code or self.spec.code


# --- protocol / transport -------------------------------------------------------------
InvalidAction = ErrorSpec("InvalidAction", 400)
MalformedInput = ErrorSpec("MalformedInput", 400)
ValidationError = ErrorSpec("ValidationError", 400)
InvalidParameterValue = ErrorSpec("InvalidParameterValue", 400)
InternalFailure = ErrorSpec("InternalFailure", 500, "Receiver")
ServiceUnavailable = ErrorSpec("ServiceUnavailable", 503, "Receiver")
Throttling = ErrorSpec("Throttling", 400)

# --- authentication (SigV4) -----------------------------------------------------------
IncompleteSignature = ErrorSpec("IncompleteSignature", 400)
SignatureDoesNotMatch = ErrorSpec("SignatureDoesNotMatch", 403)
InvalidClientTokenId = ErrorSpec("InvalidClientTokenId", 403)
ExpiredToken = ErrorSpec("ExpiredToken", 403)
MissingAuthenticationToken = ErrorSpec("MissingAuthenticationToken", 403)
AccessDenied = ErrorSpec("AccessDenied", 403)
AccessDeniedException = ErrorSpec("AccessDeniedException", 403)  # REST-JSON services

# --- STS modelled errors (wire code / CloudTrail shape name) --------------------------
MalformedPolicyDocument = ErrorSpec(
    "MalformedPolicyDocument", 400, trail_code="MalformedPolicyDocumentException"
)
PackedPolicyTooLarge = ErrorSpec(
    "PackedPolicyTooLarge", 400, trail_code="PackedPolicyTooLargeException"
)
RegionDisabled = ErrorSpec("RegionDisabledException", 403)
ExpiredTokenException = ErrorSpec("ExpiredTokenException", 400)
IDPRejectedClaim = ErrorSpec("IDPRejectedClaim", 403, trail_code="IDPRejectedClaimException")
IDPCommunicationError = ErrorSpec(
    "IDPCommunicationError", 400, trail_code="IDPCommunicationErrorException"
)
InvalidIdentityToken = ErrorSpec(
    "InvalidIdentityToken", 400, trail_code="InvalidIdentityTokenException"
)
InvalidAuthorizationMessage = ErrorSpec("InvalidAuthorizationMessageException", 400)

# --- IAM ------------------------------------------------------------------------------
NoSuchEntity = ErrorSpec("NoSuchEntity", 404)
EntityAlreadyExists = ErrorSpec("EntityAlreadyExists", 409)
DeleteConflict = ErrorSpec("DeleteConflict", 409)
LimitExceeded = ErrorSpec("LimitExceeded", 409)
InvalidAuthenticationCode = ErrorSpec("InvalidAuthenticationCode", 403)
ServiceFailure = ErrorSpec("ServiceFailure", 500, "Receiver")
InvalidInput = ErrorSpec("InvalidInput", 400)

# --- Account API (REST-JSON) ----------------------------------------------------------
ValidationException = ErrorSpec("ValidationException", 400)
ConflictException = ErrorSpec("ConflictException", 409)
ResourceNotFoundException = ErrorSpec("ResourceNotFoundException", 404)
TooManyRequestsException = ErrorSpec("TooManyRequestsException", 429)
InternalServerException = ErrorSpec("InternalServerException", 500, "Receiver")
SerializationException = ErrorSpec("SerializationException", 400)
UnknownOperationException = ErrorSpec("UnknownOperationException", 404)

# --- fixed AWS texts used in more than one place --------------------------------------
MSG_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
MSG_INVALID_TOKEN = "The security token included in the request is invalid."
MSG_IAM_INVALID_TOKEN = "The security token included in the request is invalid"  # IAM's: no period
MSG_EXPIRED_TOKEN = "The security token included in the request is expired"
MSG_SCOPE_REGION = "Credential should be scoped to a valid region. "
MSG_RATE_EXCEEDED = "Rate exceeded"
