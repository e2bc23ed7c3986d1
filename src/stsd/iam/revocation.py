"""Revoking a role's older sessions the way AWS does it: no per-session state, but an inline
policy that denies everything to sessions whose aws:TokenIssueTime is before a cut-off."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

POLICY_NAME = "AWSRevokeOlderSessions"


def revocation_policy(cutoff: datetime) -> str:
    stamp = cutoff.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return orjson.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": stamp}},
        }],
    }).decode()


def revoke_older_sessions(runtime, account_id: str, role_name: str, now: datetime | None = None) -> str:
    # Sessions carry whole-second issue times; the cut-off is the next second so a session
    # issued in this very second is revoked too.
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    cutoff = datetime.fromtimestamp(moment.timestamp() + 1, UTC)
    runtime.iam.put_inline_policy(account_id, "role", role_name, POLICY_NAME, revocation_policy(cutoff))
    return cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
