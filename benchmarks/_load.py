"""Shared pieces of the issue-8 benchmarks: a served emulator and a closed-loop HTTP load generator.

The emulator runs exactly as users run it: ``mde emulator serve`` in its own process, over HTTPS.
The load generator is Python asyncio + httpx: N workers each send a request, wait for the answer,
and send the next, for T seconds (after a warm-up); it is the same generator for every server.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

MDE_BIN = shutil.which("mde", path=str(Path(sys.executable).parent)) or "mde"
MDE_URI = "https://api.securitycenter.microsoft.com"


@dataclass
class Served:
    """A ``mde emulator serve`` process."""

    proc: subprocess.Popen[bytes]
    url: str
    ca: str
    home: Path

    def control(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=ssl_context(self.ca), timeout=600)

    def peak_rss_mb(self) -> float:
        """The server's peak resident memory (Linux ``VmHWM``), in MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def ssl_context(ca: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca)


def serve_emulator(home: Path | None = None, timeout: float = 60.0) -> Served:
    """Start ``mde emulator serve`` on a random loopback port; return once it answers."""
    home = home or Path(tempfile.mkdtemp(prefix="mdekit-bench-"))
    ready = home / "ready.json"
    ready.unlink(missing_ok=True)  # a kept state directory (``--home``) holds the last run's
    argv = [
        MDE_BIN,
        "emulator",
        "serve",
        "--port",
        "0",
        "--state-dir",
        str(home),
        "--data",
        str(home / "emulator.db"),
        "--ready-file",
        str(ready),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env={**os.environ, "MDEKIT_HOME": str(home)})
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the emulator did not start")
        time.sleep(0.05)
    info = json.loads(ready.read_text())
    return Served(proc, info["url"], info["ca_cert"], home)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_app(control: httpx.Client, roles: list[str], certificate_pem: str | None = None) -> dict[str, Any]:
    """A tenant with a consented app -> ``{"tid", "appId", "secret"}``."""
    tid = control.post("/_emulator/tenants", json={"displayName": "Bench"}).json()["tenantId"]
    body = {
        "displayName": "bench",
        "permissions": roles,
        "grantConsent": True,
        "secret": True,
        "certificatePem": certificate_pem,
    }
    r = control.post(f"/_emulator/tenants/{tid}/applications", json=body)
    if r.status_code != 201:
        raise SystemExit(f"cannot register the app: {r.text}")
    return {"tid": tid, "appId": r.json()["appId"], "secret": r.json()["secret"]["value"]}


def seeded_app(control: httpx.Client, machines: int = 200, alerts: int = 2000) -> dict[str, Any]:
    """A tenant seeded with *machines* and *alerts*, an app holding the MDE roles that
    ``bench_api.py`` and ``bench_list.py`` grant (all but SecurityBaselinesAssessment.Read.All),
    documented throttling off."""
    from mdekit.catalog import MDE

    app = new_app(control, [r for r in MDE.roles if r != "SecurityBaselinesAssessment.Read.All"])
    control.post(f"/_emulator/tenants/{app['tid']}/seed", json={"machines": machines, "alerts": alerts})
    control.post("/_emulator/throttling", json={"enabled": False})
    return app


def get_token(control: httpx.Client, app: dict[str, Any]) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": app["appId"],
        "client_secret": app["secret"],
        "scope": f"{MDE_URI}/.default",
    }
    return str(control.post(f"/{app['tid']}/oauth2/v2.0/token", data=form).json()["access_token"])


def api_tenant(control: httpx.Client) -> tuple[dict[str, str], list[str]]:
    """:func:`seeded_app` (200 machines, 2,000 alerts) with machine actions finishing at once: the
    token header of its app and its machine ids (``bench_api.py``, ``bench_list.py``)."""
    app = seeded_app(control)
    control.post("/_emulator/actions", json={"pendingSeconds": 0, "runSeconds": 0})
    headers = {"Authorization": f"Bearer {get_token(control, app)}"}
    machines = [m["id"] for m in control.get("/api/machines", headers=headers).json()["value"]]
    return headers, machines


@dataclass
class Result:
    """Latencies (seconds) of the successful requests, the failures, and the measured time."""

    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    seconds: float = 0.0
    wrk_rate: float | None = None  # when measured by wrk: its own figures
    wrk_pcts: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        if self.wrk_rate is not None:
            return self.wrk_rate
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        """Percentile *p* (0-100) in milliseconds."""
        if f"{p:.0f}%" in self.wrk_pcts:
            return self.wrk_pcts[f"{p:.0f}%"]
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000

    def line(self, label: str) -> str:
        return (
            f"{label:<34} {self.rate:9.1f}/s  p50 {self.pct(50):7.2f} ms"
            f"  p99 {self.pct(99):7.2f} ms  failures {self.failures}"
        )


Send = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def _worker(
    client: httpx.AsyncClient, send: Send, ok: set[int], start: float, end: float, result: Result, n: int
) -> None:
    i = 0
    while (now := time.perf_counter()) < end:
        i += 1
        try:
            response = await send(client, n * 1_000_000 + i)
            good = response.status_code in ok
        except httpx.HTTPError:
            good = False
        if now >= start:  # requests started during the warm-up are not counted
            if good:
                result.latencies.append(time.perf_counter() - now)
            else:
                result.failures += 1


async def _load(
    base_url: str, ca: str, send: Send, concurrency: int, seconds: float, warmup: float, ok: set[int]
) -> Result:
    result = Result(seconds=seconds)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, verify=ssl_context(ca), limits=limits, timeout=60
    ) as client:
        begin = time.perf_counter()
        start, end = begin + warmup, begin + warmup + seconds
        await asyncio.gather(*(_worker(client, send, ok, start, end, result, n) for n in range(concurrency)))
    return result


def run_load(
    base_url: str,
    ca: str,
    send: Send,
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 1.0,
    ok: frozenset[int] = frozenset({200}),
) -> Result:
    """Closed-loop load: *concurrency* workers calling ``send(client, i)`` for *seconds* (after *warmup*)."""
    return asyncio.run(_load(base_url, ca, send, concurrency, seconds, warmup, set(ok)))


def machine_line() -> str:
    """``nproc``, CPU model and Python version, for the record."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"machine: {os.cpu_count()} CPUs ({model}), Python {sys.version.split()[0]}"
