"""AWS's MalformedPolicyDocument texts, byte for byte.

Sources: moto's AWS-validated test table (``tests/test_iam/test_iam_policies.py``), LocalStack
snapshots recorded against AWS ("This policy contains invalid Json"), and error texts quoted
from real IAM/STS responses in public issue trackers.
"""

INVALID_JSON = "This policy contains invalid Json"
SYNTAX = "Syntax errors in policy."
VERSION_2012 = "Policy document must be version 2012-10-17 or greater."
LEGACY = "The policy failed legacy parsing"
SID_UNIQUE = "Statement IDs (SID) in a single policy must be unique."
NEED_ACTIONS = "Policy statement must contain actions."
NEED_RESOURCES = "Policy statement must contain resources."
NO_PRINCIPAL_ALLOWED = "Policy document should not specify a principal."
PROHIBITED_FIELD = "Has prohibited field {field}"
MISSING_PRINCIPAL = "Missing required field Principal"
NO_PRINCIPALS = (
    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
    "The passed in policy has a statement with no principals!"
)
INVALID_PRINCIPAL = 'Invalid principal in policy: "{kind}":"{value}"'
VENDOR_PREFIX = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON = "Actions/Condition can contain only one colon."
BAD_VENDOR = "Vendor {vendor} is not valid"
RESOURCE_FORMAT = 'Resource {resource} must be in ARN format or "*".'
BAD_PARTITION = 'Partition "{partition}" is not valid for resource "{arn}".'
VENDOR_QUALIFIED = "Resource vendor must be fully qualified and cannot contain regexes."
IAM_REGION = "IAM resource {resource} cannot contain region information."
S3_REGION = "Resource {resource} can not contain region information."
IAM_PATH_PREFIXES = (
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
)
IAM_PATH = 'IAM resource path must either be "*" or start with ' + ", ".join(IAM_PATH_PREFIXES) + "."
