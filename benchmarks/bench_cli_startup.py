"""Startup time of the `mde` command: `mde --help` wall time vs `python -c pass` (same interpreter).

Run: .venv/bin/python benchmarks/bench_cli_startup.py [N]

Each command runs N times in a fresh subprocess; the script prints the medians, the ratio to the
bare-interpreter baseline, and the absolute overhead. The goal is `mde --help` well under 0.5 s.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _median_seconds(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    """Measure and print the figures."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    mde = shutil.which("mde", path=str(Path(sys.executable).parent)) or "mde"
    _median_seconds([mde, "--help"], 2)  # warm the OS file cache and .pyc files
    baseline = _median_seconds([sys.executable, "-c", "pass"], runs)
    help_time = _median_seconds([mde, "--help"], runs)
    group_help = _median_seconds([mde, "alerts", "--help"], runs)
    print(f"runs per command: {runs}")
    print(f"python -c pass      median {baseline * 1000:7.1f} ms  (baseline)")
    print(
        f"mde --help          median {help_time * 1000:7.1f} ms  ratio {help_time / baseline:5.2f}x  "
        f"overhead {(help_time - baseline) * 1000:6.1f} ms"
    )
    print(
        f"mde alerts --help   median {group_help * 1000:7.1f} ms  ratio {group_help / baseline:5.2f}x  "
        f"overhead {(group_help - baseline) * 1000:6.1f} ms"
    )
    verdict = "OK" if help_time < 0.5 else "TOO SLOW"
    print(f"goal: mde --help well under 500 ms -> {verdict}")


if __name__ == "__main__":
    main()
