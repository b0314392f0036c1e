"""Benchmark 3: achieved request rate under an enforced limit as a share of it, zero 429s (goal >= 95%).

The emulator enforces the documented 100 calls/minute on ``GET /api/alerts/{id}``; the client's
limiter paces itself. Both run on the emulator's frozen virtual clock (the client's sleep advances
it), so ten minutes of traffic take seconds. Baseline in the same run: a client with its limiter
off, which meets 429s and waits out ``Retry-After``.
Run: ``.venv/bin/python benchmarks/bench_client_ratelimit.py [calls]``.
"""

from __future__ import annotations

import sys
from typing import Any

from _common import Bench

from mdekit.client.retry import RetryPolicy


def run(bench: Bench, calls: int, alert_id: str, **kw: Any) -> tuple[float, int]:
    """(virtual seconds, 429 answers) for *calls* alert reads."""
    bench.state.defender.throttle.clear()
    bench.control.delete("/_emulator/requests")
    clock = bench.state.clock
    with bench.client(clock=clock.time, sleep=clock.advance, **kw) as client:
        client.tokens.get()
        start = clock.time()
        for _ in range(calls):
            client.alerts.get(alert_id)
        elapsed = clock.time() - start
    log = bench.control.get("/_emulator/requests").json()["value"]
    return elapsed, sum(1 for e in log if e["status"] == 429)


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    bench = Bench()
    try:
        bench.seed(machines=5, alerts=5)
        bench.state.clock.freeze()
        with bench.client() as c:
            alert_id = next(iter(c.alerts.list(limit=1))).id
        limit_per_s = 100 / 60
        # the first 100 calls of a fresh window are free; the rate is measured over whole windows
        elapsed, throttled = run(bench, calls, alert_id)
        share = (calls - 100) / elapsed / limit_per_s if elapsed else float("inf")
        e_b, t_b = run(
            bench, calls, alert_id, rate_limit=False, retry=RetryPolicy(max_attempts=50, max_total=1e9)
        )
        share_b = (calls - 100) / e_b / limit_per_s if e_b else float("inf")
        print(f"limit: 100 calls/min on alerts.get; {calls} calls on the virtual clock")
        print(
            f"mdekit limiter: {elapsed:.0f} virtual s, {throttled} x 429, "
            f"{share:.1%} of the limit (goal >= 95%)"
        )
        print(f"baseline (no limiter, Retry-After retries): {e_b:.0f} virtual s, {t_b} x 429, {share_b:.1%}")
    finally:
        bench.close()


if __name__ == "__main__":
    main()
