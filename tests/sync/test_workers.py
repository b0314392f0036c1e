"""Several worker processes share tenants through PostgreSQL leases; one is SIGKILLed mid-pass and
its tenant is taken over when the lease expires. Every record ends up stored exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from sync_helpers import ALERTS, INCIDENTS, MACHINES, World
from test_sinks import stored

from mdekit.sync.engine import Syncer
from mdekit.sync.leases import LeaseBoard
from mdekit.sync.sinks.postgres import LeaseLost, PostgresSink

HERE = Path(__file__).parent
ENTITIES = [ALERTS, MACHINES, INCIDENTS]


def _start(cfg: Path, owner: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    return subprocess.Popen(
        [sys.executable, str(HERE / "worker_child.py"), str(cfg), owner],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _leases(url: str) -> dict[str, tuple[str | None, int]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tenant, owner, passes FROM mde_sync_leases").fetchall()
    return {r[0]: (r[1], int(r[2])) for r in rows}


def run_workers(
    world: World, pg_url: str, tmp_path: Path, *, workers: int, tenants: int, alerts: int
) -> None:
    tids = [world.tenant(f"W{i}", machines=8, alerts=alerts, seed=i) for i in range(tenants)]
    cfg = tmp_path / "workers.json"
    cfg.write_text(json.dumps({
        "url": world.server.url, "ca": str(world.server.ca_cert), "sink": pg_url, "ttl": 3,
        "tenants": [{"tenant": t, **world.apps[t]} for t in tids], "entities": "alerts,machines,incidents",
        "pageSize": 25, "pageDelay": 0.05,
    }))  # fmt: skip
    PostgresSink(pg_url).close()  # schema first: the workers then only race for leases
    procs = {f"w{i}": _start(cfg, f"w{i}") for i in range(workers)}
    victim = "w0"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the victim holds a lease, then kill it
        if any(owner == victim for owner, _ in _leases(pg_url).values()):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the first worker never took a lease")
    held = [t for t, (owner, _) in _leases(pg_url).items() if owner == victim]
    procs[victim].send_signal(signal.SIGKILL)
    procs[victim].communicate(timeout=30)  # reaps it and closes its pipes
    results = {}
    for name, proc in procs.items():
        if name == victim:
            continue
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        results[name] = json.loads(out.strip().splitlines()[-1])["synced"]
    leases = _leases(pg_url)
    assert all(owner is None for owner, _ in leases.values()), leases  # every lease handed back
    survivors = {t for synced in results.values() for t in synced}
    assert set(held) <= survivors  # the dead worker's tenant was taken over
    assert survivors == set(tids)
    assert all(results.values()), results  # the work was shared
    sink = PostgresSink(pg_url)
    for tid in tids:
        for entity in ENTITIES:
            assert stored(sink, tid, entity) == world.truth(tid, entity), (tid, entity.name)
    sink.close()


def test_three_workers_six_tenants_one_killed(world: World, pg_url: str, tmp_path: Path) -> None:
    run_workers(world, pg_url, tmp_path, workers=3, tenants=6, alerts=120)


@pytest.mark.slow
def test_three_workers_thirty_tenants_one_killed(world: World, pg_url: str, tmp_path: Path) -> None:
    run_workers(world, pg_url, tmp_path, workers=3, tenants=30, alerts=300)


def test_a_worker_that_lost_its_lease_cannot_commit(world: World, pg_url: str) -> None:
    tid = world.tenant(machines=4, alerts=30)
    sink = PostgresSink(pg_url, lease_owner="slow")
    board = LeaseBoard(sink, "slow", ttl=0.2)
    board.register([tid])
    assert board.acquire([tid]) == tid
    time.sleep(0.4)  # the lease expires; another worker takes the tenant
    other_sink = PostgresSink(pg_url)
    other = LeaseBoard(other_sink, "fast", ttl=30)
    assert other.acquire([tid]) == tid
    with pytest.raises(LeaseLost, match="lost its lease"):
        Syncer(sink, [world.source(tid)], [ALERTS]).run_once()
    assert sink.checkpoint(tid, ALERTS) is None  # nothing of the fenced commit remains
    assert not board.renew(tid)
    sink.close()
    other_sink.close()
