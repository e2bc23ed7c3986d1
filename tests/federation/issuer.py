"""A real OpenID Connect issuer for tests: a certificate authority (root → intermediate → server
certificate for 127.0.0.1/localhost), an HTTPS server on a loopback port serving
``/.well-known/openid-configuration`` and the key set, and RSA/EC signing keys that sign tokens
with PyJWT. Nothing is mocked: stsd fetches the documents over real TLS.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "sts.amazonaws.com"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class TestCA:
    """A root CA and an intermediate CA, and the server certificate they issue for loopback."""

    __test__ = False  # not a test class, whatever pytest makes of the name

    directory: Path
    label: str = "stsd test"
    root_key: ec.EllipticCurvePrivateKey = field(init=False)
    root: x509.Certificate = field(init=False)
    intermediate_key: ec.EllipticCurvePrivateKey = field(init=False)
    intermediate: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = self._ca(f"{self.label} root CA", self.root_key, self.root_key.public_key(), None, path_length=1)
        self.intermediate_key = ec.generate_private_key(ec.SECP256R1())
        self.intermediate = self._ca(f"{self.label} intermediate CA", self.root_key,
                                     self.intermediate_key.public_key(), self.root, path_length=0)
        self.root_pem.write_bytes(_pem(self.root))

    @property
    def root_pem(self) -> Path:
        return self.directory / "root.pem"

    @property
    def intermediate_thumbprint(self) -> str:
        """What IAM calls the provider's thumbprint: SHA-1 of the top intermediate CA."""
        return hashlib.sha1(self.intermediate.public_bytes(serialization.Encoding.DER)).hexdigest()

    @staticmethod
    def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
        now = datetime.now(UTC)
        return builder.not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=2))

    def _ca(self, common: str, signer: Any, public: Any, issuer: x509.Certificate | None,
            path_length: int) -> x509.Certificate:
        builder = self._validity(
            x509.CertificateBuilder()
            .subject_name(_name(common))
            .issuer_name(issuer.subject if issuer else _name(common))
            .public_key(public)
            .serial_number(x509.random_serial_number())
        )
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False), critical=True)
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        signer_public = signer.public_key()
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_public),
                                        critical=False)
        return builder.sign(signer, hashes.SHA256())

    def server_files(self, name: str = "server") -> tuple[Path, Path]:
        """(chain PEM: server certificate + intermediate, key PEM) for 127.0.0.1 and localhost."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = self._validity(
            x509.CertificateBuilder()
            .subject_name(_name("127.0.0.1"))
            .issuer_name(self.intermediate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
        )
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]), critical=False)
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False), critical=True)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self.intermediate_key.public_key()), critical=False)
        cert = builder.sign(self.intermediate_key, hashes.SHA256())
        chain = self.directory / f"{name}-chain.pem"
        key_file = self.directory / f"{name}-key.pem"
        chain.write_bytes(_pem(cert) + _pem(self.intermediate))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return chain, key_file


@dataclass
class SigningKey:
    kid: str | None
    alg: str
    private: Any

    def jwk(self) -> dict[str, Any]:
        algorithm = RSAAlgorithm if self.alg.startswith("RS") else ECAlgorithm
        data = json.loads(algorithm.to_jwk(self.private.public_key()))
        data.update({"use": "sig", "alg": self.alg})
        if self.kid is not None:
            data["kid"] = self.kid
        return data


def new_key(alg: str = "RS256", kid: str | None = "auto") -> SigningKey:
    if alg.startswith("RS"):
        private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[alg]
        private = ec.generate_private_key(curve)
    return SigningKey(uuid.uuid4().hex[:12] if kid == "auto" else kid, alg, private)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that refuse our certificate (the untrusted-issuer tests) are expected


class Issuer:
    """An OIDC issuer at ``https://127.0.0.1:<port>/<realm>`` (``iss``), serving its discovery
    document and key set over TLS with ``ca``'s server certificate. ``hits`` counts requests
    per path. Start with ``with Issuer(ca) as issuer:`` or ``start()``/``stop()``."""

    def __init__(self, ca: TestCA, realm: str | None = None, keys: list[SigningKey] | None = None) -> None:
        self.ca = ca
        self.realm = realm or f"realm-{uuid.uuid4().hex[:8]}"
        self.keys: list[SigningKey] = keys if keys is not None else [new_key("RS256"), new_key("ES256")]
        self.hits: dict[str, int] = {}
        # path → (status, extra headers, body): replaces the served document (broken issuers)
        self.overrides: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.delay = 0.0  # seconds to wait before answering (slow issuers)
        self.trickle = 0.0  # seconds between the bytes of an override's body (trickling issuers)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- serving ----------------------------------------------------------------------------
    def start(self) -> Issuer:
        chain, key = self.ca.server_files(self.realm)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, key)
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer._count(self.path)
                if issuer.delay:
                    time.sleep(issuer.delay)
                override = issuer.overrides.get(self.path)
                if override is not None:
                    status, headers, raw = override
                    self.send_response(status)
                    for name, value in {"Content-Length": str(len(raw)), **headers}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if not issuer.trickle:
                        self.wfile.write(raw)
                        return
                    for i in range(len(raw)):
                        self.wfile.write(raw[i:i + 1])
                        self.wfile.flush()
                        time.sleep(issuer.trickle)
                    return
                body = issuer._document(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        server = _QuietServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Issuer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "issuer not started"
        return self._server.server_address[1]

    @property
    def host_path(self) -> str:
        """The issuer without ``https://``: the IAM provider's name and condition-key prefix."""
        return f"127.0.0.1:{self.port}/{self.realm}"

    @property
    def iss(self) -> str:
        return f"https://{self.host_path}"

    def _count(self, path: str) -> None:
        with self._lock:
            self.hits[path] = self.hits.get(path, 0) + 1

    def key_fetches(self) -> int:
        return self.hits.get(f"/{self.realm}/keys", 0)

    @property
    def discovery_path(self) -> str:
        return f"/{self.realm}/.well-known/openid-configuration"

    @property
    def keys_path(self) -> str:
        return f"/{self.realm}/keys"

    def _document(self, path: str) -> dict[str, Any] | None:
        if path == f"/{self.realm}/.well-known/openid-configuration":
            return {"issuer": self.iss, "jwks_uri": f"{self.iss}/keys",
                    "id_token_signing_alg_values_supported": sorted({k.alg for k in self.keys})}
        if path == f"/{self.realm}/keys":
            return {"keys": [k.jwk() for k in list(self.keys)]}
        return None

    # --- tokens -----------------------------------------------------------------------------
    def token(self, *, sub: str = "user-1", aud: str | list[str] = AUDIENCE, key: SigningKey | None = None,
              expires_in: int = 600, iss: str | None = None, extra: dict[str, Any] | None = None,
              claims: dict[str, Any] | None = None) -> str:
        """A token signed with ``key`` (default: the first key). ``claims`` replaces the
        standard claims entirely; ``extra`` adds to them."""
        key = key or self.keys[0]
        now = int(time.time())
        payload = claims if claims is not None else {
            "iss": iss or self.iss, "sub": sub, "aud": aud, "iat": now, "nbf": now, "exp": now + expires_in,
        }
        payload = {**payload, **(extra or {})}
        headers = {"kid": key.kid} if key.kid is not None else {}
        return jwt.encode(payload, key.private, algorithm=key.alg, headers=headers)

