"""Load: 50 concurrent clients on the HTTPS emulator (5 s in CI, 60 s with ``-m slow``), loopback only.

A mix of list, get, update and create calls from 10 apps (5 clients each) with the documented
throttling ON. Pass: every answer is a success or a deliberate 429 with ``Retry-After`` (clients
honour it, capped), no transport error, no 5xx. The p50/p99 latencies are printed (``-s``).
"""

from __future__ import annotations

import asyncio
import random
import ssl
import statistics
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from rel_helpers import new_app, token

from mdekit.emulator.server import EmulatorServer

CLIENTS, APPS = 50, 10


#: Requests every client makes at the least (the load's size does not depend on the clock).
MIN_EACH = 3


async def _client(
    n: int,
    emu: EmulatorServer,
    headers: dict[str, str],
    ids: dict[str, list[str]],
    until: float,
    out: list[tuple[float, int]],
    errors: list[str],
) -> None:
    rng = random.Random(n)
    async with httpx.AsyncClient(
        base_url=emu.url,
        verify=ssl.create_default_context(cafile=str(emu.ca_cert)),
        headers=headers,
        timeout=30,
    ) as api:
        i = 0
        # At least MIN_EACH requests per client whatever the machine's speed (a loaded CI box must
        # not turn this correctness test into a throughput test), then until the time is up.
        while i < MIN_EACH or time.monotonic() < until:
            i += 1
            method, path, body = _pick(rng, n, i, ids)
            start = time.perf_counter()
            try:
                r = await api.request(method, path, json=body)
            except httpx.HTTPError as exc:
                errors.append(f"{method} {path}: {type(exc).__name__}")
                continue
            out.append((time.perf_counter() - start, r.status_code))
            if r.status_code == 429:
                assert r.headers.get("Retry-After"), r.text
                await asyncio.sleep(
                    min(float(r.headers["Retry-After"]), 0.2)
                )  # honoured, capped for the test
            elif r.status_code not in (200, 201):
                errors.append(f"{method} {path}: {r.status_code} {r.text[:200]}")


def _pick(rng: random.Random, n: int, i: int, ids: dict[str, list[str]]) -> tuple[str, str, Any]:
    roll = rng.random()
    if roll < 0.35:
        return "GET", "/api/alerts?$top=100", None
    if roll < 0.55:
        return "GET", f"/api/alerts/{rng.choice(ids['alerts'])}", None
    if roll < 0.7:
        return "GET", "/api/machines?$top=50", None
    if roll < 0.85:
        return "PATCH", f"/api/alerts/{rng.choice(ids['alerts'])}", {"comment": f"load {n}-{i}"}
    body = {
        "indicatorValue": f"c{n}-{i}.load.example",
        "indicatorType": "DomainName",
        "action": "Alert",
        "title": "load",
        "description": "load",
    }
    return "POST", "/api/indicators", body


@pytest.mark.parametrize("seconds", [5.0, pytest.param(60.0, marks=pytest.mark.slow)])
def test_fifty_clients(emu: EmulatorServer, control: httpx.Client, seconds: float) -> None:
    apps = [new_app(control, f"Load{k}") for k in range(APPS)]
    for app in apps:
        assert control.post(
            f"/_emulator/tenants/{app['tid']}/seed", json={"machines": 20, "alerts": 200}
        ).is_success
    tokens = [token(control, app) for app in apps]
    per_tenant = []  # client n acts in tenant n % APPS, on that tenant's alert ids
    for tok in tokens:
        listed = control.get("/api/alerts", headers={"Authorization": f"Bearer {tok}"}).json()["value"]
        per_tenant.append([a["id"] for a in listed])
    results, errors = asyncio.run(_run_tenants(emu, tokens, per_tenant, seconds))
    statuses = Counter(status for _, status in results)
    latencies = sorted(t for t, _ in results)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"\nload: {CLIENTS} clients, {seconds:.0f} s, {len(results)} requests "
        f"({len(results) / seconds:.0f}/s), statuses {dict(statuses)}, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    assert not errors, errors[:5]
    assert set(statuses) <= {200, 201, 429}
    assert statuses[200] + statuses[201] >= CLIENTS * MIN_EACH - statuses[429]


async def _run_tenants(
    emu: EmulatorServer, tokens: list[str], per_tenant: list[list[str]], seconds: float
) -> Any:
    out: list[tuple[float, int]] = []
    errors: list[str] = []
    until = time.monotonic() + seconds
    jobs = []
    for n in range(CLIENTS):
        k = n % len(tokens)
        headers = {"Authorization": f"Bearer {tokens[k]}"}
        jobs.append(_client(n, emu, headers, {"alerts": per_tenant[k]}, until, out, errors))
    await asyncio.gather(*jobs)
    return out, errors
