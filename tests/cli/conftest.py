"""CLI test fixtures (helpers in cli_helpers.py): the real `mde` script against the emulator."""

from __future__ import annotations

import os
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import JWT, MDE_BIN, ROLES, AppEnv, Result, control_post, make_app

from mdekit.emulator.server import EmulatorServer


@pytest.fixture
def app_env(emu: EmulatorServer, control: httpx.Client, tmp_path: Path) -> AppEnv:
    """A seeded tenant with a fully permitted app; env for the `mde` subprocess (isolated config dir)."""
    tenant = control_post(control, "/tenants", {"displayName": "Contoso"})["tenantId"]
    control_post(control, f"/tenants/{tenant}/seed", {"machines": 6, "alerts": 30, "seed": 3})
    app_id, secret = make_app(control, tenant, ROLES)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "MDEKIT_"))}
    env.update(
        {
            "AZURE_TENANT_ID": tenant,
            "AZURE_CLIENT_ID": app_id,
            "AZURE_CLIENT_SECRET": secret,
            "MDEKIT_BASE_URL": emu.url,
            "MDEKIT_AUTHORITY": emu.url,
            "MDEKIT_CA_BUNDLE": str(emu.ca_cert),
            "MDEKIT_CONFIG_DIR": str(tmp_path / "config"),
            "MDEKIT_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
            "COLUMNS": "120",
        }
    )
    return AppEnv(tenant, app_id, secret, env, tmp_path, [secret])


@pytest.fixture
def mde(app_env: AppEnv) -> Callable[..., Result]:
    """Run ``mde ARGS`` (the installed console script) with the app's environment."""

    def run(
        *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 60
    ) -> Result:
        full_env = {**app_env.env, **(env or {})}
        proc = subprocess.run(
            [MDE_BIN, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )
        result = Result(list(args), proc.returncode, proc.stdout, proc.stderr)
        for secret in app_env.secrets:
            assert secret not in result.out + result.err, f"secret printed by mde {' '.join(args)}"
        assert not JWT.search(result.out + result.err), f"a token was printed by mde {' '.join(args)}"
        assert "Traceback" not in result.err, result.err
        return result

    return run


@pytest.fixture
def api(emu: EmulatorServer, app_env: AppEnv) -> Iterator[Callable[..., Any]]:
    """``api(tenant=None)``: an in-process ``Defender`` client for the test app.

    For setting up and checking emulator state around an ``mde`` run (cheaper than another
    subprocess); the commands under test always run through the real ``mde`` script.
    """
    from mdekit.client import Defender

    tls = ssl.create_default_context(cafile=str(emu.ca_cert))
    opened: dict[str, Any] = {}

    def client(tenant: str | None = None) -> Any:
        tid = tenant or app_env.tenant
        if tid not in opened:
            opened[tid] = Defender.from_secret(
                tid, app_env.app_id, app_env.secret, base_url=emu.url, authority=emu.url, verify=tls
            )
        return opened[tid]

    yield client
    for each in opened.values():
        each.close()
