"""Benchmark 2: client overhead listing 100,000 alerts vs a bare httpx + json loop (goal: ratio <= 1.3).

Both read the same in-process emulator through the same transport and the same pages
(``$top=10000`` / ``$skip``); the client also checks permissions, rate-limits, retries and builds
typed ``Alert`` models. Run: ``.venv/bin/python benchmarks/bench_client_listing.py [count] [rounds]``.
The two alternate for *rounds* rounds (default 3: the machine is shared); the ratio is of the best
times, and every round's own ratio is printed too.
"""

from __future__ import annotations

import json
import sys

import httpx
from _common import BASE, Bench, timed

PAGE = 10_000


def bare(bench: Bench, free: bool = False) -> int:
    """The baseline: httpx + json.loads, paging with $top/$skip until a short page.

    With *free*, the page is dropped before the next request (as the client does): a stricter
    baseline, since a live page makes every garbage-collector pass during the next request longer.
    """
    headers = {"Authorization": f"Bearer {bench.token()}"}
    total, skip = 0, 0
    with httpx.Client(base_url=BASE, transport=bench.transport, headers=headers, timeout=600) as http:
        while True:
            r = http.get("/api/alerts", params={"$top": str(PAGE), "$skip": str(skip)})
            r.raise_for_status()
            items = json.loads(r.content)["value"]
            n = len(items)
            if free:
                del r, items
            total += n
            skip += n
            if n < PAGE:
                return total


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    bench = Bench()
    try:
        secs_seed, _ = timed(lambda: bench.seed(machines=500, alerts=count))
        bench.state.defender.throttle.configure(enabled=False)  # measure overhead, not quotas
        with bench.client(rate_limit=False) as client:
            client_runs, bare_runs, lean_runs = [], [], []
            for _ in range(rounds):  # alternate to even out warm-up, caches and neighbours' load
                bare_runs.append(timed(lambda: bare(bench)))
                lean_runs.append(timed(lambda: bare(bench, free=True)))
                client_runs.append(timed(lambda: sum(1 for _ in client.alerts.list(page_size=PAGE))))
        tb, nb = min(bare_runs)
        tc, nc = min(client_runs)
        assert nb == nc == count, (nb, nc, count)
        print(f"seeded {count} alerts in {secs_seed:.1f}s")
        print(f"bare httpx + json: {tb:.2f}s for {nb} alerts")
        print(f"mdekit (typed models): {tc:.2f}s for {nc} alerts")
        print(f"overhead ratio: {tc / tb:.2f} (goal <= 1.3)")
        per_round = " ".join(f"{c / b:.2f}" for (c, _), (b, _) in zip(client_runs, bare_runs, strict=True))
        print(f"per-round ratios: {per_round}")
        tl, nl = min(lean_runs)
        assert nl == count
        print(f"stricter baseline, bare loop dropping each page before the next request: {tl:.2f}s")
        print(f"overhead ratio vs that: {tc / tl:.2f}")
    finally:
        bench.close()


if __name__ == "__main__":
    main()
