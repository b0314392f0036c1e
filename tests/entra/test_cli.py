"""`mde emulator ...`, `mde token ...`, `mde consent-url`: a real `serve` subprocess, the rest in-process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mdekit.cli.main import main
from mdekit.emulator.server import EmulatorServer

MDE = "https://api.securitycenter.microsoft.com"
MDE_BIN = str(Path(sys.executable).parent / "mde")


def run_mde(args: list[str], capsys: pytest.CaptureFixture[str], stdin: str | None = None,
            monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:  # fmt: skip
    """Run `mde ARGS` in-process: (exit code, stdout, stderr)."""
    if stdin is not None and monkeypatch is not None:
        import io

        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def target(emu: EmulatorServer) -> list[str]:
    return ["--url", emu.url, "--ca", str(emu.ca_cert)]


def test_serve_subprocess_ready_file_and_control(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    env = {**os.environ, "MDEKIT_HOME": str(tmp_path / "home"), "MDEKIT_EMULATOR_READY_FILE": str(ready)}
    env.pop("MDEKIT_EMULATOR_URL", None)
    proc = subprocess.Popen(
        [MDE_BIN, "emulator", "serve", "--port", "0", "--data", str(tmp_path / "e.db"),
         "--ready-file", str(ready)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        if not ready.exists():  # stop it before reading stderr: a live server never closes it
            proc.kill()
            pytest.fail(f"the emulator did not start: {proc.communicate(timeout=30)[1][-2000:]}")
        info = json.loads(ready.read_text())
        assert info["pid"] == proc.pid and info["url"].startswith("https://127.0.0.1:")
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert info["url"] in line and info["ca_cert"] in line and "trust" in line
        with httpx.Client(verify=info["ca_cert"]) as http:
            keys = http.get(f"{info['url']}/common/discovery/keys")
        assert keys.status_code == 200 and keys.json()["keys"][0]["kid"]
        added = subprocess.run([MDE_BIN, "emulator", "tenant", "add", "Contoso", "--json"], env=env,
                               capture_output=True, text=True, timeout=60)  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert json.loads(added.stdout)["domain"] == "contoso.onmicrosoft.com"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    assert not (tmp_path / "home" / "emulator" / "ready.json").exists()
    assert (tmp_path / "home" / "emulator" / "ca.pem").exists()


def test_directory_commands(target: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_mde(["emulator", "tenant", "add", "Contoso", *target, "--json"], capsys)
    tenant = json.loads(out)
    assert code == 0 and tenant["domain"] == "contoso.onmicrosoft.com"
    code, out, _ = run_mde(["emulator", "app", "add", "-t", tenant["domain"], "-n", "Demo",
                            "-p", "Alert.Read.All", "--multi-tenant", *target, "--json"], capsys)  # fmt: skip
    app = json.loads(out)
    assert code == 0 and app["grantedRoles"] == ["Alert.Read.All"] and app["secret"]["value"]
    code, out, _ = run_mde(["emulator", "permissions", "-t", tenant["tenantId"], "-a", app["appId"],
                            "--add", "Machine.Scan", *target], capsys)  # fmt: skip
    assert code == 0 and "Machine.Scan" in out and "granted:   Alert.Read.All" in out
    code, out, _ = run_mde(
        ["emulator", "consent", "-t", tenant["tenantId"], "-a", app["appId"], *target], capsys
    )
    assert code == 0 and "Alert.Read.All, Machine.Scan" in out
    code, out, _ = run_mde(["emulator", "secret", "add", "-t", tenant["tenantId"], "-a", app["appId"],
                            "--end", "2099-01-01T00:00:00Z", *target, "--json"], capsys)  # fmt: skip
    assert code == 0 and json.loads(out)["endDateTime"].startswith("2099-01-01")
    code, out, _ = run_mde(["emulator", "app", "list", "-t", tenant["tenantId"], *target, "--json"], capsys)
    assert (
        code == 0 and app["secret"]["value"] not in out and len(json.loads(out)["value"][0]["secrets"]) == 2
    )
    code, out, _ = run_mde(["emulator", "tenant", "list", *target], capsys)
    assert code == 0 and tenant["tenantId"] in out


def test_clock_requests_reset_and_errors(target: list[str], capsys: pytest.CaptureFixture[str],
                                         make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    app = make_app()
    app.token()
    code, out, _ = run_mde(["emulator", "clock", *target, "--json"], capsys)
    before = json.loads(out)["now"]
    code, out, _ = run_mde(["emulator", "clock", "--advance", "3600", *target, "--json"], capsys)
    assert code == 0 and json.loads(out)["now"][:13] > before[:13]
    code, out, _ = run_mde(["emulator", "requests", *target], capsys)
    assert code == 0 and "/oauth2/v2.0/token" in out and app["appId"] in out
    code, _, err = run_mde(
        ["emulator", "app", "add", "-t", app["tenantId"], "-n", "x", "-p", "Nope", *target], capsys
    )
    assert code == 2 and err.startswith("error: ") and "unknown application permission 'Nope'" in err
    code, _, err = run_mde(["emulator", "reset", *target], capsys)
    assert code == 0
    code, _, err = run_mde(["emulator", "app", "list", "-t", app["tenantId"], *target], capsys)
    assert code == 1 and "not found" in err
    monkeypatch.delenv("MDEKIT_EMULATOR_URL", raising=False)
    monkeypatch.setenv("MDEKIT_EMULATOR_READY_FILE", "/nonexistent/ready.json")
    code, _, err = run_mde(["emulator", "tenant", "list"], capsys)
    assert code == 2 and "mde emulator serve" in err and "Traceback" not in err


def test_defender_control_commands(target: list[str], capsys: pytest.CaptureFixture[str], make_app: Any,
                                   control: httpx.Client) -> None:  # fmt: skip
    app = make_app()
    code, out, err = run_mde(["emulator", "seed", "-t", app["tenantId"], "--machines", "3", "--alerts", "2",
                              "--seed", "7", *target, "--json"], capsys)  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["machines"] == 3
    code, out, err = run_mde(["emulator", "faults", "add", "--status", "503", "--path", "/api/alerts",
                              "--nth", "2", *target, "--json"], capsys)  # fmt: skip
    assert code == 0, err
    plans = control.get("/_emulator/faults").json()["value"]
    assert len(plans) == 1 and plans[0]["status"] == 503 and plans[0]["nth"] == 2
    code, out, _ = run_mde(["emulator", "faults", "list", *target], capsys)
    assert code == 0 and "503" in out
    code, _, _ = run_mde(["emulator", "faults", "clear", *target], capsys)
    assert code == 0 and control.get("/_emulator/faults").json()["value"] == []
    code, out, err = run_mde(["emulator", "actions-timing", "--pending-seconds", "5", "--run-seconds", "10",
                              "--outcome", "Failed", *target, "--json"], capsys)  # fmt: skip
    assert code == 0, err
    assert "Failed" in out


def test_token_get_decode_verify(emu: EmulatorServer, make_app: Any, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch, client_cert: Any) -> None:  # fmt: skip
    app = make_app(permissions=["Alert.Read.All"], certificate_pem=client_cert.cert_pem)
    monkeypatch.setenv("MDEKIT_EMULATOR_URL", emu.url)
    monkeypatch.setenv("MDEKIT_EMULATOR_CA", str(emu.ca_cert))
    monkeypatch.setenv("AZURE_TENANT_ID", app["tenantId"])
    monkeypatch.setenv("AZURE_CLIENT_ID", app["appId"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", app["secret"])
    code, out, err = run_mde(["token", "get", "--emulator"], capsys)
    assert code == 0, err
    token = out.strip()
    assert token.count(".") == 2 and app["secret"] not in out + err
    code, out, _ = run_mde(["token", "get", "--emulator", "--v1", "--json"], capsys)
    assert code == 0 and json.loads(out)["resource"] == MDE and json.loads(out)["expires_in"] == 3599
    code, out, _ = run_mde(
        ["token", "get", "--emulator", "--certificate", str(client_cert.combined), "--json"], capsys
    )
    assert code == 0 and json.loads(out)["access_token"]
    code, out, _ = run_mde(["token", "decode", token], capsys)
    assert (
        code == 0 and "roles    Alert.Read.All" in out and "UTC" in out and "credential: client secret" in out
    )
    code, out, _ = run_mde(
        ["token", "decode", "--json"], capsys, stdin=f"Bearer {token}\n", monkeypatch=monkeypatch
    )
    assert code == 0 and json.loads(out)["claims"]["appid"] == app["appId"]
    code, out, _ = run_mde(
        ["token", "verify", token, "--emulator", "--audience", MDE, "--role", "Alert.Read.All"], capsys
    )
    assert code == 0 and out.startswith("valid")
    code, _, err = run_mde(["token", "verify", token, "--emulator", "--role", "Machine.Isolate"], capsys)
    assert code == 4 and "(roles)" in err
    code, _, err = run_mde(
        ["token", "verify", token, "--emulator", "--audience", "https://graph.microsoft.com"], capsys
    )
    assert code == 3 and "(audience)" in err
    code, out, _ = run_mde(["token", "verify", "not.a-token", "--emulator", "--json"], capsys)
    assert code == 2 and json.loads(out)["reason"] == "malformed"
    head, body, sig = token.split(".")
    code, _, err = run_mde(["token", "verify", f"{head}.{body}.{sig[:-4]}AAAA", "--emulator"], capsys)
    assert code == 3 and "(signature)" in err
    monkeypatch.setenv("AZURE_CLIENT_SECRET", app["secretKeyId"])
    code, _, err = run_mde(["token", "get", "--emulator"], capsys)
    assert code == 3 and "AADSTS7000215" in err and app["secretKeyId"] not in err


def test_consent_url_command(capsys: pytest.CaptureFixture[str]) -> None:
    app_id = "11111111-2222-3333-4444-555555555555"
    code, out, _ = run_mde(["consent-url", "--client-id", app_id], capsys)
    assert code == 0 and out.strip() == (
        f"https://login.microsoftonline.com/common/oauth2/authorize?prompt=consent&client_id={app_id}"
        "&response_type=code&sso_reload=true"
    )
    args = ["--v2", "--tenant", "fabrikam.onmicrosoft.com", "--redirect-uri", "https://portal.azure.com"]
    code, out, _ = run_mde(
        ["consent-url", "--client-id", app_id, *args, "--cloud", "gcc-high", "--json"], capsys
    )
    links = json.loads(out)
    assert code == 0 and links["v2"].startswith(
        "https://login.microsoftonline.us/fabrikam.onmicrosoft.com/v2.0/adminconsent?"
    )
    code, _, err = run_mde(["consent-url", "--client-id", "nope"], capsys)
    assert code == 2 and err.startswith("error: ")
    code, _, err = run_mde(
        ["consent-url", "--client-id", app_id, "--v2", "--tenant", "x.onmicrosoft.com"], capsys
    )
    assert code == 2 and "--redirect-uri" in err
