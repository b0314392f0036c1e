"""Large data: seed 1,000,000 alerts, list them all through ``mdekit.client.Defender`` in constant memory.

Run: .venv/bin/python benchmarks/bench_large.py [ALERTS] [--home DIR] [--modes client,bare,...] [--no-deep]

``--home DIR`` keeps the emulator's state (database, CA, the benchmark's app) in *DIR*: a later run
with the same *DIR* and ALERTS serves that database again instead of seeding (the seed line then says
"reused"). ``--modes`` picks the listings (``client``, ``client-1000``, ``bare``; default all three);
``--no-deep`` skips the ``$skip`` pages; ``--before DIR`` lists once more with the client of the
source tree *DIR* (``git archive <commit> src | tar -x -C DIR``), same server, same run.

The emulator runs as users run it (``mde emulator serve``, HTTPS); the seed goes through the control
plane. Each listing runs in a fresh subprocess that reports its own peak RSS
(``resource.getrusage``): the client (``for alert in client.alerts.list()``: typed models, paging,
token, retries; default pages, and page_size=1000 for the first 100,000) and, as the baseline,
bare httpx following ``@odata.nextLink`` with dicts. Both keep
only a 64-bit hash per id (8 MB for 1M) to prove nothing was lost or seen twice. Goal: < 200 MB for
the listing (peak read when it ends; the uniqueness check after it, a set of all ids, is reported apart).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _load import get_token, machine_line, new_app, serve_emulator

# The page_size=1000 run stops after this many alerts: deep $skip pages cost the server more and
# more (10x the pages would take most of an hour at 1M); its peak RSS is flat well before that.
SMALL_LIMIT = 100_000

CHILD = r"""
import array, hashlib, json, resource, sys, time
mode, url, ca, tid, app_id, secret, limit = sys.argv[1:8]
seen = array.array("Q")
t0 = time.perf_counter()
if mode.startswith("client"):
    from mdekit.client import Defender
    from mdekit.client.retry import RetryPolicy
    with Defender.from_secret(tid, app_id, secret, base_url=url, authority=url, verify=ca, timeout=600,
                              rate_limit=False) as client:
        small = mode == "client-1000"
        pager = client.alerts.list(page_size=1000 if small else None, limit=int(limit) if small else None)
        for alert in pager:
            seen.append(int.from_bytes(hashlib.blake2b(alert.id.encode(), digest_size=8).digest(), "big"))
else:
    import httpx
    form = {"grant_type": "client_credentials", "client_id": app_id, "client_secret": secret,
            "scope": "https://api.securitycenter.microsoft.com/.default"}
    with httpx.Client(verify=ca, timeout=600) as http:
        token = http.post(f"{url}/{tid}/oauth2/v2.0/token", data=form).json()["access_token"]
        next_url = f"{url}/api/alerts"
        page_ms = []
        while next_url:
            t_page = time.perf_counter()
            page = http.get(next_url, headers={"Authorization": f"Bearer {token}"}).json()
            page_ms.append((time.perf_counter() - t_page) * 1000)
            for alert in page["value"]:
                h = hashlib.blake2b(alert["id"].encode(), digest_size=8).digest()
                seen.append(int.from_bytes(h, "big"))
            next_url = page.get("@odata.nextLink")
seconds = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu_s = usage.ru_utime + usage.ru_stime
# the listing's own peak, read before the uniqueness check: set(seen) alone needs ~60 MB per million
listing_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
count = len(seen)
unique = len(set(seen))
pages = sorted(page_ms) if mode == "bare" else [0.0]
print(json.dumps({"count": count, "unique": unique, "seconds": seconds, "cpu_s": cpu_s,
                  "peak_rss_mb": listing_peak,
                  "check_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "page_ms": [pages[0], pages[len(pages) // 2], pages[-1], page_ms[-2] if mode == "bare"
                              and len(page_ms) > 1 else 0.0]}))
"""


def _list(mode: str, args: list[str], before: Path | None = None) -> dict[str, float]:
    """One listing in a fresh subprocess; ``client-before`` imports mdekit from *before* (a source tree)."""
    env = {**os.environ, "PYTHONPATH": str(before)} if mode == "client-before" and before else None
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, *args, str(SMALL_LIMIT)], capture_output=True, text=True, env=env
    )
    if out.returncode != 0:
        raise SystemExit(f"{mode} listing failed: {out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _deep_pages(emu: Any, app: dict[str, str], total: int) -> None:
    """A 10,000-alert page by ``$skip`` alone (an OFFSET), first and deepest: request time and the
    server's CPU time for it."""
    with emu.control() as control:
        headers = {"Authorization": f"Bearer {get_token(control, app)}"}
        for skip in (0, max(0, total - 10_000)):
            best = (float("inf"), 0.0)
            for _ in range(3):
                cpu = _cpu_seconds(emu.proc.pid)
                t0 = time.perf_counter()
                r = control.get(f"/api/alerts?$skip={skip}", headers=headers, timeout=600)
                wall = time.perf_counter() - t0
                if r.status_code != 200:
                    raise SystemExit(f"$skip={skip}: {r.status_code} {r.text[:300]}")
                best = min(best, (wall, _cpu_seconds(emu.proc.pid) - cpu))
            print(
                f"GET /api/alerts?$skip={skip:,} (10,000 alerts, $skip only): {best[0] * 1000:.0f} ms, "
                f"server CPU {best[1] * 1000:.0f} ms (best of 3)"
            )


