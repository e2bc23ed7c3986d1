"""A local certificate authority and a server certificate for the real STS host names.

``ensure_ca(directory, names=...)`` is idempotent: the first run creates the CA and a server
("leaf") certificate; later runs keep both, and issue a new leaf only when asked
(``renew=True``) or when the existing one no longer fits (missing, not signed by this CA,
not covering the requested names, expired or expiring within :data:`RENEW_BEFORE`).

Files (PEM) in the directory:

* ``ca.pem`` — the CA certificate: what ``AWS_CA_BUNDLE`` points at;
* ``ca-key.pem`` — its private key (mode 0600);
* ``server.pem`` / ``server-key.pem`` — for ``stsd serve --tls-cert/--tls-key`` (key 0600).

The CA is name-constrained to the DNS suffixes of the AWS partitions (``amazonaws.com``,
``api.aws``, ``amazonaws.com.cn``, ...), ``localhost`` and the loopback addresses, so even
if it ends up in a system trust store it cannot vouch for any other site.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from stsd.netsetup.hostnames import dns_suffixes

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

KEY_TYPES = ("ec", "rsa")
#: Longest leaf validity browsers and Apple platforms accept (398 days, less a day of slack).
MAX_LEAF_DAYS = 397
CA_DAYS = 3650
#: A leaf closer than this to its end is reissued on the next run.
RENEW_BEFORE = timedelta(days=30)
#: Back-dating of notBefore, for clocks slightly behind ours.
CLOCK_SKEW = timedelta(minutes=5)
DEFAULT_IPS: tuple[IPAddress, ...] = (ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1"))
LOOPBACK_NETS = (ipaddress.IPv4Network("127.0.0.0/8"), ipaddress.IPv6Network("::1/128"))

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
SERVER_CERT = "server.pem"
SERVER_KEY = "server-key.pem"


class CaError(Exception):
    """The CA directory cannot be used as it is (unreadable, mismatched, expired CA)."""


@dataclass(frozen=True)
class CaFiles:
    directory: Path
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path

    @classmethod
    def in_dir(cls, directory: Path) -> CaFiles:
        return cls(directory, directory / CA_CERT, directory / CA_KEY, directory / SERVER_CERT, directory / SERVER_KEY)


@dataclass(frozen=True)
class CaResult:
    files: CaFiles
    ca_created: bool
    leaf_issued: bool
    reason: str  # why the leaf was (or was not) issued, for people
    names: tuple[str, ...]  # DNS names in the leaf
    ips: tuple[str, ...]  # IP addresses in the leaf
    leaf_not_after: datetime
    ca_fingerprint: str  # SHA-256, hex with colons
    warnings: tuple[str, ...] = field(default=())


# --- keys and files ------------------------------------------------------------------------
def _new_key(key_type: str) -> PrivateKey:
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"key type must be one of {', '.join(KEY_TYPES)}")


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write atomically (temporary file + rename) with exactly ``mode``, whatever the umask."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _write_key(path: Path, key: PrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    _write(path, pem, 0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    _write(path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _load_key(path: Path) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CaError(f"cannot read private key {path}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise CaError(f"{path}: unsupported key type {type(key).__name__}")
    return key


def load_certificate(path: Path) -> x509.Certificate:
    """The first certificate of a PEM file."""
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CaError(f"cannot read certificate {path}: {exc}") from exc


def _loose_mode(path: Path) -> bool:
    return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


# --- certificates --------------------------------------------------------------------------
def _ca_certificate(key: PrivateKey, now: datetime) -> x509.Certificate:
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "stsd"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"stsd local CA {now:%Y-%m-%d} {os.urandom(4).hex()}"),
    ])
    constraints = x509.NameConstraints(
        permitted_subtrees=[
            *(x509.DNSName(suffix) for suffix in dns_suffixes()),
            x509.DNSName("localhost"),
            *(x509.IPAddress(net) for net in LOOPBACK_NETS),
        ],
        excluded_subtrees=None,
    )
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(constraints, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _leaf_certificate(ca_cert: x509.Certificate, ca_key: PrivateKey, key: PrivateKey, names: Sequence[str],
                      ips: Sequence[IPAddress], now: datetime, days: int) -> x509.Certificate:
    not_before = now - CLOCK_SKEW
    not_after = min(not_before + timedelta(days=days), ca_cert.not_valid_after_utc)
    public = key.public_key()
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "stsd"),
            x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "localhost"),
        ]))
        .issuer_name(ca_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=is_rsa,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([*(x509.DNSName(n) for n in names), *(x509.IPAddress(ip) for ip in ips)]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def san_names(cert: x509.Certificate) -> tuple[list[str], list[IPAddress]]:
    """The DNS names and IP addresses of a certificate's subjectAltName (empty if none)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return san.get_values_for_type(x509.DNSName), san.get_values_for_type(x509.IPAddress)


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, x509.InvalidSignature):
        return False
    return True


