"""GetAccountSummary and SetSecurityTokenServicePreferences (aws-sts-behaviour.md §3.6):
SummaryMap values are integers; GlobalEndpointTokenVersion is 1 or 2 and follows v1Token /
v2Token. The key set is the one a live account returns (LocalStack
test_iam_account_summary.snapshot.json, 2026)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_iam_support import ACCOUNT_B, coral_any, expect_error, unique

SUMMARY_KEYS = {
    "AccessKeysPerUserQuota", "AccountAccessKeysPresent", "AccountMFAEnabled", "AccountPasswordPresent",
    "AccountSigningCertificatesPresent", "AssumeRolePolicySizeQuota", "AttachedPoliciesPerGroupQuota",
    "AttachedPoliciesPerRoleQuota", "AttachedPoliciesPerUserQuota", "GlobalEndpointTokenVersion",
    "GroupPolicySizeQuota", "Groups", "GroupsPerUserQuota", "GroupsQuota", "InstanceProfiles",
    "InstanceProfilesQuota", "MFADevices", "MFADevicesInUse", "Policies", "PoliciesQuota", "PolicySizeQuota",
    "PolicyVersionsInUse", "PolicyVersionsInUseQuota", "Providers", "RolePolicySizeQuota", "Roles", "RolesQuota",
    "ServerCertificates", "ServerCertificatesQuota", "SigningCertificatesPerUserQuota", "UserPolicySizeQuota",
    "Users", "UsersQuota", "VersionsPerPolicyQuota",
}
QUOTAS = {
    "AccessKeysPerUserQuota": 2, "AssumeRolePolicySizeQuota": 2048, "AttachedPoliciesPerGroupQuota": 10,
    "AttachedPoliciesPerRoleQuota": 10, "AttachedPoliciesPerUserQuota": 10, "GroupPolicySizeQuota": 5120,
    "GroupsPerUserQuota": 10, "GroupsQuota": 300, "InstanceProfilesQuota": 1000, "PoliciesQuota": 1500,
    "PolicySizeQuota": 6144, "PolicyVersionsInUseQuota": 10000, "RolePolicySizeQuota": 10240,
    "RolesQuota": 1000, "ServerCertificatesQuota": 20, "SigningCertificatesPerUserQuota": 2,
    "UserPolicySizeQuota": 2048, "UsersQuota": 5000, "VersionsPerPolicyQuota": 5,
}


@pytest.fixture
def restore_token_version(iam_b):
    original = iam_b.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"]
    yield
    iam_b.set_security_token_service_preferences(GlobalEndpointTokenVersion=f"v{original}Token")


def test_account_summary_shape(iam_a):
    summary = iam_a.get_account_summary()["SummaryMap"]
    assert set(summary) == SUMMARY_KEYS
    assert all(type(v) is int for v in summary.values())
    assert {k: summary[k] for k in QUOTAS} == QUOTAS
    assert summary["GlobalEndpointTokenVersion"] in (1, 2)
    assert summary["AccountMFAEnabled"] == 0


def test_account_summary_counts(iam_a):
    before = iam_a.get_account_summary()["SummaryMap"]
    user, role = unique("sum"), unique("sum")
    iam_a.create_user(UserName=user)
    iam_a.create_role(RoleName=role, AssumeRolePolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},'
        '"Action":"sts:AssumeRole"}]}'))
    arn = iam_a.create_policy(PolicyName=unique("sum"), PolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'))["Policy"]["Arn"]
    iam_a.attach_role_policy(RoleName=role, PolicyArn=arn)
    after = iam_a.get_account_summary()["SummaryMap"]
    deltas = {k: after[k] - before[k] for k in ("Users", "Roles", "Policies", "PolicyVersionsInUse")}
    assert deltas == {"Users": 1, "Roles": 1, "Policies": 1, "PolicyVersionsInUse": 1}
    iam_a.delete_user(UserName=user)
    assert iam_a.get_account_summary()["SummaryMap"]["Users"] == before["Users"]


def test_sts_preferences_set_the_token_version(iam_b, iam_a, restore_token_version):
    a_version = iam_a.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"]
    response = iam_b.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    assert set(response) == {"ResponseMetadata"}
    assert iam_b.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 2
    iam_b.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")  # idempotent
    assert iam_b.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 2
    iam_b.set_security_token_service_preferences(GlobalEndpointTokenVersion="v1Token")
    assert iam_b.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 1
    # Per account: account A did not move.
    assert iam_a.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == a_version


def test_sts_preferences_validation(server, iam_b, restore_token_version):
    before = iam_b.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"]
    raw = server.client("iam", server.admins[ACCOUNT_B], parameter_validation=False)
    for bad in ("v3Token", "V2TOKEN", "2"):
        expect_error(raw.set_security_token_service_preferences, "ValidationError", 400,
                     coral_any("globalEndpointTokenVersion", "Member must satisfy enum value set: [v1Token, v2Token]"),
                     GlobalEndpointTokenVersion=bad)
    expect_error(raw.set_security_token_service_preferences, "ValidationError", 400,
                 re.compile(r"1 validation error detected: Value (?:null )?at 'globalEndpointTokenVersion' "
                            r"failed to satisfy constraint: Member must not be null"))
    assert iam_b.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == before
