"""`mde sync` as users run it: a real subprocess against the emulator over HTTPS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sync_helpers import ALERTS, INCIDENTS, MACHINES, World


def _mde(world: World, tid: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    app = world.apps[tid]
    env = {
        **os.environ,
        "AZURE_TENANT_ID": tid,
        "AZURE_CLIENT_ID": app["appId"],
        "AZURE_CLIENT_SECRET": app["secret"],
        "MDEKIT_BASE_URL": world.server.url,
        "MDEKIT_AUTHORITY": world.server.url,
        "MDEKIT_CA_BUNDLE": str(world.server.ca_cert),
        "MDEKIT_HOME": str(tmp_path / "home"),
    }
    env.pop("MDEKIT_PROFILE", None)
    return subprocess.run(
        [sys.executable, "-m", "mdekit.cli.main", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_mde_sync_once_then_status(world: World, tmp_path: Path) -> None:
    tid = world.tenant(machines=10, alerts=80)
    sink = f"sqlite:///{tmp_path}/mde.db"
    done = _mde(world, tid, tmp_path, "sync", "--to", sink, "--once", "-o", "json")
    assert done.returncode == 0, done.stderr
    rows = {r["entity"]: r for r in json.loads(done.stdout)}
    assert rows["alerts"]["records"] == 80 and rows["alerts"]["tenant"] == tid
    status = _mde(world, tid, tmp_path, "sync", "status", "--to", sink, "-o", "json")
    assert status.returncode == 0, status.stderr
    by_entity = {r["entity"]: r for r in json.loads(status.stdout)}
    for entity in (ALERTS, MACHINES, INCIDENTS):
        assert by_entity[entity.name]["records"] == len(world.truth(tid, entity))
        assert by_entity[entity.name]["inProgress"] is False and by_entity[entity.name]["lag"] is not None


def test_mde_sync_bad_input_is_one_line(world: World, tmp_path: Path) -> None:
    tid = world.tenant(machines=0)
    for args, message in (
        (["sync", "--to", "mysql://db"], "unknown sink"),
        (["sync", "--to", f"{tmp_path}/x.db", "--entities", "alerts,nope"], "unknown entity 'nope'"),
        (["sync", "--to", f"{tmp_path}/x.db", "--once", "--interval", "5m"], "not both"),
        (["sync", "frobnicate", "--to", f"{tmp_path}/x.db"], "unknown action"),
    ):
        r = _mde(world, tid, tmp_path, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
