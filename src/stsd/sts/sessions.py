"""Shared STS machinery: minting credentials, the token version rule, session tags and
policies (with AWS's texts), packed size, and MFA checks. Action modules compose these."""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from stsd import ids
from stsd.auth import principal as p
from stsd.errors import AccessDenied, InvalidParameterValue, PackedPolicyTooLarge
from stsd.iam import totp
from stsd.policy import PolicyKind, parse_policy
from stsd.protocol.params import (
    MSG_DUPLICATE_TAG_KEYS,
    Str,
    StrList,
    StructList,
    single_validation_error,
    tag_chars,
)
from stsd.protocol.render import Node
from stsd.server.context import RequestContext
from stsd.tokens.claims import encode_claims

# --- shared parameter declarations (model shapes, aws-sts-behaviour.md §1.3) ------------------
ARN_CHARS = "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+"
POLICY_CHARS = "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"


_ARN_CHARS = re.compile("[\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
_POLICY_CHARS = re.compile("[\t\n\r\x20-\xff]*")


def arn_chars(value: str) -> bool:
    return _ARN_CHARS.fullmatch(value) is not None


def policy_chars(value: str) -> bool:
    return _POLICY_CHARS.fullmatch(value) is not None


def policy_arns_param() -> StructList:
    return StructList(
        "PolicyArns",
        "policyArns",
        (Str("arn", "arn", min=20, max=2048, pattern=ARN_CHARS, check=arn_chars),),
    )


def tags_param() -> StructList:
    return StructList(
        "Tags",
        "tags",
        (
            Str("Key", "key", required=True, min=1, max=128, pattern="[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
                check=lambda v: bool(v) and tag_chars(v)),
            Str("Value", "value", required=True, max=256, pattern="[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
                check=tag_chars),
        ),
        max_items=50,
    )


def transitive_keys_param() -> StrList:
    return StrList(
        "TransitiveTagKeys",
        "transitiveTagKeys",
        Str("member", "member", min=1, max=128, pattern="[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
            check=lambda v: bool(v) and tag_chars(v)),
        max_items=50,
    )


def session_policy_param(max_length: int | None) -> Str:
    return Str("Policy", "policy", min=1, max=max_length, pattern=POLICY_CHARS, check=policy_chars)


# --- session policies -------------------------------------------------------------------
MAX_SESSION_POLICY_PLAINTEXT = 2048
MAX_POLICY_ARNS = 10


def minify_policy(text: str) -> str:
    """Parse (MalformedPolicyDocument on error) and return the compact form we seal."""
    parse_policy(text, PolicyKind.SESSION)
    return orjson.dumps(orjson.loads(text)).decode()


def session_policies(params: dict[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    """A request's ``Policy`` (parsed, minified) and ``PolicyArns``; ValidationError for more
    than ten ARNs (the text every STS action that takes them gives; not from a recorded AWS
    response, aws-sts-behaviour.md §8)."""
    text = params.get("Policy")
    policy = minify_policy(text) if text is not None else None
    policy_arns = tuple(item["arn"] for item in params.get("PolicyArns", ()))
    if len(policy_arns) > MAX_POLICY_ARNS:
        raise single_validation_error(
            str(list(policy_arns)), "policyArns", "Member must have length less than or equal to 10"
        )
    return policy, policy_arns


# --- session tags -----------------------------------------------------------------------
MSG_DUPLICATE_TAGS = MSG_DUPLICATE_TAG_KEYS
MSG_TRANSITIVE_NOT_IN_TAGS = "The specified transitive tag key must be included in the requested tags."
MSG_TRANSITIVE_CONFLICT = (
    "One of the specified transitive tag keys can't be set because it conflicts with a transitive "
    "tag key from the calling session."
)


def session_tags(
    requested: Sequence[dict[str, str]],
    transitive: Sequence[str],
    caller: p.Principal | None,
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """(all tags of the new session, its transitive keys) after AWS's checks.

    Inherited transitive tags flow on; a request may not re-set one (in any case)."""
    if not requested and not transitive and (caller is None or caller.session is None
                                             or not caller.session.transitive_keys):
        return (), ()  # no tags asked for and none inherited (most sessions)
    seen: set[str] = set()
    for tag in requested:
        key = tag["Key"].lower()
        if key in seen:
            raise InvalidParameterValue(MSG_DUPLICATE_TAGS)
        seen.add(key)
    for key in transitive:
        if key.lower() not in seen:
            raise InvalidParameterValue(MSG_TRANSITIVE_NOT_IN_TAGS)
    inherited_tags: list[tuple[str, str]] = []
    inherited_keys: tuple[str, ...] = ()
    if caller is not None and caller.session is not None and caller.session.transitive_keys:
        inherited_keys = caller.session.transitive_keys
        wanted = {k.lower() for k in inherited_keys}
        inherited_tags = [(k, v) for k, v in caller.session.tags if k.lower() in wanted]
        if wanted & seen:
            raise InvalidParameterValue(MSG_TRANSITIVE_CONFLICT)
    tags = tuple(inherited_tags) + tuple((t["Key"], t["Value"]) for t in requested)
    return tags, inherited_keys + tuple(transitive)


# --- packed size ------------------------------------------------------------------------
# AWS compresses session policies, policy ARNs and tags into a binary form with a fixed
# budget; the format is private. These budgets reproduce the published observations: a
# 2,048-character policy fits, while nine 250-character tag values take about 500 %.
PACKED_POLICY_BUDGET = 1150
PACKED_TAG_BUDGET = 460


def packed_size(policy: str | None, policy_arns: Sequence[str], tags: Sequence[tuple[str, str]]) -> int:
    """Percentage of the packed budget used; raises PackedPolicyTooLarge above 100 %."""
    if not policy and not policy_arns and not tags:
        return 0  # nothing to pack (most sessions)
    policy_blob = (policy or "") + "".join(policy_arns)
    policy_share = len(zlib.compress(policy_blob.encode(), 9)) / PACKED_POLICY_BUDGET if policy_blob else 0.0
    tag_share = sum(len(k.encode()) + len(v.encode()) + 2 for k, v in tags) / PACKED_TAG_BUDGET
    percent = math.ceil((policy_share + tag_share) * 100)
    if percent > 100:
        if tag_share >= policy_share:
            raise PackedPolicyTooLarge(f"Packed size of session tags consumes {percent}% of allotted space.")
        raise PackedPolicyTooLarge(f"Packed policy consumes {percent}% of allotted space")
    return percent


# --- MFA --------------------------------------------------------------------------------
MSG_MFA_INVALID_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
MSG_MFA_UNKNOWN_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA "
    "serial number is valid and associated with this user."
)


def check_mfa(ctx: RequestContext, caller: p.Principal, serial: str | None, code: str | None) -> bool:
    """True when a valid code was presented; False when none was; AccessDenied otherwise."""
    if serial is None and code is None:
        return False
    user = caller.user
    account = ctx.runtime.directory.account(caller.account)
    device = account.mfa_devices.get(serial) if (account and serial) else None
    if (
        device is None
        or code is None
        or user is None
        or device.enabled_at is None
        or (device.user_name or "").lower() != user.name.lower()
    ):
        raise AccessDenied(MSG_MFA_UNKNOWN_DEVICE)
    step = totp.matching_step(device.seed, code, ctx.now.timestamp())
    if step is None or not ctx.runtime.iam.consume_mfa_step(device.serial, step):
        raise AccessDenied(MSG_MFA_INVALID_CODE)
    return True


# --- minting ----------------------------------------------------------------------------
def token_version(ctx: RequestContext, issuing_account: str) -> int:
    """Regional endpoints always issue v2 tokens; the global endpoint follows the issuing
    account's GlobalEndpointTokenVersion (v1 unless SetSecurityTokenServicePreferences)."""
    if ctx.endpoint.endpoint_type != "global":
        return 2
    account = ctx.runtime.directory.account(issuing_account)
    return account.global_endpoint_token_version if account else 1


def mint(ctx: RequestContext, claims: dict[str, Any], duration: int) -> list[Node]:
    """Seal a new session; returns the ``Credentials`` element.

    ``claims``: SessionClaims fields but the times, the secret and the Region, set here.
    """
    issued = int(ctx.now.timestamp())
    access_key_id, secret = ids.new_key_pair(claims["account"], ids.SESSION_KEY_PREFIX)
    raw = encode_claims(
        issued_at=issued, expires_at=issued + duration, secret=secret, region=ctx.serving_region, **claims
    )
    token = ctx.runtime.keyring.seal_encoded(raw, access_key_id, token_version(ctx, claims["account"]))
    expiration = ctx.now + timedelta(seconds=duration)
    return credentials_node(access_key_id, secret, token, expiration)


def credentials_node(access_key_id: str, secret: str, token: str, expiration: datetime) -> list[Node]:
    return [
        ("AccessKeyId", access_key_id),
        ("SecretAccessKey", secret),
        ("SessionToken", token),
        ("Expiration", expiration.astimezone(UTC)),
    ]


def not_authorized(caller: p.Principal, action: str, resource: str | None = None) -> Exception:
    suffix = f" on resource: {resource}" if resource else ""
    return AccessDenied(f"User: {caller.arn} is not authorized to perform: {action}{suffix}")
