"""`mde sync` backfill: N alerts into DuckDB and PostgreSQL, against listing the same alerts alone;
then the steady-state lag while the activity generator keeps changing alerts.

Run: .venv/bin/python benchmarks/bench_sync.py [ALERTS] [--full] [--lag-seconds S] [--rate R] [--speed X]
[--duckdb-memory-limit 256MB]   (ALERTS default 100,000; --full: 1,000,000; --lag-seconds 0 skips
the lag run; --duckdb-memory-limit adds a DuckDB backfill with its buffer pool bounded)

The emulator runs as users run it (``mde emulator serve``, HTTPS). Each run is its own subprocess
reporting its wall time and peak RSS: the baseline lists every alert's raw page through the same
client path the sync uses (:class:`mdekit.sync.source.Source`: token, limiter, retries, paging
past 10,000), each record parsed (a dict), keeping nothing; a second listing reads each record's
JSON bytes without parsing it (:meth:`Source.json_pages`, the sync's own read path since it stores
that text: its ratio is printed too); the sync runs a full backfill pass (:class:`mdekit.sync.Syncer`)
into a DuckDB file, then into a PostgreSQL database (a throw-away cluster started like the tests
do, ``fsync`` off). Goal: backfill time at most 1.3x the listing's (the mean of a listing run
before and one after the backfills). The rows are counted after
each backfill (all N, once). Then, after one incremental pass (it re-reads from the newest
update on the backfill's first page), a steady-state pass (nothing changed) shows the
incremental cost. Each run also reports its process CPU time (user + system) per alert, which
moves less than wall time on a shared machine (the PostgreSQL backfill: the server process's too).

Steady-state lag: a second tenant (1,000 alerts, backfilled first, untimed) with the activity
generator on (R new alerts and R status/classification changes per virtual hour); the bench
advances the emulator's virtual clock by X - 1 seconds every wall second (virtual time runs X
times faster; each advance applies the generator's ticks) while a sync into SQLite runs a pass,
sleeps 1 s, runs the next. The lag of an alert change is the wall time from the clock advance that
made it (the request's start: the lag is over- rather than under-stated) to the commit of the sink
transaction holding it; p50/p99 over every change made during the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _load import Served, machine_line, new_app, serve_emulator

ROOT = Path(__file__).resolve().parent.parent
CHILD = r"""
import json, os, resource, sys, time
mode, url, ca, tid, app_id, secret, sink_url = sys.argv[1:8]
from mdekit.client import Defender
from mdekit.sync.entities import ENTITIES
from mdekit.sync.source import Source
client = Defender.from_secret(tid, app_id, secret, base_url=url, authority=url, verify=ca, timeout=600,
                              rate_limit=False)
source = Source(tid, client)
alerts = ENTITIES["alerts"]
def server_cpu(pid):  # the PostgreSQL server process serving the sink's connection (same machine)
    if pid is None:
        return 0.0
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
t0 = time.perf_counter()
c0 = time.process_time()
count = 0
server = 0.0
if mode in ("list", "raw"):
    for page in (source.pages if mode == "list" else source.json_pages)(alerts, None, None):
        count += len(page.records)
    steady = 0.0
else:
    from mdekit.sync.engine import Syncer
    from mdekit.sync.sinks import open_sink
    sink = open_sink(sink_url)
    backend = sink.conn.info.backend_pid if sink_url.startswith("postgresql") else None
    server0 = server_cpu(backend)
    syncer = Syncer(sink, [source], [alerts])
    count = syncer.run_once()[0].records
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    server = server_cpu(backend) - server0
    syncer.run_once()  # the first incremental pass re-reads from the first page's newest update
    t1 = time.perf_counter()
    syncer.run_once()
    steady = time.perf_counter() - t1
    stored = sink.status()[0]["records"]
    sink.close()
    assert stored == count, (stored, count)
