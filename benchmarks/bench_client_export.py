"""Client file export: ``mde.exports.download("vulnerabilities")`` vs a bare httpx loop, over HTTPS.

The parent seeds an emulator data file with N machines (about 4.7 vulnerability rows each: the
default 215,000 machines give about 1,000,000 rows) and serves it on a real HTTPS socket. Two child
processes, alternating, best of R, each read the whole export and report rows, seconds and their
own peak RSS:

* baseline: httpx alone - token, the export call, then each gzip file streamed through
  ``zlib.decompressobj`` and ``json.loads`` per line (no models, no checks);
* client: ``Defender.from_secret(...).exports.download("vulnerabilities")`` - typed
  ``AssetVulnerability`` rows, pre-flight, rate limiter, the same streaming.

Prints both, the time ratio client/baseline, and whether the client's peak RSS stays under 200 MB.

Run: ``.venv/bin/python benchmarks/bench_client_export.py [--machines N] [--repeat R]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

RSS_LIMIT_MB = 200


def _peak_mb() -> float:
    """This process's peak RSS. ``VmHWM``, not ``ru_maxrss``: Linux keeps ``ru_maxrss`` across
    ``execve``, so a child would report its (large) parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: KiB there too


def _baseline(cfg: dict[str, Any]) -> int:
    import ssl

    import httpx

    tls = ssl.create_default_context(cafile=cfg["ca"])
    with httpx.Client(base_url=cfg["url"], verify=tls, timeout=600) as http:
        form = {"grant_type": "client_credentials", "client_id": cfg["app"], "client_secret": cfg["secret"],
                "scope": "https://api.securitycenter.microsoft.com/.default"}  # fmt: skip
        token = http.post(f"/{cfg['tenant']}/oauth2/v2.0/token", data=form).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        files = http.get("/api/machines/SoftwareVulnerabilitiesExport", headers=auth).json()["exportFiles"]
        rows = 0
        for url in files:
            inflate, tail = zlib.decompressobj(wbits=47), b""
            with http.stream("GET", url) as resp:
                for chunk in resp.iter_bytes(256 * 1024):
                    *lines, tail = (tail + inflate.decompress(chunk)).split(b"\n")
                    rows += sum(1 for line in lines if line and json.loads(line))
            rows += 1 if tail.strip() and json.loads(tail) else 0
        return rows


def _client(cfg: dict[str, Any]) -> int:
    from mdekit import Defender

    url = cfg["url"]
    with Defender.from_secret(cfg["tenant"], cfg["app"], cfg["secret"], base_url=url, authority=url,
                              verify=cfg["ca"], timeout=600) as mde:  # fmt: skip
        return sum(1 for _ in mde.exports.download("vulnerabilities"))


def child(kind: str, cfg: dict[str, Any]) -> None:
    """Run one side and print ``rows seconds peak_mb`` as JSON."""
    t0 = time.perf_counter()
    rows = (_client if kind == "client" else _baseline)(cfg)
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - t0, "peak_mb": _peak_mb()}))


def _run(kind: str, cfg: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, json.dumps(cfg)],
        capture_output=True, text=True, check=False, timeout=3600,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--machines", type=int, default=215_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], json.loads(args.child[1]))
        return

    import ssl

    import httpx

    from mdekit.catalog import MDE
    from mdekit.emulator.defender.seed import seed_tenant
    from mdekit.emulator.server import EmulatorServer

    with (
        tempfile.TemporaryDirectory() as tmp,
        EmulatorServer(state_dir=Path(tmp), data=Path(tmp) / "e.db") as emu,
    ):
        state = emu.state
        tid = state.directory.create_tenant("Bench").id
        t0 = time.perf_counter()
        seed_tenant(state.defender, tid, machines=args.machines, alerts=0, seed=1)
        print(f"seeded {args.machines:,} machines in {time.perf_counter() - t0:.1f} s")
        body = {"displayName": "bench", "permissions": list(MDE.roles), "grantConsent": True, "secret": True}
        with httpx.Client(
            base_url=emu.url, verify=ssl.create_default_context(cafile=str(emu.ca_cert))
        ) as ctl:
            app = ctl.post(f"/_emulator/tenants/{tid}/applications", json=body).json()
        cfg = {"url": emu.url, "ca": str(emu.ca_cert), "tenant": tid, "app": app["appId"],
               "secret": app["secret"]["value"]}  # fmt: skip
        results: dict[str, list[dict[str, Any]]] = {"baseline": [], "client": []}
        for _ in range(args.repeat):
            for kind in ("baseline", "client"):
                results[kind].append(_run(kind, cfg))
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in results.items()}
    if best["client"]["rows"] != best["baseline"]["rows"]:
        raise SystemExit(f"row counts differ: {best}")
    for kind, r in best.items():
        rate = r["rows"] / r["seconds"]
        size = f"{r['rows']:>10,} rows  {r['seconds']:7.2f} s  {rate:>10,.0f} rows/s"
        print(f"{kind:<9} {size}  peak RSS {r['peak_mb']:6.1f} MB")
    ratio = best["client"]["seconds"] / best["baseline"]["seconds"]
    under = best["client"]["peak_mb"] < RSS_LIMIT_MB
    print(f"client/baseline time ratio {ratio:.2f}x; client peak RSS under {RSS_LIMIT_MB} MB: {under}")


if __name__ == "__main__":
    main()
