"""The public surface: exported names, and no third-party exception leaking out of a client."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

import mdekit
import mdekit.models
from mdekit.auth.credentials import AccessToken
from mdekit.client.retry import RetryPolicy
from mdekit.errors import ConfigurationError, TransportError

CLIENT_NAMES = {
    "Defender",
    "AsyncDefender",
    "RetryPolicy",
    "RateLimiter",
    "ClientSecretCredential",
    "CertificateCredential",
}


def test_client_names_exported_lazily() -> None:
    assert set(mdekit.__all__) >= CLIENT_NAMES
    assert mdekit.Defender.__module__ == "mdekit.client.defender"
    for name in mdekit.models.__all__:
        assert getattr(mdekit.models, name) is not None


class Static:
    def get_token(self, *scopes: str) -> AccessToken:
        return AccessToken("opaque", int(time.time()) + 3600)


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def test_connection_refused_is_transport_error_after_retries() -> None:
    sleeps: list[float] = []
    with (
        mdekit.Defender(
            Static(),
            base_url=f"https://127.0.0.1:{_closed_port()}",
            sleep=sleeps.append,
            retry=RetryPolicy(max_attempts=3, jitter=False, backoff=1),
        ) as client,
        pytest.raises(TransportError) as info,
    ):
        client.alerts.get("x")
    assert sleeps == [1, 2]
    chain, exc = [], info.value.__cause__ or info.value.__context__
    while exc is not None:
        chain.append(type(exc).__module__)
        exc = exc.__cause__ or exc.__context__
    assert not [m for m in chain if m.startswith(("httpx", "httpcore", "azure"))]


def test_untrusted_certificate_is_transport_error(emu_server: Any) -> None:
    client = mdekit.Defender(Static(), base_url=emu_server.url, retry=RetryPolicy(max_attempts=1))
    with client, pytest.raises(TransportError, match="no answer"):
        list(client.machines.list())


def test_bad_configuration() -> None:
    with pytest.raises(ConfigurationError):
        mdekit.Defender(object())
    with pytest.raises(ConfigurationError):
        mdekit.Defender(Static(), cloud="mars")
    with pytest.raises(ConfigurationError):
        mdekit.Defender(Static(), base_url="ftp://x")
    with pytest.raises(ConfigurationError):
        mdekit.Defender(Static()).alerts.list(page_size=20000)


@pytest.mark.parametrize(
    ("cloud", "region", "host", "scope"),
    [
        (
            "commercial",
            None,
            "api.securitycenter.microsoft.com",
            "https://api.securitycenter.microsoft.com/.default",
        ),
        (
            "commercial",
            "eu",
            "eu.api.security.microsoft.com",
            "https://api.securitycenter.microsoft.com/.default",
        ),
        (
            "gcc",
            None,
            "api-gcc.securitycenter.microsoft.us",
            "https://api-gcc.securitycenter.microsoft.us/.default",
        ),
        (
            "gcc-high",
            None,
            "api-gov.securitycenter.microsoft.us",
            "https://api-gov.securitycenter.microsoft.us/.default",
        ),
    ],
)
def test_cloud_picks_host_and_scope(cloud: str, region: str | None, host: str, scope: str) -> None:
    client = mdekit.Defender(Static(), cloud=cloud, region=region)
    assert client.base_url == f"https://{host}" and client.scope == scope
