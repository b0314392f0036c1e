"""The alert list while advanced hunting runs (issue 19: no regression under concurrent hunting).

Run: .venv/bin/python benchmarks/bench_list_hunting.py [SECONDS] [CONNECTIONS,...] [--rounds=N]

``mde emulator serve`` (HTTPS, 127.0.0.1), 200 machines / 2,000 alerts, throttling off; the
hunting tables are built by one query before measuring (the first query of a tenant builds them).
Two conditions, alternating for N rounds (default 3):

* **baseline**: ``GET /api/alerts?$top=100`` on CONNECTIONS keep-alive connections (default 1,
  then 16: with one, a request's time is the server's time, so a stall shows plainly; with 16,
  requests also queue behind each other), nothing else running;
* **with hunting**: the same list load while one client runs advanced hunting queries back to
  back (``POST /api/advancedqueries/run``, a summarize over DeviceProcessEvents, ~0.1-1 s each).

Queries run on the store's worker threads, off the event loop, so the list must keep answering:
the figures are the list's requests per second (ratio to the baseline of the same run), its p50,
p99 and slowest request (a stalled loop shows as a slowest request as long as a query), and the
queries completed meanwhile. The two share the machine's 2 cores, so some slowdown is CPU sharing,
not stalling; the server's CPU time per list request is not comparable across the two conditions
(the hunting work is in the same process) and is not printed.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from typing import Any

import httpx
from _load import Result, get_token, machine_line, run_load, seeded_app, serve_emulator, ssl_context

QUERY = "DeviceProcessEvents | summarize n = count() by DeviceName, FileName | order by n desc | take 100"


def main() -> None:
    """Measure and print."""
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    seconds = float(args[0]) if args else 3.0
    levels = [int(c) for c in args[1].split(",")] if len(args) > 1 else [1, 16]
    rounds = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--rounds=")), 3)
    print(machine_line() + ", load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    emu = serve_emulator()
    try:
        with emu.control() as control:
            app = seeded_app(control)
            token = get_token(control, app)
            headers = {"Authorization": f"Bearer {token}"}
            t0 = time.perf_counter()
            first = control.post("/api/advancedqueries/run", json={"Query": QUERY}, headers=headers)
            if first.status_code != 200:
                raise SystemExit(f"hunting query refused: HTTP {first.status_code} {first.text[:300]}")
            print(f"first hunting query (builds the tables): {time.perf_counter() - t0:.2f} s")
        for connections in levels:
            _run(emu, headers, seconds, connections, rounds)
    finally:
        emu.stop()


class Hunter(threading.Thread):
    """Runs the hunting query back to back until stopped; keeps each query's wall time."""

    def __init__(self, url: str, ca: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.url, self.ca, self.headers = url, ca, headers
        self.stop = threading.Event()
        self.times: list[float] = []
        self.failures = 0

    def run(self) -> None:
        with httpx.Client(base_url=self.url, verify=ssl_context(self.ca), timeout=300) as client:
            while not self.stop.is_set():
                t0 = time.perf_counter()
                r = client.post("/api/advancedqueries/run", json={"Query": QUERY}, headers=self.headers)
                if r.status_code == 200:
                    self.times.append(time.perf_counter() - t0)
                else:
                    self.failures += 1


def _slowest(result: Result) -> float:
    return max(result.latencies) * 1000 if result.latencies else float("nan")


def _run(emu: Any, headers: dict[str, str], seconds: float, connections: int, rounds: int) -> None:
    async def alerts(client: httpx.AsyncClient, _i: int) -> httpx.Response:
        return await client.get("/api/alerts?$top=100", headers=headers)

    print(
        f"GET /api/alerts?$top=100, {connections} connections, {seconds:.0f} s per run after a 1 s warm-up, "
        f"{rounds} alternating rounds; Python asyncio + httpx generator, HTTPS keep-alive"
    )
    runs: dict[str, list[Result]] = {"baseline": [], "with hunting": []}
    query_times: list[float] = []
    hunting_failures = 0
    for n in range(rounds):
        for label in ("baseline", "with hunting") if n % 2 == 0 else ("with hunting", "baseline"):
            hunter = None
            if label == "with hunting":
                hunter = Hunter(emu.url, emu.ca, headers)
                hunter.start()
            result = run_load(emu.url, emu.ca, alerts, concurrency=connections, seconds=seconds)
            extra = ""
            if hunter is not None:
                hunter.stop.set()
                hunter.join(timeout=300)
                query_times += hunter.times
                hunting_failures += hunter.failures
                done = ", ".join(f"{t:.2f}" for t in hunter.times)
                extra = f"  queries meanwhile: {len(hunter.times)} ({done} s)"
            runs[label].append(result)
            print(
                f"  round {n + 1}: "
                + result.line(f"list, {label}")
                + f"  slowest {_slowest(result):7.1f} ms"
                + extra,
                flush=True,
            )
    for label, results in runs.items():
        rate = statistics.median(r.rate for r in results)
        p50 = statistics.median(r.pct(50) for r in results)
        p99 = statistics.median(r.pct(99) for r in results)
        slowest = max(_slowest(r) for r in results)
        failures = sum(r.failures for r in results)
        print(
            f"{'list, ' + label:<26} {rate:8.1f}/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
            f"slowest {slowest:7.1f} ms  failures {failures}  (median of {len(results)})"
        )
    if query_times:
        median = statistics.median(query_times)
        print(
            f"hunting queries during the list load: {len(query_times)}, median {median:.2f} s, "
            f"slowest {max(query_times):.2f} s, failures {hunting_failures}"
        )
    per_round = [h.rate / b.rate for b, h in zip(runs["baseline"], runs["with hunting"], strict=True)]
    ratio = statistics.median(r.rate for r in runs["with hunting"]) / statistics.median(
        r.rate for r in runs["baseline"]
    )
    p99_ratio = statistics.median(r.pct(99) for r in runs["with hunting"]) / statistics.median(
        r.pct(99) for r in runs["baseline"]
    )
    print(
        f"ratio with hunting / baseline: throughput {ratio:.2f}x (per round: "
        f"{', '.join(f'{x:.2f}' for x in per_round)}), p99 {p99_ratio:.2f}x"
    )


if __name__ == "__main__":
    main()
