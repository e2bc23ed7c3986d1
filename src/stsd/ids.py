"""Identifiers as AWS shapes them: access key ids that encode the owning account, unique ids,
secret keys and ARNs.

Access key ids follow the widely reproduced (undocumented) AWS layout so that our
GetAccessKeyInfo, TruffleHog and friends agree on the account: 4-character prefix, then 16
base32 characters whose first 48 bits hold ``account << 7`` (bit 47 set, as in current AWS
keys, which keeps the fifth character out of the legacy ``I``/``J`` range).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import secrets

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_ACCOUNT_MASK = 0x7FFFFFFFFF80
_ACCOUNT_RE = re.compile(r"[0-9]{12}")  # ASCII only: \d would admit other scripts

ACCESS_KEY_PREFIX = "AKIA"
SESSION_KEY_PREFIX = "ASIA"
USER_ID_PREFIX = "AIDA"
ROLE_ID_PREFIX = "AROA"
POLICY_ID_PREFIX = "ANPA"


def is_account_id(value: str) -> bool:
    return bool(_ACCOUNT_RE.fullmatch(value))


def new_access_key_id(account: str, prefix: str = ACCESS_KEY_PREFIX, noise: bytes | None = None) -> str:
    """A key id whose body encodes ``account`` (AKIA for long-term keys, ASIA for sessions).
    ``noise``: 5 random bytes, when the caller drew them already (one system call per key pair)."""
    if noise is None:
        noise = secrets.token_bytes(5)  # 7 bits for the head, 4 bytes for the tail
    head = (1 << 47) | (int(account) << 7) | (noise[0] & 0x7F)
    return prefix + _b32_80((head << 32) | int.from_bytes(noise[1:], "big"))


_B32_PAIRS = tuple(a + b for a in _B32 for b in _B32)  # 10 bits → two characters


def _b32_80(value: int) -> str:
    """RFC 4648 base32 of an 80-bit number (16 characters, no padding); base64.b32encode is
    pure Python and was a measurable share of minting a session."""
    pairs = _B32_PAIRS
    return (pairs[(value >> 70) & 1023] + pairs[(value >> 60) & 1023] + pairs[(value >> 50) & 1023]
            + pairs[(value >> 40) & 1023] + pairs[(value >> 30) & 1023] + pairs[(value >> 20) & 1023]
            + pairs[(value >> 10) & 1023] + pairs[value & 1023])


@functools.lru_cache(maxsize=65536)  # on every authenticated request; bounded against forged ids
def account_from_access_key_id(access_key_id: str) -> str | None:
    """The account encoded in a key id, or None for ids that carry none (old AKIAI…/AKIAJ… keys)."""
    body = access_key_id[4:20]
    if len(access_key_id) != 20 or len(body) != 16 or body[0] in "IJ":
        return None
    if any(c not in _B32 for c in body):
        return None
    head = int.from_bytes(base64.b32decode(body)[:6], "big")
    return f"{(head & _ACCOUNT_MASK) >> 7:012d}"


def new_unique_id(prefix: str) -> str:
    """AIDA…/AROA…/ANPA…: 21 characters, upper-case letters and digits, like IAM's."""
    return prefix + "".join(secrets.choice(_B32) for _ in range(17))


def new_secret_access_key(random_bytes: bytes | None = None) -> str:
    """40 characters from the base64 alphabet, as AWS secrets look (from 30 random bytes)."""
    return binascii.b2a_base64(random_bytes or secrets.token_bytes(30), newline=False).decode("ascii")


def new_key_pair(account: str, prefix: str = ACCESS_KEY_PREFIX) -> tuple[str, str]:
    """(access key id, secret access key) from one draw of the system's CSPRNG."""
    drawn = secrets.token_bytes(35)
    return new_access_key_id(account, prefix, drawn[:5]), new_secret_access_key(drawn[5:])


# --- ARNs ------------------------------------------------------------------------------


def iam_arn(partition: str, account: str, resource: str) -> str:
    return f"arn:{partition}:iam::{account}:{resource}"


def root_arn(account: str, partition: str = "aws") -> str:
    return iam_arn(partition, account, "root")


def user_arn(account: str, path: str, name: str, partition: str = "aws") -> str:
    return iam_arn(partition, account, f"user{path}{name}")


def role_arn(account: str, path: str, name: str, partition: str = "aws") -> str:
    return iam_arn(partition, account, f"role{path}{name}")


def assumed_role_arn(account: str, role_name: str, session: str, partition: str = "aws") -> str:
    # The role path is deliberately absent: AWS writes assumed-role/<name>/<session>.
    return f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{session}"


def federated_user_arn(account: str, name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:sts::{account}:federated-user/{name}"


def policy_arn(account: str, path: str, name: str, partition: str = "aws") -> str:
    return iam_arn(partition, account, f"policy{path}{name}")


def mfa_arn(account: str, path: str, name: str, partition: str = "aws") -> str:
    return iam_arn(partition, account, f"mfa{path}{name}")


def split_arn(arn: str) -> tuple[str, str, str, str, str] | None:
    """(partition, service, region, account, resource) or None when it has fewer than six fields.

    The resource keeps any further colons (``arn:aws:iam::1:role/a:b`` is not split further).
    """
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[1], parts[2], parts[3], parts[4], parts[5]
