"""Defender emulator seeding time (vs the SQLite floor), data-file size, and indexed paging vs a scan.

1. Seeding: ``seed_tenant`` (generation + one transaction) of N machines and M alerts into a fresh
   SQLite *file* (WAL, as the emulator runs), several times. Baseline, measured in the same run and
   the same way: a bare ``executemany`` of M minimal rows ``(n, tenant, id)`` into a fresh file in
   one transaction - the floor for any SQLite-backed seed. Prints wall and CPU seconds, alerts per
   second, the ratio seed / floor, and the data file's size (database + WAL) per 100,000 alerts.
2. Paging: the 10,000-alert page at ``$skip=M-10,000`` through the API's list query, vs a full scan
   that decodes every alert of the tenant and slices in Python.

3. Where the bytes go: each table's and index's share of the file per alert (SQLite's ``dbstat``).
4. ``--before DIR``: the same seed by another source tree (e.g. ``git archive 9acec77 src | tar -x -C
   /tmp/before``, then ``--before /tmp/before/src``) in a subprocess, alternating with this tree's
   runs: before/after from one run.

CPU counts the seed's child process too (a large seed makes its alerts in one, issue 19).
Run: ``.venv/bin/python benchmarks/bench_defender_seed.py [--machines N] [--alerts N] [--repeat R]
[--before DIR]`` (the machine is shared: compare the ratios, and the best of several runs, not one
absolute time).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mdekit.emulator.defender.jsonio import answer_bytes
from mdekit.emulator.defender.listing import ListQuery
from mdekit.emulator.defender.seed import seed_tenant
from mdekit.emulator.state import EmulatorState

_TENANT = "5e3c1f0a-2b7d-4c9e-8f61-0a1b2c3d4e5f"


def _cpu() -> float:
    """CPU seconds of this process (every thread) and of its children that have ended."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _clock(func: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of ``func()``; CPU counts every thread of the process and its children."""
    wall, cpu = time.perf_counter(), _cpu()
    func()
    return time.perf_counter() - wall, _cpu() - cpu


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def floor(alerts: int, directory: Path) -> tuple[float, float]:
    """A bare one-transaction ``executemany`` of *alerts* minimal rows into a fresh WAL file."""
    conn = sqlite3.connect(directory / "floor.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, tenant TEXT NOT NULL, id TEXT NOT NULL)")

    def run() -> None:
        rows = [(i, _TENANT, f"da{638_000_000_000_000_000 + i}_{i}") for i in range(alerts)]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
        conn.execute("COMMIT")

    try:
        return _clock(run)
    finally:
        conn.close()


def seed_once(machines: int, alerts: int, directory: Path) -> tuple[float, float, int, EmulatorState, str]:
    """Seed a fresh emulator file; (wall, CPU, bytes on disk, open state, tenant id)."""
    path = directory / "emulator.db"
    state = EmulatorState.open(path)
    tid = state.directory.create_tenant("Bench").id
    wall, cpu = _clock(lambda: seed_tenant(state.defender, tid, machines=machines, alerts=alerts, seed=1))
    return wall, cpu, _size(path), state, tid


_BEFORE = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
from mdekit.emulator.defender.seed import seed_tenant
from mdekit.emulator.state import EmulatorState
machines, alerts = int(sys.argv[1]), int(sys.argv[2])
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "emulator.db"
    state = EmulatorState.open(path)
    tid = state.directory.create_tenant("Bench").id
    def cpu():
        a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime
    w, c = time.perf_counter(), cpu()
    seed_tenant(state.defender, tid, machines=machines, alerts=alerts, seed=1)
    w, c = time.perf_counter() - w, cpu() - c
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    state.close()
    print(json.dumps([w, c, size]))
"""


def seed_before(machines: int, alerts: int, src: str) -> tuple[float, float, int]:
    """The same seed by the source tree *src*, in a subprocess: (wall, CPU, bytes on disk)."""
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run(
        [sys.executable, "-c", _BEFORE, str(machines), str(alerts)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu, size = json.loads(out.stdout.strip().splitlines()[-1])
    return float(wall), float(cpu), int(size)


def _sizes(state: EmulatorState, alerts: int) -> None:
    """Each table's and index's bytes per alert (the ten largest), from SQLite's ``dbstat``."""
    rows = state.defender.db.query(
        "SELECT name, SUM(pgsize) AS b FROM dbstat GROUP BY name ORDER BY b DESC LIMIT 10"
    )
    parts = ", ".join(f"{r['name']} {r['b'] / max(alerts, 1):.0f}" for r in rows)
    _row("bytes per alert, largest tables and indexes (dbstat)", "")
    print(f"  {parts}")


