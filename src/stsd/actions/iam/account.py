"""Account-level IAM: GetAccountSummary, SetSecurityTokenServicePreferences."""

from __future__ import annotations

from typing import Any

from stsd.actions.base import IAM, Action
from stsd.iam import api
from stsd.protocol.params import Str
from stsd.protocol.render import Node
from stsd.server.context import RequestContext

TOKEN_VERSION = Str("GlobalEndpointTokenVersion", "globalEndpointTokenVersion", required=True,
                    choices=("v1Token", "v2Token"))
# IAM's default quotas, reported as AWS reports them.
QUOTAS = {
    "UsersQuota": 5000, "RolesQuota": 1000, "PoliciesQuota": 1500, "AccessKeysPerUserQuota": 2,
    "AttachedPoliciesPerUserQuota": 10, "AttachedPoliciesPerRoleQuota": 10, "VersionsPerPolicyQuota": 5,
    "PolicySizeQuota": 6144, "UserPolicySizeQuota": 2048, "RolePolicySizeQuota": 10240,
    "AssumeRolePolicySizeQuota": 2048, "MFADevicesInUse": 0,
}


def get_account_summary(ctx: RequestContext, _params: dict[str, Any]) -> list[Node]:
    account = api.authorize(ctx, "iam:GetAccountSummary", "*")
    counts = dict(QUOTAS)
    counts.update({
        "Users": len(account.users),
        "Roles": len(account.roles),
        "Policies": len(account.policies),
        "MFADevices": len(account.mfa_devices),
        "MFADevicesInUse": sum(1 for d in account.mfa_devices.values() if d.user_name),
        "AccountAccessKeysPresent": int(bool(account.user_keys(None))),
        "AccountMFAEnabled": 0,
        "GlobalEndpointTokenVersion": account.global_endpoint_token_version,
    })
    entries = [[("key", k), ("value", v)] for k, v in sorted(counts.items())]
    return [("SummaryMap", [("entry", e) for e in entries])]


def set_sts_preferences(ctx: RequestContext, params: dict[str, Any]) -> None:
    api.authorize(ctx, "iam:SetSecurityTokenServicePreferences", "*")
    version = 1 if params["GlobalEndpointTokenVersion"] == "v1Token" else 2
    ctx.runtime.iam.set_global_endpoint_token_version(ctx.caller().account, version)


ACTIONS = (
    Action("GetAccountSummary", IAM, (), get_account_summary),
    Action("SetSecurityTokenServicePreferences", IAM, (TOKEN_VERSION,), set_sts_preferences, blocking=True,
           read_only=False),
)
