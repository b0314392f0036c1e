"""SIGKILL a real sync process at random points, restart it, and check every record is stored
exactly once at the emulator's own version - while the emulator's activity keeps changing data."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sync_helpers import ALERTS, INCIDENTS, MACHINES, World
from test_sinks import sink_url, stored

from mdekit.sync.sinks import open_sink

HERE = Path(__file__).parent
ENTITIES = [ALERTS, MACHINES, INCIDENTS]


def _config(
    world: World, tids: list[str], url: str, tmp_path: Path, self_kill: float, **extra: Any
) -> Path:
    cfg = {
        "url": world.server.url,
        "ca": str(world.server.ca_cert),
        "tenants": [{"tenant": t, **world.apps[t]} for t in tids],
        "sink": url,
        "entities": "alerts,machines,incidents",
        "pageSize": 40,
        "selfKill": self_kill,
        **extra,
    }
    path = tmp_path / "child.json"
    path.write_text(json.dumps(cfg))
    return path


def _start(cfg: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    return subprocess.Popen(
        [sys.executable, str(HERE / "sync_child.py"), str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def kill_and_restart(
    world: World, tids: list[str], url: str, tmp_path: Path, kills: int, seed: int, **extra: Any
) -> dict[str, Any]:
    """Start, kill (or let finish) and restart the child *kills* times, the tenants changing meanwhile;
    then two clean runs. *extra*: more child config (``entities``, ``huntingRowLimit``)."""
    rng = random.Random(seed)
    world.post(
        "/_emulator/activity", {"seed": seed, "rates": {"alerts": 60, "alertUpdates": 60, "machinesStale": 4}}
    )
    cfg = _config(world, tids, url, tmp_path, self_kill=0.15, **extra)
    outcomes = {"killed": 0, "finished": 0}
    for _ in range(kills):
        child = _start(cfg)
        time.sleep(rng.uniform(0.5, 3.0))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        _, err = child.communicate(timeout=60)
        if child.returncode == -signal.SIGKILL:  # by us, or by itself mid-commit
            outcomes["killed"] += 1
        else:
            assert child.returncode == 0, err[-2000:]
            outcomes["finished"] += 1
        world.advance(rng.uniform(600, 3 * 3600))  # the tenant changes while the sync is down
    cfg = _config(world, tids, url, tmp_path, self_kill=0.0, **extra)
    for _ in range(2):  # finish the interrupted pass, then one more that starts after the last change
        child = _start(cfg)
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err[-2000:]
        assert "done" in out
    return outcomes


def check_exactly_once(world: World, url: str, tids: list[str]) -> None:
    sink = open_sink(url)
    try:
        for tid in tids:
            for entity in ENTITIES:
                assert stored(sink, tid, entity) == world.truth(tid, entity), (tid, entity.name)
    finally:
        sink.close()


@pytest.mark.parametrize("kind", ["sqlite", "ndjson"])
def test_sigkill_at_random_points_then_restart(
    kind: str, world: World, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = sink_url(kind, tmp_path, request)
    tids = [world.tenant(f"T{i}", machines=12, alerts=200, seed=i) for i in range(2)]
    outcomes = kill_and_restart(world, tids, url, tmp_path, kills=3, seed=11)
    assert outcomes["killed"] >= 2, outcomes  # the runs really died mid-way
    check_exactly_once(world, url, tids)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "duckdb", "ndjson", "parquet", "postgres"])
def test_sigkill_many_times(kind: str, world: World, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = sink_url(kind, tmp_path, request)
    tids = [world.tenant(f"T{i}", machines=30, alerts=2000, seed=i) for i in range(3)]
    # Pages of 200: 22 runs of 40-alert pages spent an app's 1,500 calls an hour on the frozen
    # virtual clock, and the restarted sync then waited out the Retry-After in wall time.
    outcomes = kill_and_restart(world, tids, url, tmp_path, kills=20, seed=5, pageSize=200)
    assert outcomes["killed"] >= 10, outcomes
    check_exactly_once(world, url, tids)