def _row(label: str, value: str) -> None:
    print(f"{label:<62} {value}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--machines", type=int, default=10_000)
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", metavar="DIR", help="also seed with this source tree (its src/)")
    args = parser.parse_args()
    seeds, floors, befores = [], [], []
    state, tid, size = None, "", 0
    for _ in range(max(1, args.repeat)):
        with tempfile.TemporaryDirectory() as tmp:
            floors.append(floor(args.alerts, Path(tmp)))
        if args.before:
            befores.append(seed_before(args.machines, args.alerts, args.before))
        tmp_dir = tempfile.TemporaryDirectory()
        wall, cpu, size, fresh, fresh_tid = seed_once(args.machines, args.alerts, Path(tmp_dir.name))
        seeds.append((wall, cpu))
        if state is not None:
            state.close()
        state, tid, keep = fresh, fresh_tid, tmp_dir  # the last seeded state serves the paging part
    assert state is not None
    label = f"seed_tenant: {args.machines:,} machines + {args.alerts:,} alerts (file)"
    walls = [w for w, _ in seeds]
    _row(label, "runs " + " ".join(f"{w:.2f}" for w in walls) + " s")
    best, median, cpu = min(walls), statistics.median(walls), min(c for _, c in seeds)
    _row("  best / median wall (CPU)", f"{best:.2f} / {median:.2f} s  ({cpu:.2f} s CPU)")
    rates = f"{args.alerts / best:,.0f} / {args.alerts / median:,.0f} ({args.alerts / cpu:,.0f} per CPU s)"
    _row("  alerts per second (best / median wall)", rates)
    floor_best = min(w for w, _ in floors)
    _row(f"baseline: bare executemany of {args.alerts:,} minimal rows", f"best {floor_best:.2f} s")
    _row("ratio seed / baseline (best of each; lower is better)", f"{best / floor_best:.1f}x")
    per_100k = size / max(args.alerts, 1) * 100_000 / 1e6
    _row("data file (db + WAL) per 100,000 alerts", f"{per_100k:.0f} MB ({size / 1e6:.0f} MB in all)")
    if befores:
        b_wall, b_cpu = min(w for w, _, _ in befores), min(c for _, c, _ in befores)
        b_size = befores[-1][2]
        _row(
            f"before ({args.before}): best wall (CPU)",
            f"{b_wall:.2f} s ({b_cpu:.2f} s CPU), {b_size / max(args.alerts, 1) * 100_000 / 1e6:.0f} MB "
            "per 100,000 alerts",
        )
        _row(
            "ratio after / before: wall, CPU, size (lower is better)",
            f"{best / b_wall:.2f}x, {cpu / b_cpu:.2f}x, {size / b_size:.2f}x",
        )
    _sizes(state, args.alerts)
    _paging(state, tid, args.alerts)
    state.close()
    keep.cleanup()


def _paging(state: EmulatorState, tid: str, alerts: int) -> None:
    skip = max(0, alerts - 10_000)
    paged, _ = _clock(lambda: state.defender.alerts.page(tid, ListQuery(skip=skip)))
    _row(f"10,000 alerts as dicts at $skip={skip:,} (AlertStore.page)", f"{paged:.2f} s")
    for label, query in (
        (f"$skip={skip:,} (OFFSET)", lambda: ListQuery(skip=skip)),
        ("the same page by $skiptoken (keyset)", lambda: ListQuery(skip=skip, after=_nth(state, tid, skip))),
    ):
        wall, cpu = _clock(
            lambda q=query: answer_bytes({"value": state.defender.alerts.answer_page(tid, q())[0]})
        )
        _row(f"list answer body, 10,000 alerts, {label}", f"{wall * 1000:.0f} ms ({cpu * 1000:.0f} ms CPU)")
    scan, _ = _clock(lambda: list(state.defender.iter_alerts(tid))[skip : skip + 10_000])
    _row("full scan: decode every alert (+ evidence), slice in Python", f"{scan:.2f} s")
    _row("paging ratio (scan / page)", f"{scan / paged:.1f}x")


def _nth(state: EmulatorState, tid: str, skip: int) -> int:
    """The rowid the page at *skip* continues after (what its ``$skiptoken`` carries)."""
    sql = "SELECT n FROM def_alerts WHERE tenant = {} ORDER BY n LIMIT 1 OFFSET ?"
    try:  # the rows hold a seeded tenant's short key (defender/tenantkeys.py)
        row = state.defender.db.query_one(sql.format("tk(?)"), (tid, skip - 1))
    except sqlite3.OperationalError:  # a source tree from before tenant keys (--before)
        row = state.defender.db.query_one(sql.format("?"), (tid, skip - 1))
    return int(row["n"]) if row else 0


if __name__ == "__main__":
    main()
