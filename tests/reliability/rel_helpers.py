"""Helpers for the reliability suite: `mde emulator serve` as a real subprocess, and an API session."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mdekit.catalog import MDE

MDE_BIN = shutil.which("mde", path=str(Path(sys.executable).parent)) or "mde"
MDE_URI = "https://api.securitycenter.microsoft.com"
ROLES = [r for r in MDE.roles if r != "SecurityBaselinesAssessment.Read.All"]


@dataclass
class ServedEmulator:
    """A running ``mde emulator serve`` process."""

    proc: subprocess.Popen[bytes]
    url: str
    ca: str

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=self.ca, timeout=kw.pop("timeout", 30), **kw)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush, no goodbye."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._close_pipe()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_pipe()

    def _close_pipe(self) -> None:
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def serve(home: Path, data: Path, timeout: float = 30.0) -> ServedEmulator:
    """Start ``mde emulator serve --data DATA`` and wait for its ready file."""
    home.mkdir(parents=True, exist_ok=True)  # the CLI refuses a --ready-file in a missing folder
    ready = home / f"ready-{time.monotonic_ns()}.json"
    argv = [
        MDE_BIN,
        "emulator",
        "serve",
        "--port",
        "0",
        "--data",
        str(data),
        "--state-dir",
        str(home),
        "--ready-file",
        str(ready),
    ]
    env = {**os.environ, "MDEKIT_HOME": str(home)}
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            _, raw = proc.communicate()  # reads and closes the pipe
            raise RuntimeError(f"emulator did not start: {raw.decode(errors='replace')[-2000:]}")
        time.sleep(0.05)
    info = json.loads(ready.read_text())
    return ServedEmulator(proc, info["url"], info["ca_cert"])


def new_app(
    control: httpx.Client, name: str = "Reliability", roles: list[str] | None = None
) -> dict[str, Any]:
    """A tenant with a consented all-roles app -> ``{"tid", "appId", "secret"}``."""
    tid = control.post("/_emulator/tenants", json={"displayName": name}).json()["tenantId"]
    body = {"displayName": name, "permissions": roles or ROLES, "grantConsent": True, "secret": True}
    r = control.post(f"/_emulator/tenants/{tid}/applications", json=body)
    assert r.status_code == 201, r.text
    return {"tid": tid, "appId": r.json()["appId"], "secret": r.json()["secret"]["value"]}


def token(control: httpx.Client, app: dict[str, Any]) -> str:
    """A v2 client-credentials token for the MDE API."""
    form = {
        "grant_type": "client_credentials",
        "client_id": app["appId"],
        "client_secret": app["secret"],
        "scope": f"{MDE_URI}/.default",
    }
    r = control.post(f"/{app['tid']}/oauth2/v2.0/token", data=form)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])
