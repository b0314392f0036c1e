"""Run every benchmark, one after the other, each in its own process (``make bench``).

Run: .venv/bin/python benchmarks/run_all.py [--quick]

``--quick`` shortens the long ones (100,000 alerts instead of 1,000,000; 2-s load runs). A failing
or missing benchmark is reported and the others still run; the exit status is 1 if any failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent

#: (script, arguments, quick arguments) -- in the order of benchmarks/README.md's table.
BENCHMARKS: list[tuple[str, list[str], list[str]]] = [
    ("bench_token_service.py", ["5", "16"], ["2", "16"]),
    ("bench_api.py", ["4"], ["2"]),
    ("bench_list.py", ["3", "16"], ["1", "16"]),
    ("bench_list_hunting.py", ["3"], ["1", "1,16", "--rounds=1"]),
    ("bench_startup.py", ["5"], ["2"]),
    ("bench_cli_startup.py", [], ["5"]),
    ("bench_cli_output.py", [], ["5000"]),
    ("bench_large.py", ["1000000"], ["100000"]),
    ("bench_sync.py", ["--full", "--duckdb-memory-limit", "256MB"], ["20000", "--lag-seconds", "20"]),
    ("bench_defender_seed.py", [], []),
    ("bench_tvm.py", [], ["--machines", "2000", "--repeat", "1"]),
    ("bench_client_export.py", ["--repeat", "1"], ["--machines", "20000", "--repeat", "1"]),
    ("bench_kql.py", [], ["--quick"]),
    ("bench_client_tokens.py", [], []),
    ("bench_client_listing.py", [], []),
    ("bench_client_ratelimit.py", [], []),
]


def main() -> int:
    """Run them all; print a header per benchmark and a summary."""
    quick = "--quick" in sys.argv
    failed = []
    for script, args, quick_args in BENCHMARKS:
        path = HERE / script
        print(f"\n=== {script} {' '.join(quick_args if quick else args)}", flush=True)
        if not path.exists():
            print("(not present)")
            continue
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, str(path), *(quick_args if quick else args)], cwd=HERE.parent)
        print(f"--- {script}: exit {done.returncode}, {time.perf_counter() - t0:.0f} s", flush=True)
        if done.returncode != 0:
            failed.append(script)
    print(f"\n{len(BENCHMARKS) - len(failed)} benchmarks ran, failed: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
