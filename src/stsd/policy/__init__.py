"""The IAM policy language: parsing with AWS's validation messages, and evaluation.

>>> trust = parse_policy(document, PolicyKind.TRUST)
>>> result = authorize(request, identity=caller_policies, resource=[trust],
...                    same_account=True, resource_required=True)
"""

from stsd.policy.document import parse_policy
from stsd.policy.evaluate import AuthzReason, AuthzResult, authorize, combine
from stsd.policy.model import Decision, Policy, PolicyKind, Request, ResourceGrant, Statement
from stsd.policy.principals import PrincipalRef

__all__ = [
    "AuthzReason",
    "AuthzResult",
    "Decision",
    "Policy",
    "PolicyKind",
    "PrincipalRef",
    "Request",
    "ResourceGrant",
    "Statement",
    "authorize",
    "combine",
    "parse_policy",
]
