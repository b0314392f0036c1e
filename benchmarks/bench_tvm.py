"""TVM emulator: seeding cost, derived vs materialised vulnerabilities, export throughput.

1. Seeding N machines (default 10,000) into a fresh SQLite file with TVM (installed software,
   AV health, remediation) vs the same seed with ``tvm=False`` - the baseline, measured in the same
   run, alternating, best of R. Prints both, the TVM share and the ratio.
2. The design choice (issue 14): a machine's vulnerabilities are *derived* at query time
   (``tvm_installs JOIN tvm_version_cves``). The alternative, measured here on the same data,
   *materialises* one row per (machine, version, CVE) with indexes on machine and CVE: its extra
   seeding cost, and both answers' times for the queries the API runs (one machine's CVEs for
   200 machines, every CVE's exposed machines, the full machine-vulnerability list, exposed
   counts). Both give the same rows (checked).
3. The JSON export and one file-export part: rows per second.

Run: ``.venv/bin/python benchmarks/bench_tvm.py [--machines N] [--repeat R]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mdekit.emulator.defender.seed import seed_tenant
from mdekit.emulator.defender.tvm.exports import export_rows
from mdekit.emulator.defender.tvm.store import SAME_VERSION
from mdekit.emulator.state import EmulatorState


def _wall(func: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = func()
    return time.perf_counter() - t0, out


def _row(label: str, value: str) -> None:
    print(f"{label:<66} {value}")


def seed_once(machines: int, tvm: bool, directory: Path) -> tuple[float, EmulatorState, str]:
    state = EmulatorState.open(directory / ("tvm.db" if tvm else "plain.db"))
    tid = state.directory.create_tenant("Bench").id
    wall, _ = _wall(lambda: seed_tenant(state.defender, tid, machines=machines, alerts=0, seed=1, tvm=tvm))
    return wall, state, tid


_MATERIALISE = f"""
CREATE TABLE mat (tenant TEXT, machine_id TEXT COLLATE NOCASE, cve_id TEXT, vendor TEXT, name TEXT,
                  version TEXT, kb TEXT, severity TEXT);
INSERT INTO mat SELECT i.tenant, i.machine_id, v.cve_id, i.vendor, i.name, i.version, v.kb, v.severity
  FROM tvm_installs i JOIN tvm_version_cves v ON {SAME_VERSION};
