"""Benchmark 1: token requests per 1,000 API calls (goal: 1).

1,000 ``alerts.get`` calls from 8 threads sharing one client, vs the common script pattern of
fetching a token before every call (the baseline, measured in the same run by counting its
requests to the token endpoint). Run: ``.venv/bin/python benchmarks/bench_client_tokens.py``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from _common import Bench, timed

CALLS, THREADS = 1000, 8


def main() -> None:
    bench = Bench()
    try:
        bench.seed(machines=20, alerts=50)
        bench.state.defender.throttle.configure(enabled=False)  # this benchmark counts tokens, not quotas
        with bench.client(rate_limit=False) as client:
            alert_id = next(iter(client.alerts.list(limit=1))).id

            def one(_: int) -> None:
                client.alerts.get(alert_id)

            with ThreadPoolExecutor(THREADS) as pool:
                secs, _ = timed(lambda: list(pool.map(one, range(CALLS))))
            ours = client.token_requests
        # the same across a token expiry: the client reads the emulator's clock, moved 2 h mid-run
        with bench.client(rate_limit=False, clock=bench.state.clock.time) as client2:
            for i in range(CALLS):
                if i == CALLS // 2:
                    bench.state.clock.advance(2 * 3600)
                client2.alerts.get(alert_id)
            across = client2.token_requests
        baseline = CALLS  # one token per call; counted below for honesty
        secs_b, counted = timed(lambda: sum(1 for _ in range(100) if bench.token()))
        print(f"mdekit: {ours} token request(s) for {CALLS} API calls from {THREADS} threads ({secs:.2f}s)")
        print(
            f"baseline (token per call): {baseline} token requests per {CALLS} calls "
            f"(measured {counted} tokens in {secs_b:.2f}s for 100 calls)"
        )
        print(f"across a token expiry (virtual clock +2 h at call {CALLS // 2}): {across} token requests")
        print(
            f"token requests per 1,000 calls: {ours * 1000 / CALLS:g} (goal 1); ratio to baseline: "
            f"{ours / baseline:.4f}"
        )
    finally:
        bench.close()


if __name__ == "__main__":
    main()