def _same_public_key(a: PrivateKey, cert: x509.Certificate) -> bool:
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return a.public_key().public_bytes(*fmt) == cert.public_key().public_bytes(*fmt)


def _leaf_problem(files: CaFiles, ca_cert: x509.Certificate, names: Sequence[str], ips: Sequence[IPAddress],
                  now: datetime) -> str | None:
    """Why the existing leaf cannot be kept, or None if it can."""
    if not files.server_cert.exists() or not files.server_key.exists():
        return "no server certificate yet"
    try:
        leaf = load_certificate(files.server_cert)
        key = _load_key(files.server_key)
    except CaError as exc:
        return str(exc)
    if not _same_public_key(key, leaf):
        return "server key does not match the server certificate"
    if not _signed_by(leaf, ca_cert):
        return "server certificate was not issued by this CA"
    have_names, have_ips = san_names(leaf)
    missing = sorted(set(names) - set(have_names)) + [str(ip) for ip in ips if ip not in have_ips]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        return f"server certificate does not cover {shown}"
    if leaf.not_valid_after_utc - now < RENEW_BEFORE:
        return f"server certificate expires {leaf.not_valid_after_utc:%Y-%m-%d}"
    return None


def ensure_ca(
    directory: Path,
    *,
    names: Iterable[str],
    ips: Iterable[IPAddress] = DEFAULT_IPS,
    renew: bool = False,
    key_type: str = "ec",
    leaf_days: int = MAX_LEAF_DAYS,
    now: datetime | None = None,
) -> CaResult:
    """Create (or reuse) the CA in ``directory`` and make sure its server certificate fits.

    ``names`` are the DNS names the leaf must cover (``localhost`` is always added),
    ``ips`` its IP addresses. Raises :class:`CaError` for an unusable directory and
    ValueError for bad arguments.
    """
    if key_type not in KEY_TYPES:
        raise ValueError(f"key type must be one of {', '.join(KEY_TYPES)}")
    if not 1 <= leaf_days <= MAX_LEAF_DAYS:
        raise ValueError(f"leaf validity must be 1..{MAX_LEAF_DAYS} days")
    wanted_names = list(dict.fromkeys([*(n.lower().rstrip(".") for n in names), "localhost"]))
    wanted_ips = list(dict.fromkeys(ips))
    for ip in wanted_ips:
        if not any(ip in net for net in LOOPBACK_NETS):
            raise ValueError(f"{ip} is not a loopback address (the CA is constrained to loopback addresses)")
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    files = CaFiles.in_dir(Path(directory))
    files.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    warnings: list[str] = []

    have_cert, have_key = files.ca_cert.exists(), files.ca_key.exists()
    if have_cert != have_key:
        present = files.ca_cert if have_cert else files.ca_key
        raise CaError(f"{present} exists without its {'key' if have_cert else 'certificate'}; "
                      "remove it or restore the pair")
    ca_created = not have_cert
    if ca_created:
        ca_key = _new_key(key_type)
        ca_cert = _ca_certificate(ca_key, now)
        _write_key(files.ca_key, ca_key)
        _write_cert(files.ca_cert, ca_cert)
        # A new CA invalidates any leaf left over from an older one.
        reason = "new CA"
    else:
        ca_key = _load_key(files.ca_key)
        ca_cert = load_certificate(files.ca_cert)
        if not _same_public_key(ca_key, ca_cert):
            raise CaError(f"{files.ca_key} does not belong to {files.ca_cert}")
        if ca_cert.not_valid_after_utc <= now + timedelta(days=1):
            raise CaError(f"the CA in {files.directory} expired ({ca_cert.not_valid_after_utc:%Y-%m-%d}); "
                          "move the directory away and run again for a new one")
        if _loose_mode(files.ca_key):
            warnings.append(f"{files.ca_key} is readable by others; chmod 600 it")
        reason = "renewal requested" if renew else (_leaf_problem(files, ca_cert, wanted_names, wanted_ips, now)
                                                    or "")

    leaf_issued = bool(reason)
    if leaf_issued:
        key = _new_key(key_type)
        leaf = _leaf_certificate(ca_cert, ca_key, key, wanted_names, wanted_ips, now, leaf_days)
        _write_key(files.server_key, key)
        _write_cert(files.server_cert, leaf)
    else:
        reason = "existing server certificate still fits"
        leaf = load_certificate(files.server_cert)
        if _loose_mode(files.server_key):
            warnings.append(f"{files.server_key} is readable by others; chmod 600 it")
    leaf_dns, leaf_ips = san_names(leaf)
    return CaResult(
        files=files,
        ca_created=ca_created,
        leaf_issued=leaf_issued,
        reason=reason,
        names=tuple(leaf_dns),
        ips=tuple(str(ip) for ip in leaf_ips),
        leaf_not_after=leaf.not_valid_after_utc,
        ca_fingerprint=fingerprint(ca_cert),
        warnings=tuple(warnings),
    )
