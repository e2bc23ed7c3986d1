"""Account-level IAM: GetAccountSummary, SetSecurityTokenServicePreferences."""

from __future__ import annotations

from typing import Any

from stsd.iam import api
from stsd.protocol.params import Str
from stsd.protocol.render import Node
from stsd.server.context import RequestContext

TOKEN_VERSION = Str("GlobalEndpointTokenVersion", "globalEndpointTokenVersion", required=True,
                    choices=("v1Token", "v2Token"))
# IAM's default quotas, reported as AWS reports them (the full key set of a live
# GetAccountSummary; entities stsd does not model count 0).
QUOTAS = {
    "UsersQuota": 5000, "RolesQuota": 1000, "PoliciesQuota": 1500, "GroupsQuota": 300,
    "InstanceProfilesQuota": 1000, "ServerCertificatesQuota": 20, "AccessKeysPerUserQuota": 2,
    "SigningCertificatesPerUserQuota": 2, "GroupsPerUserQuota": 10, "AttachedPoliciesPerUserQuota": 10,
    "AttachedPoliciesPerRoleQuota": 10, "AttachedPoliciesPerGroupQuota": 10, "VersionsPerPolicyQuota": 5,
    "PolicyVersionsInUseQuota": 10000, "PolicySizeQuota": 6144, "UserPolicySizeQuota": 2048,
    "RolePolicySizeQuota": 10240, "GroupPolicySizeQuota": 5120, "AssumeRolePolicySizeQuota": 2048,
}
UNMODELLED = ("Groups", "InstanceProfiles", "ServerCertificates", "AccountPasswordPresent",
              "AccountSigningCertificatesPresent", "AccountMFAEnabled")


def get_account_summary(ctx: RequestContext, _params: dict[str, Any]) -> list[Node]:
    account = api.authorize(ctx, "iam:GetAccountSummary", "*")
    counts = dict(QUOTAS)
    counts.update(dict.fromkeys(UNMODELLED, 0))
    attached = {arn for u in account.users.values() for arn in u.attached}
    attached |= {arn for r in account.roles.values() for arn in r.attached}
    counts.update({
        "Users": len(account.users),
        "Roles": len(account.roles),
        "Policies": len(account.policies),
        "PolicyVersionsInUse": sum(1 for arn in attached if arn in account.policies),
        "Providers": len(account.oidc_providers),  # identity providers: OIDC (SAML is not modelled)
        "MFADevices": len(account.mfa_devices),
        "MFADevicesInUse": sum(1 for d in account.mfa_devices.values() if d.user_name),
        "AccountAccessKeysPresent": int(bool(account.user_keys(None))),
        "GlobalEndpointTokenVersion": account.global_endpoint_token_version,
    })
    entries = [[("key", k), ("value", v)] for k, v in sorted(counts.items())]
    return [("SummaryMap", [("entry", e) for e in entries])]


def set_sts_preferences(ctx: RequestContext, params: dict[str, Any]) -> None:
    api.authorize(ctx, "iam:SetSecurityTokenServicePreferences", "*")
    version = 1 if params["GlobalEndpointTokenVersion"] == "v1Token" else 2
    ctx.runtime.iam.set_global_endpoint_token_version(ctx.caller().account, version)


ACTIONS = (
    api.action("GetAccountSummary", (), get_account_summary),
    api.action("SetSecurityTokenServicePreferences", (TOKEN_VERSION,), set_sts_preferences, write=True),
)
