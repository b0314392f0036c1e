"""`mde --help` and `import mdekit` stay light: no emulator, no HTTP stack."""

from __future__ import annotations

import json
import subprocess
import sys

import mdekit

HEAVY = (
    "httpx",
    "fastapi",
    "uvicorn",
    "starlette",
    "mdekit.emulator.app",
    "mdekit.emulator.server",
    "azure.identity",
    "jwt",
    "cryptography",
    "lark",
    "rich",
)

_PROBE = """
import json, sys
from mdekit.cli.main import main
sys.argv = ["mde", "--help"]
try:
    main(["--help"])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_mde_help_imports_no_heavy_module() -> None:
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["code"] == 0
    loaded = [m for m in HEAVY if m in result["modules"]]
    assert loaded == [], f"`mde --help` imported {loaded}"
    assert "Usage: mde" in out.stdout


def test_import_mdekit_is_light_and_all_names_resolve() -> None:
    probe = "import json, sys, mdekit; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    modules = json.loads(out.stdout)
    assert not [m for m in HEAVY if m in modules]
    for name in mdekit.__all__:
        assert getattr(mdekit, name) is not None, name
