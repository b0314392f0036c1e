"""Defender API throughput at 1, 8 and 32 concurrent clients, and the per-request token check cost.

Run: .venv/bin/python benchmarks/bench_api.py [SECONDS]

The emulator runs as users run it (``mde emulator serve``, HTTPS, 127.0.0.1) with 200 machines and
2,000 alerts, documented throttling switched off (we measure the server, not the quota). Calls:
``GET /api/alerts?$top=100`` and ``POST /api/machines/{id}/runAntiVirusScan`` (actions complete at
once, so no call meets "already pending"); baseline: ``GET /_emulator/clock`` on the same server
with the same generator (no token, no query) -- the ratio is what auth + OData + SQLite add.

Token check: ``TokenSigner.verify`` (the emulator's check: header, kid, RS256 with the cached public
key, exp/nbf) vs a bare ``jwt.decode`` with a pre-loaded key, in this process. Goal: well under 100 µs.
"""

from __future__ import annotations

import base64
import sys
import time
from typing import Any

import httpx
import jwt
from _load import api_tenant, machine_line, run_load, serve_emulator

from mdekit.emulator.db import Database
from mdekit.emulator.entra.keys import TokenSigner


def _claims(now: int, i: int) -> dict[str, Any]:
    return {
        "aud": "https://api.securitycenter.microsoft.com",
        "iss": "https://sts.windows.net/x/",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "roles": ["Alert.Read.All"],
        "tid": "x",
        "uti": str(i),
    }


def _verify_cost(rounds: int = 5000) -> tuple[float, float, float, float]:
    """µs per check: (TokenSigner.verify first sight, repeated token, bare jwt.decode, raw RSA)."""
    signer = TokenSigner(Database(None))
    now = int(time.time())
    # Distinct tokens: every verify below is a first sight (full parse + RS256 with the cached key).
    tokens = [signer.mint(_claims(now, i)) for i in range(rounds)]
    token = tokens[0]
    key = signer.public_key
    t0 = time.perf_counter()
    for tok in tokens:
        signer.verify(tok, now=now)
    first = (time.perf_counter() - t0) / rounds * 1e6
    t0 = time.perf_counter()
    for _ in range(rounds):  # the same token again, as a client reuses it for its hour
        signer.verify(token, now=now)
    repeat = (time.perf_counter() - t0) / rounds * 1e6
    t0 = time.perf_counter()
    for tok in tokens:
        jwt.decode(tok, key, algorithms=["RS256"], options={"verify_aud": False})
    bare = (time.perf_counter() - t0) / rounds * 1e6
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signed, sig = token.rsplit(".", 1)
    raw_sig = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    t0 = time.perf_counter()
    for _ in range(rounds):
        key.verify(raw_sig, signed.encode(), padding.PKCS1v15(), hashes.SHA256())
    floor = (time.perf_counter() - t0) / rounds * 1e6
    return first, repeat, bare, floor


def main() -> None:
    """Measure and print."""
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
    print(machine_line())
    first, repeat, bare, floor = _verify_cost()
    verdict = "OK" if first < 100 else "OVER GOAL"
    print(
        f"token check: TokenSigner.verify first sight {first:6.1f} µs (goal < 100 µs: {verdict}), "
        f"same token again {repeat:5.1f} µs; bare jwt.decode {bare:6.1f} µs, "
        f"ratio {first / bare:.2f}x; raw RSA-2048 verify {floor:6.1f} µs"
    )
    emu = serve_emulator()
    try:
        with emu.control() as control:
            headers, machines = api_tenant(control)
        _run_all(emu, headers, machines, seconds)
    finally:
        emu.stop()


def _run_all(emu: Any, headers: dict[str, str], machines: list[str], seconds: float) -> None:
    async def clock(client: httpx.AsyncClient, _i: int) -> httpx.Response:
        return await client.get("/_emulator/clock")

    async def alerts(client: httpx.AsyncClient, _i: int) -> httpx.Response:
        return await client.get("/api/alerts", params={"$top": "100"}, headers=headers)

    async def scan(client: httpx.AsyncClient, i: int) -> httpx.Response:
        body = {"Comment": "bench", "ScanType": "Quick"}
        return await client.post(
            f"/api/machines/{machines[i % len(machines)]}/runAntiVirusScan", json=body, headers=headers
        )

    print(f"{seconds:.0f} s per run after a 1 s warm-up; Python asyncio + httpx generator, HTTPS keep-alive")
    for concurrency in (1, 8, 32):
        base = run_load(emu.url, emu.ca, clock, concurrency=concurrency, seconds=seconds)
        print(base.line(f"[{concurrency:>2}] baseline GET /_emulator/clock"))
        for label, send, ok in (
            ("GET /api/alerts?$top=100", alerts, {200}),
            ("POST .../runAntiVirusScan", scan, {201}),
        ):
            r = run_load(emu.url, emu.ca, send, concurrency=concurrency, seconds=seconds, ok=frozenset(ok))
            print(r.line(f"[{concurrency:>2}] {label}") + f"  ratio to baseline {r.rate / base.rate:.2f}x")


if __name__ == "__main__":
    main()
