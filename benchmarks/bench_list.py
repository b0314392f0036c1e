"""The Defender list hot path (issue 19): ``$top=1`` and ``$top=100`` pages against the trivial route.

Run: .venv/bin/python benchmarks/bench_list.py [SECONDS] [CONNECTIONS] [--wrk [--before=DIR]]

``mde emulator serve`` (HTTPS, 127.0.0.1), 200 machines / 2,000 alerts, 200 indicators and
200 finished machine actions (the indicator and action list rows), throttling off. Each figure
is the median of 3 rounds; the rounds alternate the routes so a busy neighbour hits them alike.
Baseline: ``GET /_emulator/clock`` on the same server with the same generator in the same run
(no token, no query, no SQL). Goals (issue 19): ``$top=1`` >= 0.7x, ``$top=100`` >= 0.5x. A write
(``POST .../runAntiVirusScan``, actions completing at once) is measured too: no regression for writes.

Two figures per route: requests per second (what a user sees; on a shared 2-core machine the Python
generator competes with the server, so it swings with the neighbours' load), and the server's CPU
time per request (``/proc/<pid>/stat``, steadier under load); its ratio is the clock's CPU per
request over the route's, the throughput ratio a CPU-bound server would reach.

``--wrk``: the load comes from ``wrk`` (Debian package; C, 2 threads, keep-alive), as issue 19
measured it, instead of the Python generator, which saturates near 600 requests/s on a 2-core
machine and so flattens the ratios of the fast routes towards 1.

``--before=DIR`` (with ``--wrk``): a second emulator served from another source tree (``git archive
<commit> src | tar -x -C DIR``; DIR holds ``src``, or is it) with the same data, measured in the
same rounds (each route on both servers back to back, the order alternating), so a before/after
comparison shares the machine's load; printed: both tables, then after/before per route.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _load import api_tenant, machine_line, run_load, serve_emulator

ROUNDS = 3


def main() -> None:
    """Measure and print."""
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    seconds = float(args[0]) if args else 3.0
    connections = int(args[1]) if len(args) > 1 else 16
    use_wrk = "--wrk" in sys.argv
    before_src = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--before=")), None)
    if use_wrk and shutil.which("wrk") is None:
        raise SystemExit("--wrk: wrk is not installed (Debian: apt-get install wrk)")
    if before_src is not None and not use_wrk:
        raise SystemExit("--before needs --wrk")
    print(machine_line() + ", load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    served = [serve_emulator()]
    try:
        if before_src is not None:
            served.append(_serve_from(before_src))
        targets = [
            Target(name, emu, *_prepare(emu))
            for name, emu in zip(("after", "before")[: len(served)], served, strict=True)
        ]
        if use_wrk:
            _run_wrk(targets, seconds, connections)
        else:
            _run(targets[0].emu, targets[0].headers, targets[0].machines, seconds, connections)
        print("load average at the end " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    finally:
        for emu in served:
            emu.stop()


@dataclass
class Target:
    """A served emulator with the benchmark's data: its name, process, token header and machines."""

    name: str
    emu: Any
    headers: dict[str, str]
    machines: list[str]


def _serve_from(src: str) -> Any:
    """An emulator served from another source tree (``--before=DIR``) in its own state directory."""
    path = Path(src).resolve()
    path = path / "src" if (path / "src" / "mdekit").is_dir() else path
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(path), saved]))
    try:
        return serve_emulator(Path(tempfile.mkdtemp(prefix="mdekit-bench-before-")))
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved


def _prepare(emu: Any) -> tuple[dict[str, str], list[str]]:
    """Seed *emu* (a tenant, 200 machines, 2,000 alerts, the indicators and actions); its token
    header and machine ids."""
    with emu.control() as control:
        headers, machines = api_tenant(control)
        _more_lists(control, headers, machines)
    return headers, machines


