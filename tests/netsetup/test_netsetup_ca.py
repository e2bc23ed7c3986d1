"""stsd.netsetup.ca: the CA, the server certificate, file modes, idempotence (cryptography verifies)."""

from __future__ import annotations

import ipaddress
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import DNSName, IPAddress, PolicyBuilder, Store, VerificationError
from typer.testing import CliRunner

from stsd.cli import app
from stsd.netsetup.ca import MAX_LEAF_DAYS, CaError, ensure_ca, san_names
from stsd.netsetup.hostnames import service_hostnames

REQUIRED = ["sts.amazonaws.com", "sts.eu-west-1.amazonaws.com", "sts-fips.us-east-1.amazonaws.com",
            "sts.eu-west-1.api.aws", "iam.amazonaws.com", "localhost"]


def cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def verify(ca: x509.Certificate, leaf: x509.Certificate, name: str, when: datetime | None = None) -> None:
    subject = IPAddress(ipaddress.ip_address(name)) if name[0].isdigit() or ":" in name else DNSName(name)
    builder = PolicyBuilder().store(Store([ca]))
    if when is not None:
        builder = builder.time(when)
    builder.build_server_verifier(subject).verify(leaf, [])


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("ca") / "nested" / "ca"
    result = ensure_ca(directory, names=service_hostnames())
    assert result.ca_created and result.leaf_issued
    return directory


def test_server_certificate_names(made: Path) -> None:
    leaf = cert(made / "server.pem")
    dns, ips = san_names(leaf)
    for name in REQUIRED:
        assert name in dns
    assert set(service_hostnames()) <= set(dns)
    assert [str(ip) for ip in ips] == ["127.0.0.1", "::1"]


def test_chain_verifies_for_every_name(made: Path) -> None:
    ca, leaf = cert(made / "ca.pem"), cert(made / "server.pem")
    for name in (*service_hostnames(), "localhost", "127.0.0.1", "::1"):
        verify(ca, leaf, name)
    with pytest.raises(VerificationError):
        verify(ca, leaf, "sts.cn-north-1.amazonaws.com.cn")  # not asked for: aws partition only
    with pytest.raises(VerificationError):
        verify(ca, leaf, "s3.amazonaws.com")


def test_certificate_profiles(made: Path) -> None:
    ca, leaf = cert(made / "ca.pem"), cert(made / "server.pem")
    basic = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    assert ca.public_key().curve.name == "secp256r1"

    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH])
    assert not leaf.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert leaf.issuer == ca.subject
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= timedelta(days=MAX_LEAF_DAYS)
    assert leaf.not_valid_before_utc <= datetime.now(UTC) < leaf.not_valid_after_utc


def test_key_files_are_private(made: Path) -> None:
    assert mode(made / "ca-key.pem") == 0o600
    assert mode(made / "server-key.pem") == 0o600
    assert mode(made) == 0o700
    assert mode(made / "ca.pem") == 0o644
    assert not list(made.glob(".*.tmp"))
    key = serialization.load_pem_private_key((made / "server-key.pem").read_bytes(), password=None)
    assert key.public_key() == cert(made / "server.pem").public_key()


def test_name_constraints_keep_the_ca_to_aws_names(made: Path) -> None:
    """A certificate the CA signs for any other site does not verify (the CA key leaking is contained)."""
    ca = cert(made / "ca.pem")
    ca_key = serialization.load_pem_private_key((made / "ca-key.pem").read_bytes(), password=None)
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    rogue = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")]))
        .issuer_name(ca.subject)
        .public_key(rogue_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("example.com")]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    with pytest.raises(VerificationError):
        verify(ca, rogue, "example.com")
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    assert x509.DNSName("amazonaws.com.cn") in constraints.value.permitted_subtrees


def test_rerun_keeps_everything_and_renew_reissues_only_the_leaf(tmp_path: Path) -> None:
    names = service_hostnames()
    first = ensure_ca(tmp_path, names=names)
    ca_pem, leaf_pem = (tmp_path / "ca.pem").read_bytes(), (tmp_path / "server.pem").read_bytes()
    again = ensure_ca(tmp_path, names=names)
    assert not again.ca_created and not again.leaf_issued
    assert again.reason == "existing server certificate still fits"
    assert (tmp_path / "ca.pem").read_bytes() == ca_pem and (tmp_path / "server.pem").read_bytes() == leaf_pem
    assert again.ca_fingerprint == first.ca_fingerprint

    renewed = ensure_ca(tmp_path, names=names, renew=True)
    assert not renewed.ca_created and renewed.leaf_issued and renewed.reason == "renewal requested"
    assert (tmp_path / "ca.pem").read_bytes() == ca_pem
    assert (tmp_path / "server.pem").read_bytes() != leaf_pem
    verify(cert(tmp_path / "ca.pem"), cert(tmp_path / "server.pem"), "sts.eu-west-1.amazonaws.com")


