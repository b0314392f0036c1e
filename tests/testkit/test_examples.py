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


def _missing_routes(app: MdeApp) -> str | None:
    emu = app.emulator
    resp = emu.control.get("/api/machines", headers={"Authorization": f"Bearer {app.token()}"})
    if resp.status_code == 404 and resp.json() == {"detail": "Not Found"}:
        return "the Defender API emulator does not serve /api/machines yet"
    if emu.control.get("/_emulator/faults").status_code in (404, 405):
        return "the emulator has no fault plans (/_emulator/faults) yet"
    return None


@pytest.mark.socket
def test_isolate_script_example_suite_passes(mde_app: MdeApp) -> None:
    reason = _missing_routes(mde_app)
    if reason:
        pytest.skip(reason)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AZURE_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "3 passed" in done.stdout
