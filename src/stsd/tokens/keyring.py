"""Session-token sealing keys: AES-256-GCM, each with an id carried in the token.

Token layout (then standard base64, as AWS tokens are)::

    0x01 | flags | key id (u16, big-endian) | nonce (12) | AES-GCM(claims) + tag (16) [| commitment (32), v2]

The header and the session's access key id are the AEAD associated data, so a token only
opens with the ``ASIA…`` id it was issued with ("another session's token" fails exactly like
a forged one). Two key purposes model AWS's global-endpoint token versions: ``session-v1``
keys are held only by Regions enabled by default, ``session-v2`` keys by every Region — a v1
token presented in an opt-in Region does not open, because that Region lacks the key.

v2 tokens end with a key-committing tag, HMAC-SHA-256 over everything before it: AES-GCM
alone does not commit to its key, and tokens valid in every Region deserve the stronger
construction. (AWS's v2 tokens are longer than v1 as well; ours by these 43 characters.)

Rotation adds a new active key per purpose; old keys keep opening tokens until every session
they sealed has expired (``purge``), so rotating never logs anybody out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from stsd.store import models
from stsd.store.crypto import Wrapper
from stsd.tokens.claims import SessionClaims, compress, decompress

FORMAT = 1
FLAG_COMPRESSED = 1
_HEADER = struct.Struct(">BBH12s")
MAX_SESSION_SECONDS = 129_600  # GetSessionToken/GetFederationToken maximum (36 h)
PURPOSES = {1: "session-v1", 2: "session-v2"}
RELOAD_INTERVAL = 1.0  # seconds between key reloads triggered by unknown key ids
MAX_TOKEN_CHARS = 16_384  # far above anything we issue; bounds work on hostile input
OPENED_CACHE_ENTRIES = 4096


class TokenError(Exception):
    """The token does not open: forged, truncated, foreign, or sealed with a key not held here."""


@dataclass(frozen=True, slots=True)
class _Key:
    id: int
    version: int  # 1 or 2
    aead: AESGCM
    active: bool
    commit_mac: crypto_hmac.HMAC  # v2: HMAC keyed for the committing tag (copied per use)


COMMIT_BYTES = 32


def _commit_mac(material: bytes) -> crypto_hmac.HMAC:
    commit_key = hmac.new(material, b"stsd token commitment v2", hashlib.sha256).digest()
    return crypto_hmac.HMAC(commit_key, hashes.SHA256())


def _commitment(key: _Key, data: bytes) -> bytes:
    mac = key.commit_mac.copy()
    mac.update(data)
    return mac.finalize()


class Keyring:
    def __init__(self, sessions: sessionmaker[Session], wrapper: Wrapper):
        self._sessions = sessions
        self._wrapper = wrapper
        self._keys: dict[int, _Key] = {}
        self._sealing: dict[int, _Key] = {}
        self._lock = threading.Lock()
        self._unknown_reload_at = 0.0  # separate from the poller's reloads (see open())
        # Tokens that opened, with what they opened to: clients reuse a session's token for
        # every call until it expires, and opening costs a base64 decode, an HMAC and an AEAD
        # decryption. Only genuine tokens get here (forgeries never open), keyed by the exact
        # token and access key id; an entry counts only while its key is still held as is.
        self._opened: dict[tuple[str, str], tuple[SessionClaims, _Key]] = {}

    # --- lifecycle ----------------------------------------------------------------------
    def ensure_keys(self) -> None:
        """Create the first key of each purpose when the store has none (first start)."""
        with self._sessions.begin() as s:
            have = set(s.scalars(select(models.SigningKey.purpose).where(models.SigningKey.active)))
            for purpose in PURPOSES.values():
                if purpose not in have:
                    self._add_key(s, purpose)
        self.reload()

    def _add_key(self, s: Session, purpose: str) -> None:
        highest = s.scalar(select(models.SigningKey.id).order_by(models.SigningKey.id.desc()).limit(1))
        key_id = (highest or 0) + 1
        if key_id > 0xFFFF:
            raise RuntimeError("key id space exhausted; purge retired keys")
        s.add(
            models.SigningKey(
                id=key_id,
                purpose=purpose,
                key_wrapped=self._wrapper.wrap(secrets.token_bytes(32), f"signing-key:{key_id}"),
                created_at=datetime.now(UTC),
                active=True,
            )
        )

    def rotate(self) -> list[int]:
        """New active key per purpose; previous keys retire but keep opening tokens."""
        moment = datetime.now(UTC)
        with self._sessions.begin() as s:
            s.execute(
                update(models.SigningKey).where(models.SigningKey.active).values(active=False, retired_at=moment)
            )
            for purpose in PURPOSES.values():
                self._add_key(s, purpose)
            s.flush()
            new_ids = list(s.scalars(select(models.SigningKey.id).where(models.SigningKey.active)))
        self.reload()
        return new_ids

    def purge(self, now: datetime | None = None) -> int:
        """Delete retired keys whose every session has expired."""
        cutoff = (now or datetime.now(UTC)) - timedelta(seconds=MAX_SESSION_SECONDS)
        with self._sessions.begin() as s:
            result = s.execute(
                delete(models.SigningKey).where(
                    models.SigningKey.active.is_(False), models.SigningKey.retired_at < cutoff
                )
            )
        self.reload()
        return result.rowcount

    def reload(self) -> None:
        keys: dict[int, _Key] = {}
        with self._sessions() as s:
            for row in s.scalars(select(models.SigningKey)):
                version = 1 if row.purpose == PURPOSES[1] else 2
                material = self._wrapper.unwrap(row.key_wrapped, f"signing-key:{row.id}")
                keys[row.id] = _Key(row.id, version, AESGCM(material), row.active, _commit_mac(material))
        sealing: dict[int, _Key] = {}
        for key in sorted(keys.values(), key=lambda k: k.id):
            if key.active:
                sealing[key.version] = key  # the newest active key of each version seals
        with self._lock:
            self._keys, self._sealing = keys, sealing

    def describe(self) -> list[tuple[int, str, bool]]:
        return [(k.id, PURPOSES[k.version], k.active) for k in sorted(self._keys.values(), key=lambda k: k.id)]

    # --- sealing ------------------------------------------------------------------------
    def seal(self, claims: SessionClaims, access_key_id: str, version: int) -> str:
        return self.seal_encoded(claims.to_bytes(), access_key_id, version)

    def seal_encoded(self, raw: bytes, access_key_id: str, version: int) -> str:
        """Seal claims already encoded (``claims.encode_claims``)."""
        key = self._sealing[version]
        packed = compress(raw) if len(raw) > 256 else None
        flags = FLAG_COMPRESSED if packed is not None else 0
        header = _HEADER.pack(FORMAT, flags, key.id, secrets.token_bytes(12))
        sealed = header + key.aead.encrypt(header[4:], packed or raw, header + access_key_id.encode())
        if version == 2:
            sealed += _commitment(key, sealed)
        return binascii.b2a_base64(sealed, newline=False).decode("ascii")

    def open(self, token: str, access_key_id: str, *, holds_v1: bool = True) -> tuple[SessionClaims, int]:
        """(claims, token version). ``holds_v1=False`` models a Region without v1 keys."""
        cached = self._opened.get((token, access_key_id))
        if cached is not None:
            claims, key = cached
            if self._keys.get(key.id) is key and (key.version == 2 or holds_v1):
                return claims, key.version
        claims, key = self._open(token, access_key_id, holds_v1)
        opened = self._opened
        if len(opened) >= OPENED_CACHE_ENTRIES:
            opened.clear()  # simple and bounded; refills with the tokens in use
        opened[(token, access_key_id)] = (claims, key)
        return claims, key.version

    def _open(self, token: str, access_key_id: str, holds_v1: bool) -> tuple[SessionClaims, _Key]:
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenError("token too long")
        try:
            blob = base64.b64decode(token, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TokenError("not base64") from exc
        if len(blob) < _HEADER.size + 16:
            raise TokenError("truncated")
        fmt, flags, key_id, nonce = _HEADER.unpack_from(blob)
        if fmt != FORMAT:
            raise TokenError("unknown format")
        key = self._keys.get(key_id)
        if key is None and time.monotonic() - self._unknown_reload_at > RELOAD_INTERVAL:
            self._unknown_reload_at = time.monotonic()
            # Another worker may have rotated keys since we loaded them. Rate-limited, so
            # forged key ids cannot turn into one database query per request.
            self.reload()
            key = self._keys.get(key_id)
        if key is None or (key.version == 1 and not holds_v1):
            raise TokenError("key not held")
        if key.version == 2:
            blob, tag = blob[:-COMMIT_BYTES], blob[-COMMIT_BYTES:]
            if len(blob) < _HEADER.size + 16 or not hmac.compare_digest(tag, _commitment(key, blob)):
                raise TokenError("commitment does not match")
        header = blob[: _HEADER.size]
        try:
            raw = key.aead.decrypt(nonce, blob[_HEADER.size :], header + access_key_id.encode())
            if flags & FLAG_COMPRESSED:
                raw = decompress(raw)
            return SessionClaims.from_bytes(raw), key
        except (InvalidTag, ValueError, IndexError, TypeError, KeyError) as exc:
            raise TokenError("does not open") from exc
