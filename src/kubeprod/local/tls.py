"""A self-signed certificate so the local cloud speaks TLS, like AWS.

The state bucket's policy denies plain HTTP (aws:SecureTransport); serving TLS
locally keeps that production policy exactly as it is.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from kubeprod.errors import InputError


def ensure_certificate(directory: Path) -> tuple[Path, Path]:
    """(cert, key) PEM files for 127.0.0.1 and localhost, made once and reused."""
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    try:  # lazy, below: cryptography is the optional `local` extra
        import cryptography  # noqa: F401
    except ModuleNotFoundError:
        raise InputError(
            "the embedded local cloud needs the `local` extra (moto, cryptography), which is "
            "not installed. Fix: pip install 'kubeprod[local]'"
        ) from None
    from cryptography import x509  # lazy: the optional `local` extra (checked above)
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubeprod local cloud")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
