"""The AWS-managed policies stsd ships (documents as AWS publishes them)."""

from __future__ import annotations

import orjson

AWS_MANAGED: list[tuple[str, str, str, dict]] = [
    (
        "AdministratorAccess",
        "/",
        "Provides full access to AWS services and resources.",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    ),
    (
        "PowerUserAccess",
        "/",
        "Provides full access to AWS services and resources, but does not allow management of "
        "Users and groups.",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "NotAction": ["iam:*", "organizations:*", "account:*"],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "iam:CreateServiceLinkedRole",
                        "iam:DeleteServiceLinkedRole",
                        "iam:ListRoles",
                        "organizations:DescribeOrganization",
                        "account:ListRegions",
                        "account:GetAccountInformation",
                    ],
                    "Resource": "*",
                },
            ],
        },
    ),
    (
        "IAMFullAccess",
        "/",
        "Provides full access to IAM via the AWS Management Console.",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:*"], "Resource": "*"}]},
    ),
    (
        "IAMReadOnlyAccess",
        "/",
        "Provides read only access to IAM via the AWS Management Console.",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["iam:GenerateCredentialReport", "iam:GenerateServiceLastAccessedDetails",
                               "iam:Get*", "iam:List*", "iam:SimulateCustomPolicy",
                               "iam:SimulatePrincipalPolicy"],
                    "Resource": "*",
                }
            ],
        },
    ),
    (
        "AWSDenyAll",
        "/",
        "Denies all access.",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]},
    ),
]


def documents() -> list[tuple[str, str, str, str]]:
    return [(name, path, desc, orjson.dumps(doc).decode()) for name, path, desc, doc in AWS_MANAGED]
