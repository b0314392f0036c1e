"""Host-header routing and the certificate, through mdekit.testing's in-process resolver.

The real hostnames resolve to the session emulator (mde_transparent); TLS verifies each name.
"""

from __future__ import annotations

import httpx
import pytest
from cryptography import x509

from mdekit.emulator.transparent import path_allowed, transparent_hosts
from mdekit.testing import Emulator

pytestmark = pytest.mark.socket

REQUIRED = {
    "login.microsoftonline.com", "login.windows.net", "login.microsoftonline.us", "login.microsoft.com",
    "api.securitycenter.microsoft.com", "api.security.microsoft.com", "us.api.security.microsoft.com",
    "api-eu.securitycenter.microsoft.com", "api-gcc.securitycenter.microsoft.us",
    "api-gov.securitycenter.microsoft.us", "graph.microsoft.com", "graph.microsoft.us",
}  # fmt: skip


def test_every_cloud_host_is_served_and_in_the_certificate(mde_emulator: Emulator) -> None:
    hosts = transparent_hosts()
    assert set(hosts.all) >= REQUIRED
    cert = x509.load_pem_x509_certificate(mde_emulator.server.tls.server_cert.read_bytes())
    sans = set(
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName
        )
    )
    assert sans >= set(hosts.all)


@pytest.mark.parametrize(
    ("kind", "path", "allowed"),
    [
        ("login", "/contoso.onmicrosoft.com/oauth2/v2.0/token", True),
        ("login", "/common/discovery/instance", True),
        ("login", "/api/alerts", False),
        ("login", "/_emulator/requests", False),
        ("api", "/api/machines", True),
        ("api", "/common/discovery/keys", False),
        ("graph", "/v1.0/security/runHuntingQuery", True),
        ("graph", "/api/alerts", False),
    ],
)
def test_path_rules(kind: str, path: str, allowed: bool) -> None:
    assert path_allowed(kind, path) is allowed  # type: ignore[arg-type]


def test_each_real_host_answers_foreign_paths_with_its_own_404(mde_transparent: Emulator) -> None:
    with httpx.Client(timeout=10) as http:  # default trust: SSL_CERT_FILE = system roots + emulator CA
        login = http.get("https://login.microsoftonline.com/api/alerts")
        api = http.get("https://api.securitycenter.microsoft.com/common/discovery/keys")
        graph = http.get("https://graph.microsoft.com/api/alerts")
        control = http.get("https://api.securitycenter.microsoft.com/_emulator/requests")
    assert login.status_code == 404 and login.headers["content-type"].startswith("text/html")
    assert api.status_code == 404 and api.json()["error"]["code"] == "NotFound"
    assert api.json()["error"]["target"]
    assert graph.status_code == 404 and "innerError" in graph.json()["error"]
    assert control.status_code == 404  # the control plane is not exposed on real names
    seen = mde_transparent.journal.entries(status=404)
    assert {e["host"] for e in seen} == {"login.microsoftonline.com", "api.securitycenter.microsoft.com",
                                         "graph.microsoft.com"}  # fmt: skip


@pytest.mark.parametrize(
    "host", ["login.microsoftonline.com", "login.windows.net", "login.microsoftonline.us"]
)
def test_discovery_documents_use_the_host_called(mde_transparent: Emulator, host: str) -> None:
    tenant = mde_transparent.create_tenant()["tenantId"]
    with httpx.Client(timeout=10) as http:
        config = http.get(f"https://{host}/{tenant}/v2.0/.well-known/openid-configuration").json()
        instance = http.get(
            f"https://{host}/common/discovery/instance",
            params={
                "api-version": "1.1",
                "authorization_endpoint": f"https://{host}/common/oauth2/authorize",
            },
        ).json()
    assert config["token_endpoint"].startswith(f"https://{host}/")
    assert instance["metadata"]


def test_loopback_names_still_see_the_whole_emulator(mde_fresh: Emulator) -> None:
    assert mde_fresh.call("GET", "/_emulator/requests") == {"value": []}
