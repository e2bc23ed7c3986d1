"""OpenID Connect for AssumeRoleWithWebIdentity: the issuer's signing keys and the checks of a
token against them.

Keys: ``https://<issuer>/.well-known/openid-configuration`` names ``jwks_uri``; both documents
are fetched over HTTPS (never plain HTTP, no redirects), each at most
:data:`MAX_DOCUMENT_BYTES` and within :data:`FETCH_SECONDS`. The key set is cached per issuer
for :data:`KEYS_TTL` seconds; a token naming a ``kid`` the cached set lacks (the issuer rotated
its keys) triggers one refetch, at most every :data:`REFETCH_SECONDS` per issuer; a failed fetch
is remembered for :data:`FAILURE_SECONDS` (no retry storm against a failing issuer), and while
a refresh fails the previous keys keep working for up to :data:`STALE_SECONDS`. So a request
fetches nothing while its issuer's keys are cached, and concurrent requests for one issuer
share one fetch.

TLS trust, the way IAM verifies an IdP: the certificate chain must verify against the trust
store — the system's CAs plus the PEM file of ``--oidc-ca-file`` / ``STSD_OIDC_CA_FILE``
("IAMTrustStore" in CloudTrail). When it does not, the provider's thumbprints decide
("Thumbprint"): the SHA-1 of the last certificate the server sends (the top intermediate CA, as
IAM's documentation has you compute it with ``openssl s_client -showcerts``) must be one of
them, and the chain must lead from the server's certificate for the host name to that
certificate. Keys fetched on the strength of a thumbprint serve only providers that list it.

Everything here blocks (sockets): AssumeRoleWithWebIdentity runs in a worker thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
import orjson
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

log = logging.getLogger("stsd.oidc")

#: Signature algorithms STS accepts in web identity tokens (aws-sts-behaviour.md §1.4).
ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"})
FETCH_SECONDS = 5.0  # the whole of one document's fetch; AWS gives up on IdPs slower than ~5 s
MAX_DOCUMENT_BYTES = 128 * 1024  # discovery documents and key sets are a few KiB
KEYS_TTL = 900.0  # a cached key set is refreshed after this long
REFETCH_SECONDS = 5.0  # unknown kid: at most one refetch per issuer in this interval
FAILURE_SECONDS = 5.0  # a failed fetch is not retried (for that issuer) within this interval
STALE_SECONDS = 86400.0  # how long a key set outlives failed refreshes
MAX_ISSUERS = 1024  # cache bound (least recently used issuers are dropped)
LOCK_SECONDS = 2 * FETCH_SECONDS + 1  # longest wait for another thread's fetch of the same issuer
USER_AGENT = "stsd-oidc/1"

TRUST_STORE = "IAMTrustStore"  # CloudTrail additionalEventData.identityProviderConnectionVerificationMethod
THUMBPRINT = "Thumbprint"


# --- failures ---------------------------------------------------------------------------------
UNREACHABLE = "unreachable"  # no connection, timeout, TLS handshake failure
UNTRUSTED = "untrusted"  # certificate neither trusted nor matching a thumbprint
NO_KEY = "no-key"  # the issuer answered, but not with a usable key for the token


class FetchError(Exception):
    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


# --- issuer names -----------------------------------------------------------------------------
def issuer_key(iss: str) -> str:
    """The provider name an ``iss`` claim refers to: the URL without ``https://``."""
    return iss[len("https://"):] if iss.startswith("https://") else iss


def issuer_url(key: str) -> str:
    return f"https://{key}"


# --- TLS --------------------------------------------------------------------------------------
_contexts: dict[str | None, ssl.SSLContext] = {}
_contexts_lock = threading.Lock()


def trust_context(ca_file: str | None) -> ssl.SSLContext:
    """The verifying client context: system CAs plus ``ca_file`` (built once per file)."""
    with _contexts_lock:
        context = _contexts.get(ca_file)
        if context is None:
            context = ssl.create_default_context()
            if ca_file:
                context.load_verify_locations(cafile=ca_file)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            _contexts[ca_file] = context
        return context