CREATE INDEX mat_machine ON mat(tenant, machine_id, cve_id);
CREATE INDEX mat_cve ON mat(tenant, cve_id, machine_id);
"""

# The derived side runs the store's own SQL (tvm/store.py); CROSS JOIN fixes the join order there.
_DERIVED = {
    "machine": "SELECT v.cve_id FROM tvm_installs i JOIN tvm_version_cves v ON " + SAME_VERSION
    + " WHERE i.tenant = ? AND i.machine_id = ? ORDER BY v.cve_id",
    "cve": "SELECT DISTINCT i.machine_id FROM tvm_version_cves v CROSS JOIN tvm_installs i "
    "WHERE i.tenant = ? AND " + SAME_VERSION + " AND v.cve_id = ? ORDER BY 1",
    "list": "SELECT i.machine_id, v.cve_id, i.name, i.version FROM tvm_installs i JOIN tvm_version_cves v ON "
    + SAME_VERSION + " WHERE i.tenant = ? ORDER BY 1, 2, 3",
    "counts": "SELECT v.cve_id, COUNT(DISTINCT i.machine_id) FROM tvm_version_cves v "
    "CROSS JOIN tvm_installs i WHERE i.tenant = ? AND " + SAME_VERSION + " GROUP BY v.cve_id ORDER BY 1",
}  # fmt: skip
_MATERIALISED = {
    "machine": "SELECT cve_id FROM mat WHERE tenant = ? AND machine_id = ? ORDER BY cve_id",
    "cve": "SELECT DISTINCT machine_id FROM mat WHERE tenant = ? AND cve_id = ? ORDER BY 1",
    "list": "SELECT machine_id, cve_id, name, version FROM mat WHERE tenant = ? ORDER BY 1, 2, 3",
    "counts": "SELECT cve_id, COUNT(DISTINCT machine_id) FROM mat WHERE tenant = ? GROUP BY 1 ORDER BY 1",
}


def _queries(state: EmulatorState, tid: str, sql: dict[str, str]) -> tuple[dict[str, float], list[Any]]:
    db = state.db
    machines = [
        r[0]
        for r in db.query("SELECT DISTINCT machine_id FROM tvm_installs WHERE tenant = ? LIMIT 200", (tid,))
    ]
    cves = [r[0] for r in db.query("SELECT DISTINCT cve_id FROM tvm_version_cves ORDER BY 1")]
    times, answers = {}, []
    t, out = _wall(lambda: [[tuple(r) for r in db.query(sql["machine"], (tid, m))] for m in machines])
    times["one machine's CVEs x200"], _ = t, answers.append(out)
    t, out = _wall(lambda: [[tuple(r) for r in db.query(sql["cve"], (tid, c))] for c in cves])
    times[f"exposed machines of each CVE x{len(cves)}"], _ = t, answers.append(out)
    t, out = _wall(lambda: [tuple(r) for r in db.query(sql["list"], (tid,))])
    times["full machine x CVE list"], _ = t, answers.append(out)
    t, out = _wall(lambda: [tuple(r) for r in db.query(sql["counts"], (tid,))])
    times["exposed machines per CVE (counts)"], _ = t, answers.append(out)
    return times, answers


def _views(state: EmulatorState, tid: str) -> dict[str, float]:
    """What the computed lists cost at this size (each answer builds a fresh OrgView)."""
    from mdekit.emulator.defender.tvm.entities import OrgView

    tvm = state.defender.tvm
    out = {}
    out["answer: /api/vulnerabilities (all, exposure counts)"], _ = _wall(
        lambda: OrgView(tvm, tid).vulnerabilities()
    )
    out["answer: /api/Software"], _ = _wall(lambda: OrgView(tvm, tid).software_list())
    out["answer: /api/recommendations (incl. configuration checks)"], _ = _wall(
        lambda: OrgView(tvm, tid).recommendations()
    )
    out["answer: /api/exposureScore"], _ = _wall(lambda: OrgView(tvm, tid).exposure_score())
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--machines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.machines
    with_tvm, without = [], []
    keep: tuple[EmulatorState, str] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(max(1, args.repeat)):
            for tvm in (True, False) if i % 2 == 0 else (False, True):  # alternate who goes first
                run = Path(tmp) / f"run{i}{tvm}"
                run.mkdir()
                wall, state, tid = seed_once(n, tvm, run)
                (with_tvm if tvm else without).append(wall)
                if tvm and keep is None:
                    keep = (state, tid)
                else:
                    state.close()
        assert keep is not None
        state, tid = keep
        installs = state.defender.counts(tid)["softwareInstalls"]
        best_t, best_0 = min(with_tvm), min(without)
        _row(
            f"seed {n:,} machines, no alerts, with TVM ({installs:,} installs)",
            " ".join(f"{w:.2f}" for w in with_tvm) + " s",
        )
        _row("baseline: the same seed with tvm=False", " ".join(f"{w:.2f}" for w in without) + " s")
        _row(
            "best with / best without (TVM's share)",
            f"{best_t:.2f} / {best_0:.2f} s (+{best_t - best_0:.2f} s)",
        )
        _row("ratio with TVM / without (best of each; lower is better)", f"{best_t / best_0:.2f}x")
        _row(
            "median with / without", f"{statistics.median(with_tvm):.2f} / {statistics.median(without):.2f} s"
        )

        derived, answers = _queries(state, tid, _DERIVED)
        mat_time, _ = _wall(lambda: state.db.script(_MATERIALISE))
        rows = state.db.query_one("SELECT COUNT(*) FROM mat")[0]
        materialised, answers_m = _queries(state, tid, _MATERIALISED)
        assert answers == answers_m, "derived and materialised answers differ"
        _row(f"materialising {rows:,} (machine, CVE) rows + 2 indexes (extra seed cost)", f"{mat_time:.2f} s")
        for label in derived:
            d, m = derived[label], materialised[label]
            _row(f"  {label}: derived / materialised", f"{d * 1000:.1f} / {m * 1000:.1f} ms ({d / m:.2f}x)")
        _row(
            "  total query time derived / materialised",
            f"{sum(derived.values()) / sum(materialised.values()):.2f}x",
        )

        view_times = _views(state, tid)
        for label, t in view_times.items():
            _row(f"  {label}", f"{t * 1000:.0f} ms")
        t, count = _wall(lambda: sum(1 for _ in export_rows(state.defender.tvm, "vulnerabilities", tid)))
        _row(
            f"JSON export rows (software vulnerabilities): {count:,}", f"{t:.2f} s ({count / t:,.0f} rows/s)"
        )
        files = state.defender.tvm_files
        t, _ = _wall(lambda: files.generate(tid, "vulnerabilities", "127.0.0.1", 1))
        urls, _ = files.generate(tid, "vulnerabilities", "127.0.0.1", 1)
        from urllib.parse import parse_qsl, urlsplit

        part = urlsplit(urls[0])
        download = files.check(part.path, dict(parse_qsl(part.query)))
        t, content = _wall(lambda: files.content(download))
        _row(
            f"file export: one gzip part ({len(urls)} parts in all)",
            f"{t:.2f} s, {len(content) / 1e6:.1f} MB",
        )
        state.close()


if __name__ == "__main__":
    main()
