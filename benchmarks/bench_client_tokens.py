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
        with bench.client() as client:
            alert_id = next(iter(client.alerts.list(limit=1))).id

            def one(_: int) -> None:
                client.alerts.get(alert_id)

            secs, _ = timed(lambda: list(ThreadPoolExecutor(THREADS).map(one, range(CALLS))))
            ours = client.token_requests
        baseline = CALLS  # one token per call; counted below for honesty
        secs_b, counted = timed(lambda: sum(1 for _ in range(100) if bench.token()))
        print(f"mdekit: {ours} token request(s) for {CALLS} API calls from {THREADS} threads ({secs:.2f}s)")
        print(
            f"baseline (token per call): {baseline} token requests per {CALLS} calls "
            f"(measured {counted} tokens in {secs_b:.2f}s for 100 calls)"
        )
        print(
            f"token requests per 1,000 calls: {ours * 1000 / CALLS:g} (goal 1); ratio to baseline: "
            f"{ours / baseline:.4f}"
        )
    finally:
        bench.close()


if __name__ == "__main__":
    main()