def _more_lists(control: httpx.Client, headers: dict[str, str], machines: list[str]) -> None:
    """200 indicators (one import) and 200 finished machine actions (a scan per machine), so the
    indicator and action lists have full ``$top=100`` pages."""
    iocs = [
        {
            "indicatorValue": f"{i:040x}",
            "indicatorType": "FileSha1",
            "action": "Alert",
            "title": f"bench {i}",
            "description": "bench_list",
        }
        for i in range(200)
    ]
    r = control.post("/api/indicators/import", json={"Indicators": iocs}, headers=headers)
    if r.status_code != 200:
        raise SystemExit(f"indicator import: {r.status_code} {r.text[:300]}")
    for machine in machines:
        body = {"Comment": "bench", "ScanType": "Quick"}
        r = control.post(f"/api/machines/{machine}/runAntiVirusScan", json=body, headers=headers)
        if r.status_code != 201:
            raise SystemExit(f"scan: {r.status_code} {r.text[:300]}")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process *pid* so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _get(path: str, headers: dict[str, str] | None = None) -> Any:
    async def send(client: httpx.AsyncClient, _i: int) -> httpx.Response:
        return await client.get(path, headers=headers)

    return send


def _scan(machines: list[str], headers: dict[str, str]) -> Any:
    async def send(client: httpx.AsyncClient, i: int) -> httpx.Response:
        body = {"Comment": "bench", "ScanType": "Quick"}
        return await client.post(
            f"/api/machines/{machines[i % len(machines)]}/runAntiVirusScan", json=body, headers=headers
        )

    return send


def _run(emu: Any, headers: dict[str, str], machines: list[str], seconds: float, connections: int) -> None:
    routes = [
        ("GET /_emulator/clock (baseline)", _get("/_emulator/clock")),
        ("GET /api/alerts?$top=1", _get("/api/alerts?$top=1", headers)),
        ("GET /api/alerts?$top=100", _get("/api/alerts?$top=100", headers)),
        ("GET /api/machines?$top=100", _get("/api/machines?$top=100", headers)),
        ("GET /api/indicators?$top=100", _get("/api/indicators?$top=100", headers)),
        ("GET /api/machineactions?$top=100", _get("/api/machineactions?$top=100", headers)),
        # a write (issue 19: no regression for writes); actions complete at once, so no 400 for a
        # scan already pending
        ("POST .../runAntiVirusScan", _scan(machines, headers)),
    ]
    ok = {label: frozenset({201} if label.startswith("POST") else {200}) for label, _ in routes}
    print(
        f"{connections} connections, {seconds:.0f} s per round after a 0.5 s warm-up, median of {ROUNDS} "
        "alternating rounds; Python asyncio + httpx generator, HTTPS keep-alive"
    )
    rates: dict[str, list[float]] = {label: [] for label, _ in routes}
    cpu: dict[str, list[float]] = {label: [] for label, _ in routes}
    for _ in range(ROUNDS):
        for label, send in routes:
            run_load(emu.url, emu.ca, send, concurrency=connections, seconds=0.5, warmup=0, ok=ok[label])
            before = _cpu_seconds(emu.proc.pid)
            result = run_load(
                emu.url, emu.ca, send, concurrency=connections, seconds=seconds, warmup=0, ok=ok[label]
            )
            spent = _cpu_seconds(emu.proc.pid) - before
            if result.failures:
                raise SystemExit(f"{label}: {result.failures} failed requests")
            rates[label].append(result.rate)
            cpu[label].append(spent / len(result.latencies) * 1e6)
    _print(routes[0][0], [label for label, _ in routes], rates, cpu)