seconds = seconds if mode not in ("list", "raw") else time.perf_counter() - t0
cpu = cpu if mode not in ("list", "raw") else time.process_time() - c0
print(json.dumps({"count": count, "seconds": seconds, "steady": steady, "cpu": cpu, "server_cpu": server,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

LAG_CHILD = r"""
import bisect, json, sys, threading, time
from datetime import datetime
import httpx
url, ca, tid, app_id, secret, sink_url, seconds, speed, rate = sys.argv[1:10]
seconds, speed, rate = float(seconds), float(speed), float(rate)
from mdekit.client import Defender
from mdekit.sync.engine import Syncer
from mdekit.sync.entities import ENTITIES, normalize_time
from mdekit.sync.sinks import open_sink
from mdekit.sync.source import Source

def epoch(text):
    return datetime.fromisoformat(normalize_time(text)[:26] + "+00:00").timestamp()

control = httpx.Client(base_url=url, verify=ca, timeout=60)
virtual = [epoch(control.get("/_emulator/clock").json()["now"]), time.time()]
# the sync's clock is the emulator's virtual one (floors are capped at "now"), read locally
client = Defender.from_secret(tid, app_id, secret, base_url=url, authority=url, verify=ca, timeout=600,
                              rate_limit=False, clock=lambda: virtual[0] + time.time() - virtual[1])
sink = open_sink(sink_url)
alerts = ENTITIES["alerts"]
committed = {}  # (id, version) -> wall time its transaction committed
real_commit = sink.commit
def commit(tenant, entity, records, checkpoint):
    changed = real_commit(tenant, entity, records, checkpoint)
    now = time.time()
    for r in records:
        committed.setdefault((r.id, r.version), now)
    return changed
sink.commit = commit
syncer = Syncer(sink, [Source(tid, client)], [alerts])
syncer.run_once()  # the backfill (untimed)
control.post("/_emulator/activity", json={"seed": 1, "tenants": [tid],
                                        "rates": {"alerts": rate, "alertUpdates": rate}})
advances = []  # (virtual time after the advance, wall time the request started)
stop = threading.Event()
def drive():
    while not stop.is_set():
        sent = time.time()
        now = epoch(control.post("/_emulator/clock", json={"advanceSeconds": speed - 1}).json()["now"])
        virtual[:] = [now, time.time()]
        advances.append((now, sent))
        stop.wait(max(0.0, 1.0 - (time.time() - sent)))
started = time.time()
driver = threading.Thread(target=drive, daemon=True)
driver.start()
passes = 0
while time.time() - started < seconds:
    syncer.run_once()
    passes += 1
    time.sleep(1.0)
stop.set()
driver.join()
first_virtual = advances[0][0] - speed  # changes stamped after the generator started
marks = [a[0] for a in advances]
lags = []
for (rid, version), at in committed.items():
    v = epoch(version)
    if v <= first_virtual:
        continue
    i = bisect.bisect_left(marks, v)
    if i < len(advances):
        lags.append(at - advances[i][1])
lags.sort()
pct = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))] if lags else float("nan")
print(json.dumps({"changes": len(lags), "passes": passes, "advances": len(advances),
                  "p50": pct(0.5), "p99": pct(0.99), "max": lags[-1] if lags else float("nan")}))
"""


def _run(mode: str, args: list[str], sink: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, *args, sink], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed: {out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


#: (option, default) of the lag run: wall seconds measured, changes per virtual hour, clock speed.
LAG_DEFAULTS = (("--lag-seconds", "60"), ("--rate", "3600"), ("--speed", "60"))


def _option(argv: list[str], name: str, default: str) -> str:
    """``--name VALUE`` from *argv* (removed from it), else *default*."""
    if name in argv:
        i = argv.index(name)
        value = argv[i + 1]
        del argv[i : i + 2]
        return value
    return default


def _lag(emu: Served, work: Path, seconds: float, rate: float, speed: float) -> None:
    """The steady-state lag run (module docstring) on its own tenant, into SQLite."""
    with emu.control() as control:
        app = new_app(control, ["Alert.Read.All"])
        control.post(f"/_emulator/tenants/{app['tid']}/seed", json={"machines": 50, "alerts": 1000})
    argv = [emu.url, emu.ca, app["tid"], app["appId"], app["secret"], f"sqlite:///{work}/lag.db"]
    out = subprocess.run(
        [sys.executable, "-c", LAG_CHILD, *argv, str(seconds), str(speed), str(rate)],
        capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"lag run failed: {out.stderr[-2000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"steady-state lag      {r['changes']:,} alert changes over {seconds:.0f} s "
        f"({rate:.0f} new + {rate:.0f} updates per virtual hour, clock x{speed:.0f}, "
        f"{r['passes']} passes 1 s apart): p50 {r['p50']:.2f} s, p99 {r['p99']:.2f} s, max {r['max']:.2f} s"
    )


def main() -> None:
    """Seed, list, backfill into DuckDB and PostgreSQL; print figures and ratios."""
    argv = sys.argv[1:]
    lag_seconds, rate, speed = (float(_option(argv, name, default)) for name, default in LAG_DEFAULTS)
    memory = _option(argv, "--duckdb-memory-limit", "")
    args = [a for a in argv if not a.startswith("--")]
    total = 1_000_000 if "--full" in argv else int(args[0]) if args else 100_000
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
        raw = _run("raw", base, "")
        synced = {
            name: _run("sync", base, sink)
            for name, sink in (
                ("DuckDB", f"duckdb:///{work}/mde.duckdb"),
                *(
                    [(f"DuckDB {memory}", f"duckdb:///{work}/mde-bounded.duckdb?memory_limit={memory}")]
                    if memory
                    else []
                ),
                ("PostgreSQL", pg.database("bench")),
            )
        }
        last = _run("list", base, "")
        listing = (first["seconds"] + last["seconds"]) / 2
        listing_cpu = (first["cpu"] + last["cpu"]) / 2
        print(
            f"list alone            {first['seconds']:7.1f} s before, {last['seconds']:.1f} s after "
            f"(baseline {listing:.1f} s)  peak RSS {max(first['peak_rss_mb'], last['peak_rss_mb']):6.1f} MB  "
            f"CPU {listing_cpu / total * 1e6:.0f} us/alert"
        )
        print(
            f"list raw JSON         {raw['seconds']:7.1f} s  peak RSS {raw['peak_rss_mb']:6.1f} MB  "
            f"CPU {raw['cpu'] / total * 1e6:.0f} us/alert (records' bytes, no dicts: the sync's read path)"
        )
        for name, r2 in synced.items():
            ok = "OK" if r2["count"] == total else f"MISMATCH ({r2['count']:,})"
            print(
                f"backfill -> {name:<12} {r2['seconds']:7.1f} s  peak RSS {r2['peak_rss_mb']:6.1f} MB  "
                f"rows {r2['count']:,} {ok}  ratio {r2['seconds'] / listing:.2f}x (goal <= 1.3)  "
                f"CPU {r2['cpu'] / total * 1e6:.0f} us/alert ({r2['cpu'] / listing_cpu:.2f}x the listing's"
                + (
                    f"; PostgreSQL server {r2['server_cpu'] / total * 1e6:.0f} us/alert"
                    if r2["server_cpu"]
                    else ""
                )
                + ")  "
                f"steady-state pass {r2['steady']:.2f} s; {r2['seconds'] / raw['seconds']:.2f}x the raw list"
            )
        if lag_seconds > 0:
            _lag(emu, work, lag_seconds, rate, speed)
    finally:
        emu.stop()
        pg.stop()


if __name__ == "__main__":
    main()
