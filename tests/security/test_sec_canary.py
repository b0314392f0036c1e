"""Secret canary: a client secret and its access token must never surface anywhere but where asked.

A representative run on an emulator with its own data file: token requests (good, wrong secret,
wrong scope), API calls with the canary token (success, 403, 404, bad OData), client errors, the
``mde`` CLI (list, a failing command, ``doctor``), then a search for both canaries in every log
record (all loggers at DEBUG), captured stdout/stderr, exception texts, the request journal, and
the bytes of the SQLite database file (and its WAL).
"""

from __future__ import annotations

import logging
import os
import shutil
import ssl
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from mdekit.client.defender import Defender
from mdekit.emulator.server import EmulatorServer
from mdekit.errors import MdeError

MDE_BIN = shutil.which("mde", path=str(Path(sys.executable).parent)) or "mde"
SCOPE = "https://api.securitycenter.microsoft.com/.default"


def _token_calls(http: httpx.Client, tid: str, app_id: str, secret: str) -> tuple[str, list[str]]:
    texts = []
    good = {"grant_type": "client_credentials", "client_id": app_id, "client_secret": secret, "scope": SCOPE}
    r = http.post(f"/{tid}/oauth2/v2.0/token", data=good)
    assert r.status_code == 200
    token = str(r.json()["access_token"])
    for form in (
        {**good, "client_secret": secret[::-1]},
        {**good, "scope": "https://nope.example/.default"},
        {**good, "scope": "no-default"},
        {**good, "client_id": "x"},
    ):
        texts.append(http.post(f"/{tid}/oauth2/v2.0/token", data=form).text)
    return token, texts


def _api_calls(http: httpx.Client, token: str) -> list[str]:
    h = {"Authorization": f"Bearer {token}"}
    out = []
    for method, path, params in (
        ("GET", "/api/alerts", {}),
        ("GET", "/api/alerts", {"$filter": "bad eq"}),
        ("GET", "/api/alerts/nope", {}),
        ("POST", f"/api/machines/{'a' * 40}/offboard", {}),
        ("GET", "/api/alerts", {"$top": "-1"}),
    ):
        out.append(http.request(method, path, params=params, headers=h, json={}).text)
    out.append(http.get("/api/alerts", headers={"Authorization": f"Bearer {token}x"}).text)
    return out


def _client_errors(emu: EmulatorServer, tid: str, app_id: str, secret: str) -> list[str]:
    texts = []
    for sec in (secret, secret[::-1]):
        with Defender.from_secret(
            tid,
            app_id,
            sec,
            base_url=emu.url,
            authority=emu.url,
            verify=ssl.create_default_context(cafile=str(emu.ca_cert)),
        ) as client:
            for call in (
                lambda: client.alerts.get("nope"),
                lambda: list(client.alerts.list(filter="bad eq")),
                lambda: client.actions.offboard("a" * 40, "x"),
            ):
                try:
                    call()
                except MdeError as exc:
                    texts += [str(exc), repr(exc), repr(exc.__dict__)]
    return texts


def _cli(emu: EmulatorServer, tid: str, app_id: str, secret: str, tmp: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "MDEKIT_"))}
    env.update(
        {
            "AZURE_TENANT_ID": tid,
            "AZURE_CLIENT_ID": app_id,
            "AZURE_CLIENT_SECRET": secret,
            "MDEKIT_BASE_URL": emu.url,
            "MDEKIT_AUTHORITY": emu.url,
            "MDEKIT_CA_BUNDLE": str(emu.ca_cert),
            "MDEKIT_CONFIG_DIR": str(tmp / "config"),
            "MDEKIT_AUDIT_LOG": str(tmp / "audit.jsonl"),
        }
    )
    texts = []
    argvs = (
        ["alerts", "list", "--top", "2"],
        ["alerts", "list", "--filter", "bad eq"],
        ["doctor"],
        ["machines", "offboard", "a" * 40, "-m", "x", "-y"],
    )
    with ThreadPoolExecutor(max_workers=4) as pool:  # independent commands: run them side by side
        runs = pool.map(
            lambda argv: subprocess.run(
                [MDE_BIN, *argv], capture_output=True, text=True, env=env, timeout=60
            ),
            argvs,
        )
        for run in runs:
            texts += [run.stdout, run.stderr]
    audit = tmp / "audit.jsonl"
    texts.append(audit.read_text() if audit.exists() else "")
    return texts


def test_canaries_never_leak(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "canary.db"
    with EmulatorServer(state_dir=tmp_path, data=data) as emu:
        with httpx.Client(
            base_url=emu.url, verify=ssl.create_default_context(cafile=str(emu.ca_cert))
        ) as http:
            tid = http.post("/_emulator/tenants", json={"displayName": "Canary"}).json()["tenantId"]
            http.post(f"/_emulator/tenants/{tid}/seed", json={"machines": 2, "alerts": 3})
            body = {
                "displayName": "canary",
                "permissions": ["Alert.Read.All"],
                "grantConsent": True,
                "secret": True,
            }
            app = http.post(f"/_emulator/tenants/{tid}/applications", json=body).json()
            secret = app["secret"]["value"]
            token, texts = _token_calls(http, tid, app["appId"], secret)
            texts += _api_calls(http, token)
            texts.append(http.get("/_emulator/requests").text)
            texts.append(http.get(f"/_emulator/tenants/{tid}/applications").text)
        texts += _client_errors(emu, tid, app["appId"], secret)
        texts += _cli(emu, tid, app["appId"], secret, tmp_path)
    out, err = capfd.readouterr()
    texts += [out, err] + [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any("ResourceNotFound" in t for t in texts) and any("AADSTS7000215" in t for t in texts)
    signature = token.rsplit(".", 1)[1]
    for canary in (secret, token, signature):
        assert not [t for t in texts if canary in t]
    for path in tmp_path.glob("canary.db*"):
        raw = path.read_bytes()
        assert secret.encode() not in raw and token.encode() not in raw and signature.encode() not in raw, (
            path
        )