def _wrk(
    url: str, headers: dict[str, str], seconds: float, connections: int, body: str | None
) -> tuple[float, int]:
    """One wrk run (GET, or POST of JSON *body*): requests per second and the answered count;
    exits if any answer was not 2xx."""
    script = Path(tempfile.mkdtemp()) / "load.lua"
    lines = [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    if body is not None:
        lines += ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"']
        lines.append("wrk.body = " + '"' + body.replace('"', '\\"') + '"')
    script.write_text("\n".join(lines) + "\n")
    argv = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-s", str(script)]
    out = subprocess.run(
        [*argv, "-d", f"{seconds:.0f}s", url], capture_output=True, text=True, check=True
    ).stdout
    if bad := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise SystemExit(f"{url}: {bad.group(1)} answers were not 2xx")
    total = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if total is None or rate is None:
        raise SystemExit(f"cannot read wrk's output: {out[-300:]}")
    return float(rate.group(1)), int(total.group(1))


_WRK_ROUTES = [
    ("GET /_emulator/clock (baseline)", "/_emulator/clock"),
    ("GET /api/alerts?$top=1", "/api/alerts?$top=1"),
    ("GET /api/alerts?$top=100", "/api/alerts?$top=100"),
    ("GET /api/machines?$top=100", "/api/machines?$top=100"),
    ("GET /api/indicators?$top=100", "/api/indicators?$top=100"),
    ("GET /api/machineactions?$top=100", "/api/machineactions?$top=100"),
    ("POST .../runAntiVirusScan", "/api/machines/{machine}/runAntiVirusScan"),
]
_SCAN = '{"Comment": "bench", "ScanType": "Quick"}'


def _wrk_once(target: Target, label: str, path: str, seconds: float, connections: int) -> tuple[float, float]:
    """One route on one server after a 1 s warm-up: requests per second, server CPU µs per request."""
    post = label.startswith("POST")
    url = target.emu.url + path.format(machine=target.machines[0])
    headers = {} if path == "/_emulator/clock" else target.headers
    _wrk(url, headers, 1, connections, _SCAN if post else None)  # warm-up
    before = _cpu_seconds(target.emu.proc.pid)
    rate, count = _wrk(url, headers, seconds, connections, _SCAN if post else None)
    return rate, (_cpu_seconds(target.emu.proc.pid) - before) / max(count, 1) * 1e6


def _run_wrk(targets: list[Target], seconds: float, connections: int) -> None:
    print(
        f"wrk: 2 threads, {connections} connections, {seconds:.0f} s per round after a 1 s warm-up, "
        f"median of {ROUNDS} rounds alternating the routes' order; HTTPS keep-alive"
    )
    labels = [label for label, _ in _WRK_ROUTES]
    rates: dict[str, dict[str, list[float]]] = {t.name: {label: [] for label in labels} for t in targets}
    cpu: dict[str, dict[str, list[float]]] = {t.name: {label: [] for label in labels} for t in targets}
    for n in range(ROUNDS):
        for label, path in _WRK_ROUTES if n % 2 == 0 else _WRK_ROUTES[::-1]:
            for target in targets if n % 2 == 0 else targets[::-1]:
                rate, us = _wrk_once(target, label, path, seconds, connections)
                rates[target.name][label].append(rate)
                cpu[target.name][label].append(us)
    for target in targets:
        if len(targets) > 1:
            print(f"-- {target.name}")
        _print(labels[0], labels, rates[target.name], cpu[target.name])
    if len(targets) > 1:
        print("-- after/before (medians): requests per second, server CPU per request")
        for label in labels:
            after, before = rates["after"][label], rates["before"][label]
            a_us, b_us = cpu["after"][label], cpu["before"][label]
            print(
                f"{label:<34} {statistics.median(after) / statistics.median(before):5.2f}x req/s, "
                f"CPU {statistics.median(a_us) / statistics.median(b_us):5.2f}x"
            )


def _print(
    base_label: str, labels: list[str], rates: dict[str, list[float]], cpu: dict[str, list[float]]
) -> None:
    base, base_cpu = statistics.median(rates[base_label]), statistics.median(cpu[base_label])
    for label in labels:
        rate, us = statistics.median(rates[label]), statistics.median(cpu[label])
        spread = ", ".join(f"{r:.0f}" for r in rates[label])
        print(
            f"{label:<34} {rate:7.1f}/s (rounds {spread}) ratio {rate / base:.2f}x;"
            f"  server CPU {us:6.0f} µs/request, ratio {base_cpu / us:.2f}x"
        )


if __name__ == "__main__":
    main()
