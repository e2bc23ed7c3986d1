"""Everything IAM stores survives a restart on the same data directory: users, keys (which
still authenticate), roles, inline and managed policies and their attachments, MFA devices,
the account's STS preferences, and session credentials issued before the restart."""

from __future__ import annotations

import json
from typing import Any

from stsd.testing import Credentials, StsdServer
from tests.conftest import session_credentials
from tests.e2e.test_iam_support import ACCOUNT_A, allow, settled_step, totp, trust


def snapshot(iam: Any, user: str, role: str, policy_arn: str) -> dict[str, Any]:
    def clean(response: dict[str, Any]) -> dict[str, Any]:
        response.pop("ResponseMetadata", None)
        return response

    return {
        "user": clean(iam.get_user(UserName=user)),
        "user_policy": clean(iam.get_user_policy(UserName=user, PolicyName="assume")),
        "user_policies": clean(iam.list_user_policies(UserName=user)),
        "keys": clean(iam.list_access_keys(UserName=user)),
        "mfa": clean(iam.list_mfa_devices(UserName=user)),
        "role": clean(iam.get_role(RoleName=role)),
        "role_policies": clean(iam.list_role_policies(RoleName=role)),
        "attached": clean(iam.list_attached_role_policies(RoleName=role)),
        "policy": clean(iam.get_policy(PolicyArn=policy_arn)),
        "version": clean(iam.get_policy_version(PolicyArn=policy_arn, VersionId="v1")),
        "local_policies": clean(iam.list_policies(Scope="Local")),
        "token_version": iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"],
    }


def test_iam_state_and_sessions_survive_a_restart(tmp_path):
    first = StsdServer(data_dir=tmp_path, accounts=(ACCOUNT_A,))
    first.start()
    try:
        admin = first.admins[ACCOUNT_A]
        iam = first.client("iam", admin)
        user, role = "persisted-user", "Persisted-Role"
        iam.create_user(UserName=user, Path="/keep/", Tags=[{"Key": "k", "Value": "v"}])
        key = iam.create_access_key(UserName=user)["AccessKey"]
        user_creds = Credentials(ACCOUNT_A, key["AccessKeyId"], key["SecretAccessKey"], user_name=user)
        iam.put_user_policy(UserName=user, PolicyName="assume", PolicyDocument=allow(["sts:AssumeRole", "iam:Get*"]))
        user_arn = f"arn:aws:iam::{ACCOUNT_A}:user/keep/{user}"
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"AWS": user_arn}), MaxSessionDuration=7200,
                        Description="kept", Tags=[{"Key": "team", "Value": "a"}],
                        PermissionsBoundary="arn:aws:iam::aws:policy/PowerUserAccess")
        iam.put_role_policy(RoleName=role, PolicyName="inline", PolicyDocument=allow("s3:GetObject"))
        policy_arn = iam.create_policy(PolicyName="KeptPolicy", Path="/kept/", Description="a managed one",
                                       PolicyDocument=allow(["s3:ListBucket"]))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
        iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName="kept-device")["VirtualMFADevice"]
        step = settled_step()
        iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"],
                              AuthenticationCode1=totp(device["Base32StringSeed"], step - 1),
                              AuthenticationCode2=totp(device["Base32StringSeed"], step))
        iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")

        sts = first.client("sts", user_creds)
        role_arn = iam.get_role(RoleName=role)["Role"]["Arn"]
        role_session = session_credentials(sts.assume_role(RoleArn=role_arn, RoleSessionName="before-restart"),
                                           ACCOUNT_A)
        user_session = session_credentials(sts.get_session_token(DurationSeconds=900), ACCOUNT_A)
        mfa_session = session_credentials(sts.get_session_token(
            SerialNumber=device["SerialNumber"], TokenCode=totp(device["Base32StringSeed"], step + 1)), ACCOUNT_A)
        before = snapshot(iam, user, role, policy_arn)
        role_identity = first.client("sts", role_session).get_caller_identity()
        # StsdServer.start() runs `stsd init`, which mints one more admin key; `serve` minted
        # the bootstrap key: free a slot so the restart does not hit the 2-key quota.
        for meta in iam.list_access_keys(UserName="admin")["AccessKeyMetadata"]:
            if meta["AccessKeyId"] != admin.access_key_id:
                iam.delete_access_key(UserName="admin", AccessKeyId=meta["AccessKeyId"])
    finally:
        first.stop()

    second = StsdServer(data_dir=tmp_path, accounts=(ACCOUNT_A,))
    second.start()
    try:
        iam = second.client("iam", second.admins[ACCOUNT_A])
        after = snapshot(iam, user, role, policy_arn)
        assert after == before
        assert before["token_version"] == 2
        assert before["role"]["Role"]["AssumeRolePolicyDocument"] == json.loads(trust({"AWS": user_arn}))
        assert [p["PolicyArn"] for p in after["attached"]["AttachedPolicies"]] == [
            policy_arn, "arn:aws:iam::aws:policy/IAMReadOnlyAccess"]
        assert after["mfa"]["MFADevices"][0]["SerialNumber"] == device["SerialNumber"]

        # The user's key, the old admin key and the sessions issued before the restart all work.
        assert second.client("sts", user_creds).get_caller_identity()["Arn"] == user_arn
        assert second.client("iam", admin).get_user()["User"]["UserName"] == "admin"
        again = second.client("sts", role_session).get_caller_identity()
        again.pop("ResponseMetadata")
        role_identity.pop("ResponseMetadata")
        assert again == role_identity
        assert again["Arn"] == f"arn:aws:sts::{ACCOUNT_A}:assumed-role/{role}/before-restart"
        assert second.client("sts", user_session).get_caller_identity()["Arn"] == user_arn
        # The MFA session still reaches IAM with the user's permissions.
        assert second.client("iam", mfa_session).get_user()["User"]["Arn"] == user_arn
        # And the restarted server keeps accepting writes that build on the old state.
        iam.detach_role_policy(RoleName=role, PolicyArn=policy_arn)
        assert iam.get_policy(PolicyArn=policy_arn)["Policy"]["AttachmentCount"] == 0
    finally:
        second.stop()
