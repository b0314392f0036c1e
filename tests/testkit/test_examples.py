"""The example user project under examples/ runs its own test-suite against the emulator.

It is run as users run it: `pytest` in its own directory (its pyproject, none of our conftests), so
the fixtures come only from the `mdekit` pytest11 entry point.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mdekit.testing import MdeApp

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "isolate-script"


@pytest.mark.socket
def test_isolate_script_example_suite_passes(mde_app: MdeApp) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AZURE_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "3 passed" in done.stdout
