"""Fixtures for device-code sign-ins, Graph application management and `mde setup`."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from signin_helpers import graph_client, sign_in

from mdekit.emulator.server import EmulatorServer


@pytest.fixture
def tenant(make_tenant: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A new tenant (with its ``admin@<domain>`` Global Administrator)."""
    return make_tenant("Contoso")


@pytest.fixture
def graph_for(emu: EmulatorServer, control: httpx.Client) -> Iterator[Callable[..., httpx.Client]]:
    """``graph_for(tenant, upn, scope=...)``: a Graph client signed in as *upn* (device code)."""
    opened: list[httpx.Client] = []

    def _make(tenant: dict[str, Any], upn: str, **kw: Any) -> httpx.Client:
        token = sign_in(control, tenant["tenantId"], upn, **kw)["access_token"]
        client = graph_client(emu.url, str(emu.ca_cert), token)
        opened.append(client)
        return client

    yield _make
    for client in opened:
        client.close()


@pytest.fixture
def admin_graph(tenant: dict[str, Any], graph_for: Callable[..., httpx.Client]) -> httpx.Client:
    """Graph as the tenant's Global Administrator, with the scopes `mde setup` asks for."""
    return graph_for(tenant, f"admin@{tenant['domain']}")


@dataclass(frozen=True)
class TestCert:
    """A client certificate made at test time: its PEMs, SHA-1 thumbprint and a combined file."""

    key_pem: str
    cert_pem: str
    sha1_hex: str
    combined: Path


@pytest.fixture(scope="session")
def client_cert(tmp_path_factory: pytest.TempPathFactory) -> TestCert:
    """An RSA certificate with its private key (generated once per session)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mdekit-setup-tests")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    combined = tmp_path_factory.mktemp("setup-cert") / "client.pem"
    combined.write_text(key_pem + cert_pem)
    sha1 = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    return TestCert(key_pem, cert_pem, sha1, combined)
