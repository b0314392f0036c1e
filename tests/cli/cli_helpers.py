"""CLI test helpers: run the REAL ``mde`` console script in a subprocess against the emulator.

``app_env`` registers a consented app with a secret in a seeded tenant and returns the
environment a user would export (``AZURE_*`` plus ``MDEKIT_BASE_URL``/``MDEKIT_AUTHORITY``/
``MDEKIT_CA_BUNDLE`` for the emulator). ``mde(...)`` runs the command and returns the result with
parsed helpers; every run also checks that no secret and no full token reached stdout/stderr.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

MDE_BIN = shutil.which("mde", path=str(Path(sys.executable).parent)) or "mde"
JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")
ROLES = [
    "Alert.ReadWrite.All",
    "Machine.ReadWrite.All",
    "Machine.Isolate",
    "Machine.Scan",
    "Machine.CollectForensics",
    "Ti.ReadWrite.All",
    "File.Read.All",
    "Ip.Read.All",
    "Url.Read.All",
    "User.Read.All",
]


@dataclass
class Result:
    """A finished ``mde`` run."""

    args: list[str]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as JSON."""
        return json.loads(self.out)

    def ndjson(self) -> list[Any]:
        """stdout parsed as one JSON document per line."""
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@dataclass
class AppEnv:
    """A registered, consented app in a seeded tenant, and the env vars that reach it."""

    tenant: str
    app_id: str
    secret: str
    env: dict[str, str]
    home: Path
    secrets: list[str] = field(default_factory=list)


def control_post(control: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    """POST to the control plane; fail the test on an error."""
    reply = control.post(f"/_emulator{path}", json=body)
    assert reply.status_code < 300, f"{path}: {reply.status_code} {reply.text}"
    return reply.json() if reply.content else None


def make_app(
    control: httpx.Client, tenant: str, roles: list[str], name: str = "cli-tests"
) -> tuple[str, str]:
    """Register a consented app with a secret in *tenant*; returns (app id, secret value)."""
    app = control_post(
        control,
        f"/tenants/{tenant}/applications",
        {
            "displayName": name,
            "multiTenant": True,
            "permissions": roles,
            "grantConsent": True,
            "secret": True,
        },
    )
    return app["appId"], app["secret"]["value"]


def action_timing(control: httpx.Client, pending: float, run: float, outcome: str = "Succeeded") -> None:
    """How long machine actions stay Pending, then InProgress, before *outcome* (every type)."""
    control_post(control, "/actions", {"pendingSeconds": pending, "runSeconds": run, "outcome": outcome})


def windows_machines(client: Any) -> list[Any]:
    """The tenant's Windows machines (the actions every platform supports are not all of them)."""
    return [m for m in client.machines.list() if (m.os_platform or "").startswith("Windows")]


def journal(control: httpx.Client) -> list[dict[str, Any]]:
    """The emulator's request journal."""
    return list(control.get("/_emulator/requests").json()["value"])


def parallel(mde: Callable[..., Result], *runs: tuple[str, ...]) -> list[Result]:
    """Independent ``mde`` runs, three at a time (results in the order given): keeps the suite fast."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(lambda args: mde(*args), runs))
