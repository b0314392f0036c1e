"""Fixtures for the Entra ID emulator tests: test certificates, PyJWT verification helpers."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from mdekit.emulator.server import EmulatorServer


@dataclass(frozen=True)
class ClientCert:
    """A client certificate made at test time: key and cert PEM, thumbprints, combined file."""

    key_pem: str
    cert_pem: str
    sha1_hex: str
    sha256_hex: str
    combined: Path


def _make_cert(directory: Path, name: str, days: int = 30) -> ClientCert:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    der = cert.public_bytes(serialization.Encoding.DER)
    combined = directory / f"{name}.pem"
    combined.write_text(key_pem + cert_pem)
    return ClientCert(
        key_pem, cert_pem, hashlib.sha1(der).hexdigest(), hashlib.sha256(der).hexdigest(), combined
    )


@pytest.fixture(scope="session")
def client_cert(tmp_path_factory: pytest.TempPathFactory) -> ClientCert:
    """An RSA client certificate (generated once per session)."""
    return _make_cert(tmp_path_factory.mktemp("client-cert"), "mdekit-test-client")


@pytest.fixture(scope="session")
def other_cert(tmp_path_factory: pytest.TempPathFactory) -> ClientCert:
    """A second certificate that is registered nowhere."""
    return _make_cert(tmp_path_factory.mktemp("other-cert"), "mdekit-other-client")


@pytest.fixture
def verify_token(emu: EmulatorServer) -> Any:
    """``verify_token(token, audience) -> claims``: PyJWT against the emulator's JWKS over HTTPS."""
    import ssl

    def _verify(token: str, audience: str) -> dict[str, Any]:
        ctx = ssl.create_default_context(cafile=str(emu.ca_cert))
        client = jwt.PyJWKClient(f"{emu.url}/common/discovery/keys", ssl_context=ctx)
        key = client.get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=audience,
            options={"require": ["exp", "iat", "nbf"]},
        )
        return claims

    return _verify
