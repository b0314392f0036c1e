"""Start-up: EmulatorServer start to first answered request, `mde demo` wall time, `mde --help` time.

Run: .venv/bin/python benchmarks/bench_startup.py [RUNS]

* EmulatorServer, cold: a new state directory (local CA, server certificate, signing key made);
  warm: the same directory and data file again. Measured from the constructor to the first
  answered HTTPS request, in this process (the cold run includes two RSA key generations).
* ``mde demo`` as a subprocess (the whole walkthrough on its embedded emulator).
* ``mde --help`` and ``mde alerts --help`` vs ``python -c pass`` (``bench_cli_startup.py``).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _load import machine_line
from bench_cli_startup import _median_seconds

from mdekit.emulator.server import EmulatorServer


def _server_start(home: Path) -> float:
    t0 = time.perf_counter()
    with EmulatorServer(state_dir=home, data=home / "emulator.db") as server:
        httpx.get(f"{server.url}/_emulator/clock", verify=str(server.ca_cert)).raise_for_status()
        return time.perf_counter() - t0


def main() -> None:
    """Measure and print."""
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(machine_line())
    cold, warm = [], []
    for _ in range(runs):
        home = Path(tempfile.mkdtemp(prefix="mdekit-start-"))
        cold.append(_server_start(home))
        warm.append(_server_start(home))
        shutil.rmtree(home, ignore_errors=True)
    print(f"EmulatorServer start -> first answer, cold  median {statistics.median(cold) * 1000:7.1f} ms")
    print(f"EmulatorServer start -> first answer, warm  median {statistics.median(warm) * 1000:7.1f} ms")
    mde = shutil.which("mde", path=str(Path(sys.executable).parent)) or "mde"
    demo = []
    for _ in range(max(1, runs // 2)):
        home = tempfile.mkdtemp(prefix="mdekit-demo-")
        t0 = time.perf_counter()
        done = subprocess.run(
            [mde, "demo"],
            capture_output=True,
            env={"MDEKIT_HOME": home, "PATH": "/usr/bin:/bin", "HOME": home, "COLUMNS": "100"},
        )
        demo.append(time.perf_counter() - t0)
        if done.returncode != 0:
            print(f"mde demo failed (exit {done.returncode}): {done.stderr.decode()[-500:]}")
        shutil.rmtree(home, ignore_errors=True)
    print(f"mde demo wall time                          median {statistics.median(demo):7.2f} s")
    baseline = _median_seconds([sys.executable, "-c", "pass"], runs * 2)
    help_time = _median_seconds([mde, "--help"], runs * 2)
    print(f"python -c pass                              median {baseline * 1000:7.1f} ms (baseline)")
    print(
        f"mde --help                                  median {help_time * 1000:7.1f} ms"
        f"  ratio {help_time / baseline:.2f}x"
    )


if __name__ == "__main__":
    main()
