"""The app's credential on this machine: a certificate made here, or a client secret kept safe.

Microsoft recommends certificates over secrets for apps (a secret is a password that travels in
every token request). ``mde setup`` therefore makes an RSA key pair locally, uploads only the
public certificate, and keeps key and certificate in one PEM file readable by the owner only
(``0600``, in ``<config dir>/certs``) - the file a ``certificate`` profile points to. A secret goes
where ``mde profile add --credential keyring`` puts one (the OS keyring; a plaintext ``0600`` file
only when insisted on).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LocalCertificate", "certificate_file", "in_cert_store", "new_certificate", "write_private"]

#: A new certificate's lifetime: one year (renew it with `mde setup rotate-credential`).
CERT_DAYS = 365


@dataclass(frozen=True)
class LocalCertificate:
    """A certificate made here: the PEM with its private key (never shown), the public part for Graph."""

    pem: str = field(repr=False)
    der_base64: str
    sha1: str
    not_after: float

    def __repr__(self) -> str:
        return f"LocalCertificate(sha1={self.sha1})"


def new_certificate(subject: str, *, days: int = CERT_DAYS) -> LocalCertificate:
    """A self-signed certificate for *subject* with a fresh 2048-bit RSA key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject[:64] or "mdekit")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    der = cert.public_bytes(serialization.Encoding.DER)
    return LocalCertificate(
        key_pem + cert.public_bytes(serialization.Encoding.PEM).decode(),
        base64.b64encode(der).decode(),
        hashlib.sha1(der).hexdigest().upper(),
        cert.not_valid_after_utc.timestamp(),
    )


def certificate_file(profile: str, sha1: str) -> Path:
    """Where a certificate (with its key) of profile *profile* is kept (one file per certificate,
    so a rotation never overwrites the key still in use)."""
    from mdekit.profiles import config_dir

    return config_dir() / "certs" / f"{profile}-{sha1[:12].lower()}.pem"


def in_cert_store(path: str) -> bool:
    """Whether *path* is a certificate file mdekit made (and may delete)."""
    from mdekit.profiles import config_dir

    return Path(path).parent == config_dir() / "certs"


def write_private(path: Path, text: str) -> Path:
    """Write *text* readable by the owner only (directory ``0700``, file ``0600``), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path
