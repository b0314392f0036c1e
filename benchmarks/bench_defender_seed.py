"""Defender emulator seeding time, and indexed paging vs a full scan.

1. Seeding: ``seed_tenant`` (generation + one transaction of ``executemany``) for N machines and
   M alerts: absolute time and alerts per second (no baseline: nothing else generates this data).
2. Paging: the 10,000-alert page at ``$skip=90,000`` through the API's list query, vs a full scan
   that decodes every alert of the tenant and slices in Python.

Prints times and the paging ratio (scan / page). Run:
``.venv/bin/python benchmarks/bench_defender_seed.py [--machines N] [--alerts N]``
"""

from __future__ import annotations

import argparse
import time

from mdekit.emulator.defender.listing import ListQuery
from mdekit.emulator.defender.seed import seed_tenant
from mdekit.emulator.state import EmulatorState


def _timed(label: str, func: object) -> float:
    start = time.perf_counter()
    func()  # type: ignore[operator]
    took = time.perf_counter() - start
    print(f"{label:<58} {took:8.2f} s")
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--machines", type=int, default=10_000)
    parser.add_argument("--alerts", type=int, default=100_000)
    args = parser.parse_args()
    state = EmulatorState.open(None)
    tid = state.directory.create_tenant("Bench").id
    ours = _timed(
        f"seed_tenant: {args.machines:,} machines + {args.alerts:,} alerts",
        lambda: seed_tenant(state.defender, tid, machines=args.machines, alerts=args.alerts, seed=1),
    )
    print(f"{'  -> alerts per second':<58} {args.alerts / ours:10,.0f}")

    skip = max(0, args.alerts - 10_000)
    query = ListQuery(skip=skip)
    paged = _timed(
        f"API page of 10,000 alerts at $skip={skip:,}", lambda: state.defender.alerts.page(tid, query)
    )
    scan = _timed(
        "full scan: decode every alert, slice in Python",
        lambda: list(state.defender.iter_alerts(tid))[skip : skip + 10_000],
    )
    print(f"paging ratio (scan / page) {scan / paged:5.1f}x")


if __name__ == "__main__":
    main()
