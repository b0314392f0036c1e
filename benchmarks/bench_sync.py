"""`mde sync` backfill: N alerts into DuckDB and PostgreSQL, against listing the same alerts alone.

Run: .venv/bin/python benchmarks/bench_sync.py [ALERTS] [--full]   (default 100,000; --full: 1,000,000)

The emulator runs as users run it (``mde emulator serve``, HTTPS). Each run is its own subprocess
reporting its wall time and peak RSS: the baseline lists every alert's raw page through the same
client path the sync uses (:class:`mdekit.sync.source.Source`: token, limiter, retries, paging
past 10,000), keeping nothing; the sync runs a full backfill pass (:class:`mdekit.sync.Syncer`)
into a DuckDB file, then into a PostgreSQL database (a throw-away cluster started like the tests
do, ``fsync`` off). Goal: backfill time at most 1.3x the listing's (the mean of a listing run
before and one after the backfills). The rows are counted after
each backfill (all N, once). Then, after one incremental pass (it re-reads from the newest
update on the backfill's first page), a steady-state pass (nothing changed) shows the
incremental cost.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _load import machine_line, new_app, serve_emulator

ROOT = Path(__file__).resolve().parent.parent
CHILD = r"""
import json, resource, sys, time
mode, url, ca, tid, app_id, secret, sink_url = sys.argv[1:8]
from mdekit.client import Defender
from mdekit.sync.entities import ENTITIES
from mdekit.sync.source import Source
client = Defender.from_secret(tid, app_id, secret, base_url=url, authority=url, verify=ca, timeout=600,
                              rate_limit=False)
source = Source(tid, client)
alerts = ENTITIES["alerts"]
t0 = time.perf_counter()
count = 0
if mode == "list":
    for page in source.pages(alerts, None, None):
        count += len(page.records)
    steady = 0.0
else:
    from mdekit.sync.engine import Syncer
    from mdekit.sync.sinks import open_sink
    sink = open_sink(sink_url)
    syncer = Syncer(sink, [source], [alerts])
    count = syncer.run_once()[0].records
    seconds = time.perf_counter() - t0
    syncer.run_once()  # the first incremental pass re-reads from the first page's newest update
    t1 = time.perf_counter()
    syncer.run_once()
    steady = time.perf_counter() - t1
    stored = sink.status()[0]["records"]
    sink.close()
    assert stored == count, (stored, count)
seconds = seconds if mode != "list" else time.perf_counter() - t0
print(json.dumps({"count": count, "seconds": seconds, "steady": steady,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(mode: str, args: list[str], sink: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, *args, sink], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed: {out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Seed, list, backfill into DuckDB and PostgreSQL; print figures and ratios."""
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    total = 1_000_000 if "--full" in sys.argv else int(args[0]) if args else 100_000
    print(machine_line())
    sys.path.insert(0, str(ROOT / "tests" / "sync"))
    from pg_server import PostgresServer

    pg = PostgresServer().start()
    emu = serve_emulator()
    work = Path(tempfile.mkdtemp(prefix="mdekit-bench-sync-"))
    try:
        with emu.control() as control:
            app = new_app(control, ["Alert.Read.All"])
            control.post("/_emulator/throttling", json={"enabled": False})
            t0 = time.perf_counter()
            r = control.post(
                f"/_emulator/tenants/{app['tid']}/seed", json={"machines": 1000, "alerts": total}
            )
            if r.status_code != 200:
                raise SystemExit(f"seed failed: {r.text}")
            print(f"seed {total:,} alerts: {time.perf_counter() - t0:.1f} s")
        base = [emu.url, emu.ca, app["tid"], app["appId"], app["secret"]]
        # Listing before and after the backfills: on a shared machine the load drifts, the mean
        # of the two is the baseline (each is printed).
        first = _run("list", base, "")
        synced = {
            name: _run("sync", base, sink)
            for name, sink in (
                ("DuckDB", f"duckdb:///{work}/mde.duckdb"),
                ("PostgreSQL", pg.database("bench")),
            )
        }
        last = _run("list", base, "")
        listing = (first["seconds"] + last["seconds"]) / 2
        print(
            f"list alone            {first['seconds']:7.1f} s before, {last['seconds']:.1f} s after "
            f"(baseline {listing:.1f} s)  peak RSS {max(first['peak_rss_mb'], last['peak_rss_mb']):6.1f} MB"
        )
        for name, r2 in synced.items():
            ok = "OK" if r2["count"] == total else f"MISMATCH ({r2['count']:,})"
            print(
                f"backfill -> {name:<10} {r2['seconds']:7.1f} s  peak RSS {r2['peak_rss_mb']:6.1f} MB  "
                f"rows {r2['count']:,} {ok}  ratio {r2['seconds'] / listing:.2f}x (goal <= 1.3)  "
                f"steady-state pass {r2['steady']:.2f} s"
            )
    finally:
        emu.stop()
        pg.stop()


if __name__ == "__main__":
    main()