def _pinning_context() -> ssl.SSLContext:
    """No verification by OpenSSL: the chain is checked against a thumbprint by :func:`_pinned`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def served_chain(sock: ssl.SSLSocket) -> list[bytes]:
    """The certificates the server sent (DER, its own first)."""
    getter = getattr(sock, "get_unverified_chain", None)  # Python 3.13+
    if getter is not None:
        return [bytes(c) for c in getter()]
    sslobj = getattr(sock, "_sslobj", None)
    getter = getattr(sslobj, "get_unverified_chain", None)  # 3.10-3.12: private, same data
    if getter is not None:
        chain = getter() or []
        return [c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]  # type: ignore[attr-defined]
    leaf = sock.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def thumbprint(der: bytes) -> str:
    return hashlib.sha1(der).hexdigest()  # noqa: S324 - IAM's thumbprints are SHA-1 by definition


def _subject(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _pinned(sock: ssl.SSLSocket, host: str, thumbprints: Iterable[str]) -> str:
    """The thumbprint that vouches for this connection, or FetchError(UNTRUSTED)."""
    chain = served_chain(sock)
    wanted = {t.lower() for t in thumbprints}
    if not chain or thumbprint(chain[-1]) not in wanted:
        raise FetchError(UNTRUSTED, "certificate chain does not match a configured thumbprint")
    certs = [x509.load_der_x509_certificate(der) for der in chain]
    now = datetime.now(UTC)
    subject = _subject(host)
    try:
        if len(certs) == 1:  # a pinned self-signed server certificate: dates and name only
            leaf = certs[0]
            if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
                raise FetchError(UNTRUSTED, "pinned certificate is not valid now")
            names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            if subject not in list(names):
                raise FetchError(UNTRUSTED, "pinned certificate is not for this host")
        else:
            verifier = PolicyBuilder().store(Store([certs[-1]])).time(now).build_server_verifier(subject)
            verifier.verify(certs[0], certs[1:-1])
    except (VerificationError, x509.ExtensionNotFound, ValueError) as error:
        raise FetchError(UNTRUSTED, f"chain does not verify up to the pinned certificate: {error}") from None
    return thumbprint(chain[-1])


# --- HTTPS GET --------------------------------------------------------------------------------
def fetch(url: str, *, ca_file: str | None, thumbprints: Iterable[str] = (),
          timeout: float = FETCH_SECONDS) -> tuple[bytes, str | None]:
    """GET ``url`` (HTTPS only) → (body, the thumbprint that vouched or None for the trust store)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise FetchError(NO_KEY, f"not an https URL: {url}")
    host, port = parts.hostname, parts.port or 443
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + timeout
    conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=trust_context(ca_file))
    via: str | None = None
    watchdog: threading.Timer | None = None
    try:
        try:
            conn.connect()
        except ssl.SSLCertVerificationError as error:
            conn.close()
            thumbprints = list(thumbprints)
            if not thumbprints:
                raise FetchError(UNTRUSTED, f"certificate not trusted: {error.verify_message}") from None
            conn = http.client.HTTPSConnection(host, port, timeout=_left(deadline), context=_pinning_context())
            conn.connect()
            assert isinstance(conn.sock, ssl.SSLSocket)
            via = _pinned(conn.sock, host, thumbprints)
        sock = conn.sock  # getresponse() hands it to the response (Connection: close) and forgets it
        # Socket timeouts bound each read, not their sum: a server trickling its headers or body
        # byte by byte is cut off at the deadline by shutting the socket down under the reader.
        watchdog = threading.Timer(_left(deadline), _shutdown, (sock,))
        watchdog.daemon = True
        watchdog.start()
        conn.request("GET", target, headers={"Host": parts.netloc, "Accept": "application/json",
                                             "User-Agent": USER_AGENT, "Connection": "close"})
        response = conn.getresponse()
        if response.status != 200:
            raise FetchError(NO_KEY, f"{url} answered HTTP {response.status}")
        declared = response.getheader("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
            raise FetchError(NO_KEY, f"{url}: document larger than {MAX_DOCUMENT_BYTES} bytes")
        body = _read_bounded(sock, response, deadline, url)
        return body, via
    except FetchError:
        raise
    except (ssl.SSLError, OSError, http.client.HTTPException) as error:  # incl. timeouts, refused, reset
        raise FetchError(UNREACHABLE, f"{url}: {error!r}") from None
    finally:
        if watchdog is not None:
            watchdog.cancel()
        conn.close()


def _shutdown(sock: Any) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("fetch deadline passed")
    return left


def _read_bounded(sock: Any, response: http.client.HTTPResponse, deadline: float, url: str) -> bytes:
    """The body, within the deadline (a trickling server cannot stretch it) and the size bound."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if sock is not None:
            sock.settimeout(_left(deadline))
        chunk = response.read1(16384)
        if not chunk:
            _left(deadline)  # cut off by the watchdog: a timeout, not the end of the document
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise FetchError(NO_KEY, f"{url}: document larger than {MAX_DOCUMENT_BYTES} bytes")
        chunks.append(chunk)


def _json_object(body: bytes, url: str) -> dict[str, Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise FetchError(NO_KEY, f"{url}: not JSON") from None
    if not isinstance(value, dict):
        raise FetchError(NO_KEY, f"{url}: not a JSON object")
    return value


# --- key sets ---------------------------------------------------------------------------------
@dataclass
class KeySet:
    by_kid: dict[str, jwt.PyJWK]
    without_kid: tuple[jwt.PyJWK, ...]
    fetched_at: float  # monotonic
    via: str | None  # thumbprint that vouched for the fetch; None: the trust store

    @property
    def method(self) -> str:
        return TRUST_STORE if self.via is None else THUMBPRINT

    def usable_for(self, thumbprints: Iterable[str]) -> bool:
        return self.via is None or self.via in {t.lower() for t in thumbprints}

    def candidates(self, kid: str | None, alg: str) -> list[jwt.PyJWK]:
        if kid is not None:
            key = self.by_kid.get(kid)
            return [key] if key is not None and _fits(key, alg) else []
        return [k for k in (*self.by_kid.values(), *self.without_kid) if _fits(k, alg)]


def _fits(key: jwt.PyJWK, alg: str) -> bool:
    declared = key._jwk_data.get("alg")
    if declared is not None and declared != alg:
        return False
    family = {"R": "RSA", "E": "EC"}[alg[0]]
    return key.key_type == family


def parse_key_set(document: dict[str, Any], url: str) -> tuple[dict[str, jwt.PyJWK], tuple[jwt.PyJWK, ...]]:
    raw = document.get("keys")
    if not isinstance(raw, list):
        raise FetchError(NO_KEY, f"{url}: no 'keys' list")
    by_kid: dict[str, jwt.PyJWK] = {}
    without: list[jwt.PyJWK] = []
    for item in raw[:100]:  # a key set is a handful of keys; more is not an IdP's
        if not isinstance(item, dict) or item.get("use", "sig") != "sig" or item.get("kty") not in ("RSA", "EC"):
            continue
        try:
            key = jwt.PyJWK(item)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError):
            continue  # one unusable key does not spoil the others
        kid = item.get("kid")
        if isinstance(kid, str):
            by_kid.setdefault(kid, key)
        else:
            without.append(key)
    if not by_kid and not without:
        raise FetchError(NO_KEY, f"{url}: no usable signing key")
    return by_kid, tuple(without)


@dataclass
class _Issuer:
    lock: threading.Lock = field(default_factory=threading.Lock)
    keys: KeySet | None = None
    failed_at: float | None = None
    failure: FetchError | None = None
    failed_with: frozenset[str] = frozenset()  # the thumbprints the failed fetch had to go by


class KeyCache:
    """Signing keys per issuer, for one process (see the module docstring for the rules)."""

    def __init__(self, ca_file: str | None = None, *, clock: Callable[[], float] = time.monotonic,
                 fetcher: Callable[..., tuple[bytes, str | None]] = fetch) -> None:
        self.ca_file = ca_file
        self._clock = clock
        self._fetch = fetcher
        self._issuers: OrderedDict[str, _Issuer] = OrderedDict()
        self._lock = threading.Lock()
        self.fetches = 0  # documents fetched (for tests and metrics)

    def _issuer(self, key: str) -> _Issuer:
        with self._lock:
            state = self._issuers.get(key)
            if state is None:
                state = self._issuers[key] = _Issuer()
                while len(self._issuers) > MAX_ISSUERS:
                    self._issuers.popitem(last=False)
            else:
                self._issuers.move_to_end(key)
            return state

    def keys(self, issuer: str, kid: str | None, alg: str, thumbprints: Iterable[str]) -> tuple[list[jwt.PyJWK], str]:
        """(keys that may have signed a token with this ``kid``/``alg``, verification method).

        Raises FetchError: UNREACHABLE / UNTRUSTED when no usable key set could be had,
        NO_KEY when the issuer's key set has no such key (after the allowed refetch)."""
        thumbprints = tuple(thumbprints)
        state = self._issuer(issuer)
        now = self._clock()
        current = state.keys if state.keys is not None and state.keys.usable_for(thumbprints) else None
        if current is not None and now - current.fetched_at < KEYS_TTL:
            found = current.candidates(kid, alg)
            if found or now - current.fetched_at < REFETCH_SECONDS:
                return self._found(found, current, issuer, kid)
        keys = self._refresh(issuer, state, thumbprints, current)
        return self._found(keys.candidates(kid, alg), keys, issuer, kid)

    @staticmethod
    def _found(found: list[jwt.PyJWK], keys: KeySet, issuer: str, kid: str | None) -> tuple[list[jwt.PyJWK], str]:
        if not found:
            raise FetchError(NO_KEY, f"{issuer}: no key {kid!r} in its key set")
        return found, keys.method

    def _refresh(self, issuer: str, state: _Issuer, thumbprints: tuple[str, ...], seen: KeySet | None) -> KeySet:
        if not state.lock.acquire(timeout=LOCK_SECONDS):
            raise FetchError(UNREACHABLE, f"{issuer}: another fetch of its keys is still running")
        try:
            now = self._clock()
            latest = state.keys if state.keys is not None and state.keys.usable_for(thumbprints) else None
            if latest is not None and latest is not seen and now - latest.fetched_at < REFETCH_SECONDS:
                return latest  # fetched by another thread while this one waited
            stale = latest if latest is not None and now - latest.fetched_at < STALE_SECONDS else None
            pinned = frozenset(t.lower() for t in thumbprints)
            if (state.failure is not None and state.failed_at is not None
                    and now - state.failed_at < FAILURE_SECONDS and state.failed_with == pinned):
                if stale is not None:
                    return stale
                raise state.failure
            try:
                keys = self._download(issuer, thumbprints)
            except FetchError as error:
                state.failed_at, state.failure, state.failed_with = self._clock(), error, pinned
                log.warning("OIDC keys of %s: %s", issuer, error)
                if stale is not None:
                    return stale
                raise
            state.keys, state.failed_at, state.failure = keys, None, None
            return keys
        finally:
            state.lock.release()

    def _download(self, issuer: str, thumbprints: tuple[str, ...]) -> KeySet:
        base = issuer_url(issuer).rstrip("/")
        discovery_url = f"{base}/.well-known/openid-configuration"
        self.fetches += 1
        body, via = self._fetch(discovery_url, ca_file=self.ca_file, thumbprints=thumbprints)
        jwks_uri = _json_object(body, discovery_url).get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
            raise FetchError(NO_KEY, f"{discovery_url}: no https jwks_uri")
        self.fetches += 1
        body, via_keys = self._fetch(jwks_uri, ca_file=self.ca_file, thumbprints=thumbprints)
        by_kid, without = parse_key_set(_json_object(body, jwks_uri), jwks_uri)
        # IAM reports how the host serving the keys was verified; a pinned discovery document
        # (it chose that host) restricts the keys to providers listing its thumbprint too.
        return KeySet(by_kid, without, self._clock(), via_keys if via_keys is not None else via)


_caches: dict[str | None, KeyCache] = {}
_caches_lock = threading.Lock()


def key_cache(ca_file: str | None) -> KeyCache:
    """The process's key cache for a trust configuration."""
    with _caches_lock:
        cache = _caches.get(ca_file)
        if cache is None:
            cache = _caches[ca_file] = KeyCache(ca_file)
        return cache


# --- tokens -----------------------------------------------------------------------------------
class TokenError(Exception):
    """The token is not a JWT STS can use (malformed, unsupported algorithm, bad claims)."""


@dataclass(frozen=True)
class Token:
    raw: str
    header: dict[str, Any]
    claims: dict[str, Any]

    @property
    def alg(self) -> str:
        return str(self.header.get("alg", ""))

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None


_JWS = jwt.PyJWS()


def parse_token(raw: str) -> Token:
    """Header and claims of a compact JWS, unverified; TokenError unless both are JSON objects."""
    try:
        complete = _JWS.decode_complete(raw, options={"verify_signature": False})
        claims = orjson.loads(complete["payload"])
    except (jwt.PyJWTError, orjson.JSONDecodeError, ValueError, TypeError):
        raise TokenError("not a JWT") from None
    header = complete["header"]
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenError("not a JWT")
    return Token(raw, header, claims)


def verify_signature(token: Token, keys: Iterable[jwt.PyJWK]) -> bool:
    if token.alg not in ALGORITHMS:
        return False
    for key in keys:
        try:
            _JWS.decode_complete(token.raw, key=key.key, algorithms=[token.alg])
        except (jwt.PyJWTError, TypeError, ValueError):  # a key of another type or curve raises TypeError
            continue
        return True
    return False


def audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return []


def numeric(value: Any) -> float | None:
    """A NumericDate claim (int or float, not bool); None when absent or malformed."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
