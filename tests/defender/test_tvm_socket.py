"""The TVM API over the real HTTPS socket with tokens from the emulator's token endpoint.

Every TVM operation is called with an app holding its role (200) and with an app holding another
TVM role (403 "Missing application roles"); the file export is downloaded over HTTPS without a
bearer token and expires on the virtual clock; installing and removing software through the
control plane makes a CVE appear and disappear.
"""

from __future__ import annotations

import gzip
import json
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tvm_helpers import TVM_CALLS, tvm_ids

from mdekit.catalog import OPERATIONS, find_operation
from mdekit.emulator.server import EmulatorServer

pytestmark = pytest.mark.socket

_ROLES = sorted({OPERATIONS[name].roles[0] for name in TVM_CALLS})


def _client(emu: EmulatorServer, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=emu.url,
        verify=ssl.create_default_context(cafile=str(emu.ca_cert)),
        headers=headers or {},
        timeout=60,
    )


@pytest.fixture
def tvm_tenant(
    make_app: Callable[..., Any], control: httpx.Client, emu: EmulatorServer
) -> Iterator[dict[str, Any]]:
    """A seeded tenant and one HTTPS client per TVM role (each app holds exactly that role)."""
    apps = {role: make_app(permissions=[role], display_name=f"tvm {role}") for role in _ROLES}
    tenant = next(iter(apps.values()))["tenantId"]
    r = control.post(f"/_emulator/tenants/{tenant}/seed", json={"machines": 30, "alerts": 0, "seed": 5})
    assert r.status_code == 200 and r.json()["softwareInstalls"] > 0, r.text
    clients = {role: _client(emu, app.headers()) for role, app in apps.items()}
    yield {"tenant": tenant, "clients": clients}
    for c in clients.values():
        c.close()


def _get(clients: dict[str, httpx.Client], op_name: str, path: str) -> httpx.Response:
    return clients[OPERATIONS[op_name].roles[0]].get(path)


def test_every_operation_with_and_without_its_role_over_https(tvm_tenant: dict[str, Any]) -> None:
    clients = tvm_tenant["clients"]
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def get_json(path: str) -> Any:
        found = find_operation("GET", path.split("?")[0])
        assert found is not None, path
        r = _get(clients, found[0].name, path)
        assert r.status_code == 200, r.text
        return r.json()

    ids = tvm_ids(get_json, since)
    for name, template in sorted(TVM_CALLS.items()):
        op = OPERATIONS[name]
        path = template.format(**ids)
        r = _get(clients, name, path)
        assert r.status_code == 200, (name, r.text)
        assert r.json()["@odata.context"].startswith("https://127.0.0.1:")
        other = next(role for role in _ROLES if role not in op.roles)
        denied = clients[other].get(path)
        assert denied.status_code == 403, (name, denied.text)
        assert denied.json()["error"]["message"] == (
            f"Missing application roles. API required roles: {', '.join(op.roles)}, "
            f"application roles: {other}."
        )
        assert denied.json()["error"]["target"] == denied.headers["request-id"]


def test_file_export_download_over_https_expires_on_the_virtual_clock(
    tvm_tenant: dict[str, Any], emu: EmulatorServer, control: httpx.Client
) -> None:
    vulns = tvm_tenant["clients"]["Vulnerability.Read.All"]
    body = vulns.get("/api/machines/SoftwareVulnerabilitiesExport").json()
    files = body["exportFiles"]
    assert files and all(urlsplit(f).netloc == urlsplit(emu.url).netloc for f in files)
    with _client(emu) as anonymous:  # the signed URL is the only credential
        r = anonymous.get(files[0])
        assert r.status_code == 200 and r.headers["x-ms-blob-type"] == "BlockBlob"
        rows = [json.loads(line) for line in gzip.decompress(r.content).decode().splitlines()]
        expected = vulns.get("/api/machines/SoftwareVulnerabilitiesByMachine").json()["value"]
        assert rows == expected
        assert anonymous.get(files[0].replace("sig=", "sig=x")).status_code == 403
        assert anonymous.get("/api/machines/SoftwareVulnerabilitiesByMachine").status_code == 401
        assert control.post("/_emulator/clock", json={"advanceSeconds": 3660}).status_code == 200
        expired = anonymous.get(files[0])
        assert expired.status_code == 403 and "<Code>AuthenticationFailed</Code>" in expired.text


def test_install_and_remove_make_a_cve_appear_and_disappear_over_https(
    tvm_tenant: dict[str, Any], control: httpx.Client
) -> None:
    tenant, clients = tvm_tenant["tenant"], tvm_tenant["clients"]
    vulns = clients["Vulnerability.Read.All"]
    machines = clients["Machine.Read.All"].get("/api/deviceavinfo?$filter=osKind eq 'windows'&$top=50").json()
    cve = "CVE-2023-38831"  # WinRAR before 6.23
    exposed = {m["id"] for m in vulns.get(f"/api/vulnerabilities/{cve}/machineReferences").json()["value"]}
    machine = next(m["machineId"] for m in machines["value"] if m["machineId"] not in exposed)
    base = f"/_emulator/tenants/{tenant}/machines/{machine}/software"
    r = control.post(base, json={"vendor": "rarlab", "name": "winrar", "version": "6.22"})
    assert r.status_code == 200 and cve in next(s for s in r.json()["value"] if s["name"] == "winrar")["cves"]
    found = vulns.get(f"/api/machines/{machine}/vulnerabilities").json()["value"]
    assert cve in {v["id"] for v in found}
    refs = vulns.get(f"/api/vulnerabilities/{cve}/machineReferences").json()["value"]
    assert {m["id"] for m in refs} == exposed | {machine}
    r = control.post(
        base, json={"vendor": "rarlab", "name": "winrar", "version": "7.01"}
    )  # an update fixes it
    assert r.status_code == 200
    assert cve not in {v["id"] for v in vulns.get(f"/api/machines/{machine}/vulnerabilities").json()["value"]}
    assert control.delete(f"{base}/rarlab/winrar").status_code == 204
    names = {s["name"] for s in control.get(base).json()["value"]}
    assert "winrar" not in names
    assert {
        m["id"] for m in vulns.get(f"/api/vulnerabilities/{cve}/machineReferences").json()["value"]
    } == exposed