def _cpu_seconds(pid: int, *, children: bool = False) -> float:
    """CPU seconds of process *pid* (user + system), with its ended children's if asked."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("alerts", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--home", type=Path, help="emulator state directory, kept (reused when seeded)")
    parser.add_argument("--modes", default="client,client-1000,bare", help="listings to run")
    parser.add_argument("--no-deep", action="store_true", help="skip the $skip pages")
    parser.add_argument(
        "--before", type=Path, help="a source tree (DIR/src) whose client lists too, in the same run"
    )
    return parser.parse_args()


def _seeded(emu: Any, total: int) -> dict[str, str]:
    """The benchmark's app on a tenant seeded with *total* alerts: saved in the state directory
    (``bench-app.json``) after seeding, and read back from there by a later run."""
    saved = emu.home / "bench-app.json"
    if saved.exists() and json.loads(saved.read_text()).get("alerts") == total:
        app: dict[str, str] = json.loads(saved.read_text())["app"]
        print(f"seed {total:,} alerts: reused {emu.home} ({_db_mb(emu):,.0f} MB)")
        return app
    with emu.control() as control:
        app = new_app(control, ["Alert.Read.All"])
        t0, cpu0 = time.perf_counter(), _cpu_seconds(emu.proc.pid, children=True)
        seeded = control.post(
            f"/_emulator/tenants/{app['tid']}/seed", json={"machines": 1000, "alerts": total}
        )
        if seeded.status_code != 200:
            raise SystemExit(f"seed failed: {seeded.text}")
        seed_s = time.perf_counter() - t0
        seed_cpu = _cpu_seconds(emu.proc.pid, children=True) - cpu0
    print(
        f"seed {total:,} alerts (+1,000 machines): {seed_s:7.1f} s ({total / seed_s:,.0f} alerts/s), "
        f"database {_db_mb(emu):,.0f} MB; server CPU (with its generator process) {seed_cpu:.1f} s"
    )
    saved.write_text(json.dumps({"alerts": total, "app": app}))
    return app


def _db_mb(emu: Any) -> float:
    return Path(emu.home / "emulator.db").stat().st_size / 2**20


def main() -> None:
    """Seed (or reuse), list (client, client page_size=1000, bare httpx), print figures and ratios."""
    opts = _arguments()
    total = opts.alerts
    print(machine_line())
    if opts.home is not None:
        opts.home.mkdir(parents=True, exist_ok=True)
    emu = serve_emulator(opts.home)
    try:
        app = _seeded(emu, total)
        with emu.control() as control:
            control.post("/_emulator/throttling", json={"enabled": False})
        args = [emu.url, emu.ca, app["tid"], app["appId"], app["secret"]]
        labels = {
            "client": "Defender (default pages)",
            "client-1000": "Defender (page_size=1000)",
            "bare": "bare httpx + dicts (baseline)",
        }
        labels = {mode: label for mode, label in labels.items() if mode in opts.modes.split(",")}
        if opts.before is not None:
            labels["client-before"] = "Defender before (--before)"
        results = {}
        for mode in labels:
            server_cpu = _cpu_seconds(emu.proc.pid)
            results[mode] = _list(mode, args, opts.before / "src" if opts.before else None)
            results[mode]["server_cpu_s"] = _cpu_seconds(emu.proc.pid) - server_cpu
        for mode, label in labels.items():
            r = results[mode]
            want = min(total, SMALL_LIMIT) if mode == "client-1000" else total
            ok = "OK" if r["count"] == r["unique"] == want else "MISMATCH"
            print(
                f"list all via {label:<30} {r['seconds']:7.1f} s  {r['count'] / r['seconds']:8,.0f}/s  "
                f"peak RSS {r['peak_rss_mb']:6.1f} MB (with the id check {r['check_peak_rss_mb']:6.1f})  "
                f"ids {r['count']:,} unique {r['unique']:,} {ok}; CPU: client {r['cpu_s']:.1f} s, "
                f"server {r['server_cpu_s']:.1f} s"
            )
        if "bare" in results:
            lo, mid, hi, last = results["bare"]["page_ms"]
            print(
                f"bare listing, 10,000-alert pages following @odata.nextLink (keyset $skiptoken): "
                f"min {lo:.0f} / median {mid:.0f} / max {hi:.0f} ms a page, the last full page {last:.0f} ms"
            )
        if not opts.no_deep:
            _deep_pages(emu, app, total)
        if "client" in results and "client-before" in results:
            c, b = results["client"], results["client-before"]
            print(
                f"ratio client/before: time {c['seconds'] / b['seconds']:.2f}x, "
                f"client CPU {c['cpu_s'] / b['cpu_s']:.2f}x, "
                f"peak RSS {c['peak_rss_mb'] / b['peak_rss_mb']:.2f}x"
            )
        if "client" in results and "bare" in results:
            c, b = results["client"], results["bare"]
            print(
                f"ratio client/bare: time {c['seconds'] / b['seconds']:.2f}x, "
                f"peak RSS {c['peak_rss_mb'] / b['peak_rss_mb']:.2f}x; "
                f"goal client peak RSS < 200 MB: {'OK' if c['peak_rss_mb'] < 200 else 'OVER'}"
            )
        print(f"emulator server peak RSS {emu.peak_rss_mb():.0f} MB")
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