def test_leaf_is_reissued_when_it_no_longer_fits(tmp_path: Path) -> None:
    ensure_ca(tmp_path, names=service_hostnames())
    wider = ensure_ca(tmp_path, names=service_hostnames(["all"]))  # more partitions than the leaf covers
    assert wider.leaf_issued and "does not cover" in wider.reason
    assert "sts.cn-north-1.amazonaws.com.cn" in wider.names
    narrower = ensure_ca(tmp_path, names=service_hostnames())  # a superset still fits
    assert not narrower.leaf_issued

    later = datetime.now(UTC) + timedelta(days=MAX_LEAF_DAYS - 10)  # inside the 30-day renewal window
    aged = ensure_ca(tmp_path, names=service_hostnames(), now=later)
    assert aged.leaf_issued and "expires" in aged.reason
    verify(cert(tmp_path / "ca.pem"), cert(tmp_path / "server.pem"), "sts.amazonaws.com", when=later)

    (tmp_path / "server-key.pem").unlink()
    assert ensure_ca(tmp_path, names=service_hostnames()).reason == "no server certificate yet"


def test_rsa_keys_and_short_validity(tmp_path: Path) -> None:
    result = ensure_ca(tmp_path, names=["sts.amazonaws.com"], key_type="rsa", leaf_days=30)
    leaf = cert(tmp_path / "server.pem")
    assert isinstance(leaf.public_key(), rsa.RSAPublicKey) and leaf.public_key().key_size == 2048
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.key_encipherment
    assert result.leaf_not_after - leaf.not_valid_before_utc == timedelta(days=30)
    assert result.names == ("sts.amazonaws.com", "localhost")


def test_bad_arguments_and_broken_directories(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        ensure_ca(tmp_path / "a", names=[], leaf_days=MAX_LEAF_DAYS + 1)
    with pytest.raises(ValueError):
        ensure_ca(tmp_path / "a", names=[], key_type="dsa")
    with pytest.raises(ValueError, match="loopback"):
        ensure_ca(tmp_path / "a", names=[], ips=[ipaddress.ip_address("192.0.2.1")])

    ensure_ca(tmp_path / "b", names=["sts.amazonaws.com"])
    (tmp_path / "b" / "ca-key.pem").unlink()
    with pytest.raises(CaError, match="without its key"):
        ensure_ca(tmp_path / "b", names=["sts.amazonaws.com"])

    ensure_ca(tmp_path / "c", names=["sts.amazonaws.com"])
    (tmp_path / "c" / "ca-key.pem").write_bytes((tmp_path / "b" / "server-key.pem").read_bytes())
    with pytest.raises(CaError, match="does not belong"):
        ensure_ca(tmp_path / "c", names=["sts.amazonaws.com"])


def test_leaf_from_another_ca_is_replaced(tmp_path: Path) -> None:
    ensure_ca(tmp_path / "one", names=["sts.amazonaws.com"])
    ensure_ca(tmp_path / "two", names=["sts.amazonaws.com"])
    for name in ("server.pem", "server-key.pem"):
        (tmp_path / "two" / name).write_bytes((tmp_path / "one" / name).read_bytes())
    result = ensure_ca(tmp_path / "two", names=["sts.amazonaws.com"])
    assert result.leaf_issued and result.reason == "server certificate was not issued by this CA"


def test_stsd_ca_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    directory = tmp_path / "ca"
    first = runner.invoke(app, ["ca", "init", "--dir", str(directory)])
    assert first.exit_code == 0, first.output
    assert "Created a new CA" in first.output
    assert f"export AWS_CA_BUNDLE={(directory / 'ca.pem').resolve()}" in first.output
    assert f"--tls-cert {directory / 'server.pem'} --tls-key {directory / 'server-key.pem'}" in first.output

    second = runner.invoke(app, ["ca", "init", "--dir", str(directory)])
    assert "Kept the CA" in second.output and "Kept the server certificate" in second.output
    renewed = runner.invoke(app, ["ca", "init", "--dir", str(directory), "--renew", "--partition", "aws-cn"])
    assert renewed.exit_code == 0, renewed.output
    assert "Issued the server certificate (renewal requested)" in renewed.output
    assert "sts.cn-north-1.amazonaws.com.cn" in san_names(cert(directory / "server.pem"))[0]

    shown = runner.invoke(app, ["ca", "show", "--dir", str(directory)])
    assert shown.exit_code == 0, shown.output
    assert "sts.cn-north-1.api.amazonwebservices.com.cn" in shown.output

    assert runner.invoke(app, ["ca", "init", "--dir", str(directory), "--days", "400"]).exit_code == 2
    assert runner.invoke(app, ["ca", "show", "--dir", str(tmp_path / "none")]).exit_code == 1
