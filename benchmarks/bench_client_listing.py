"""Benchmark 2: client overhead listing 100,000 alerts vs a bare httpx + json loop (goal: ratio <= 1.3).

Both read the same in-process emulator through the same transport and the same pages
(``$top=10000`` / ``$skip``); the client also checks permissions, rate-limits, retries and builds
typed ``Alert`` models. Run: ``.venv/bin/python benchmarks/bench_client_listing.py [count]``.
"""

from __future__ import annotations

import json
import sys

import httpx
from _common import BASE, Bench, timed

PAGE = 10_000


def bare(bench: Bench) -> int:
    """The baseline: httpx + json.loads, paging with $top/$skip until a short page."""
    headers = {"Authorization": f"Bearer {bench.token()}"}
    total, skip = 0, 0
    with httpx.Client(base_url=BASE, transport=bench.transport, headers=headers, timeout=600) as http:
        while True:
            r = http.get("/api/alerts", params={"$top": str(PAGE), "$skip": str(skip)})
            r.raise_for_status()
            items = json.loads(r.content)["value"]
            total += len(items)
            skip += len(items)
            if len(items) < PAGE:
                return total


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    bench = Bench()
    try:
        secs_seed, _ = timed(lambda: bench.seed(machines=500, alerts=count))
        bench.state.defender.throttle.configure(enabled=False)  # measure overhead, not quotas
        with bench.client(rate_limit=False) as client:
            client_runs, bare_runs = [], []
            for _ in range(2):  # alternate to even out warm-up and caches
                bare_runs.append(timed(lambda: bare(bench)))
                client_runs.append(timed(lambda: sum(1 for _ in client.alerts.list(page_size=PAGE))))
        tb, nb = min(bare_runs)
        tc, nc = min(client_runs)
        assert nb == nc == count, (nb, nc, count)
        print(f"seeded {count} alerts in {secs_seed:.1f}s")
        print(f"bare httpx + json: {tb:.2f}s for {nb} alerts")
        print(f"mdekit (typed models): {tc:.2f}s for {nc} alerts")
        print(f"overhead ratio: {tc / tb:.2f} (goal <= 1.3)")
    finally:
        bench.close()


if __name__ == "__main__":
    main()
