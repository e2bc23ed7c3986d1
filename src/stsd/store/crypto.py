"""Master key handling and secret wrapping.

Every secret the store keeps (access-key secrets, MFA seeds, token-sealing keys) is wrapped
with AES-256-GCM under a master key that never enters the database. The master key comes
from ``STSD_MASTER_KEY`` (base64, 32 bytes; the way to share it between nodes) or from
``<data-dir>/master.key``, created with mode 0600 on first start.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASTER_KEY_ENV = "STSD_MASTER_KEY"
_WRAP_VERSION = b"\x01"


class MasterKeyError(RuntimeError):
    pass


def load_or_create_master_key(data_dir: Path) -> bytes:
    env = os.environ.get(MASTER_KEY_ENV)
    if env:
        key = base64.b64decode(env)
        if len(key) != 32:
            raise MasterKeyError(f"{MASTER_KEY_ENV} must be 32 bytes, base64-encoded")
        return key
    path = data_dir / "master.key"
    if path.exists():
        key = base64.b64decode(path.read_bytes().strip())
        if len(key) != 32:
            raise MasterKeyError(f"{path} does not hold a 32-byte base64 key")
        return key
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(key) + b"\n")
    return key


class Wrapper:
    """AES-GCM wrapping bound to a purpose label (AAD), so a wrapped MFA seed cannot be
    substituted for a wrapped access-key secret."""

    def __init__(self, master_key: bytes):
        self._aead = AESGCM(master_key)

    def wrap(self, plaintext: bytes, purpose: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return _WRAP_VERSION + nonce + self._aead.encrypt(nonce, plaintext, purpose.encode())

    def unwrap(self, blob: bytes, purpose: str) -> bytes:
        if blob[:1] != _WRAP_VERSION:
            raise MasterKeyError("unknown wrapping version")
        return self._aead.decrypt(blob[1:13], blob[13:], purpose.encode())
