"""The base install is the client and the CLI; the emulator is the ``emulator`` extra.

Without the extra, ``mde emulator ...``, ``mde demo`` and ``mdekit.testing`` say in one line which
extra to install (exit 2); everything else works. The fast tests hide the extra's modules from a
subprocess with an import hook; the slow one installs the base package into a fresh venv.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HINT = "pip install 'mdekit[emulator]'"
#: What the extra brings (a few of them are enough to hide for the check; hiding all is closer to a
#: base install).
EXTRA = ("fastapi", "starlette", "uvicorn", "lark", "orjson", "uvloop", "httptools")

# Installed first in the subprocess: the extra's modules behave as if not installed.
_HIDE = f"""
import sys
_HIDDEN = {EXTRA!r}

class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in _HIDDEN:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
for _name in [m for m in sys.modules if m.partition(".")[0] in _HIDDEN]:
    del sys.modules[_name]
"""

_MDE = (
    _HIDE
    + """
from mdekit.cli.main import main
main(sys.argv[1:])
"""
)

_TESTING = (
    _HIDE
    + """
import sys
from mdekit.errors import ConfigurationError
from mdekit.testing import emulate
try:
    with emulate():
        pass
except ConfigurationError as exc:
    print(exc)
    sys.exit(2)
"""
)

_CLIENT = (
    _HIDE
    + """
from mdekit import ClientSecretCredential, Defender
credential = ClientSecretCredential("00000000-0000-0000-0000-000000000001", "client", "secret")
with Defender(credential) as client:
    assert client.base_url.startswith("https://")
print("client ok")
"""
)


def _run(python: str | Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MDEKIT_HOME": str(cwd or ROOT)}
    env.pop("MDEKIT_DEBUG", None)
    return subprocess.run([str(python), *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def _assert_needs_extra(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert lines[0].endswith(HINT), lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["emulator", "serve", "--port", "0"],
        ["emulator", "tenant", "list", "--url", "https://127.0.0.1:1", "--ca", "x.pem"],
        ["demo"],
    ],
    ids=["serve", "control", "demo"],
)
def test_emulator_commands_name_the_extra(argv: list[str], tmp_path: Path) -> None:
    _assert_needs_extra(_run(sys.executable, "-c", _MDE, *argv, cwd=tmp_path))


def test_the_rest_works_without_the_extra(tmp_path: Path) -> None:
    for argv in (["--help"], ["emulator", "--help"], ["machines", "--help"]):
        result = _run(sys.executable, "-c", _MDE, *argv, cwd=tmp_path)
        assert result.returncode == 0 and "Usage: mde" in result.stdout, (argv, result.stderr)
    client = _run(sys.executable, "-c", _CLIENT, cwd=tmp_path)
    assert client.returncode == 0 and "client ok" in client.stdout, client.stderr


def test_testing_helpers_name_the_extra(tmp_path: Path) -> None:
    result = _run(sys.executable, "-c", _TESTING, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout.strip().endswith(HINT), (result.stdout, result.stderr)


def test_pytest_plugin_loads_and_its_fixtures_name_the_extra(tmp_path: Path) -> None:
    # pytest imports the plugin on every run: without the extra it must load, and only a test
    # that uses an emulator fixture fails, with the hint.
    (tmp_path / "conftest.py").write_text(_HIDE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not this repository's configuration
    (tmp_path / "test_uses_plugin.py").write_text(
        textwrap.dedent(
            """
            def test_plain():
                assert True

            def test_with_emulator(mde_app):
                pass
            """
        )
    )
    result = _run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path), cwd=tmp_path)
    assert "1 passed, 1 error" in result.stdout, result.stdout + result.stderr
    assert HINT in result.stdout


@pytest.mark.slow
def test_base_install_in_a_fresh_venv(tmp_path: Path) -> None:
    """``pip install mdekit`` (no extra) into a venv without system site-packages."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    install = _run(python, "-m", "pip", "install", "-q", str(ROOT), cwd=tmp_path)
    assert install.returncode == 0, install.stderr[-2000:]
    for module in EXTRA[:5]:  # the base install brought none of the emulator's dependencies
        probe = _run(python, "-c", f"import {module}", cwd=tmp_path)
        assert probe.returncode == 1 and "ModuleNotFoundError" in probe.stderr, module
    mde = env_dir / "bin" / "mde"
    assert _run(mde, "--help", cwd=tmp_path).returncode == 0
    _assert_needs_extra(_run(mde, "emulator", "serve", cwd=tmp_path))
    _assert_needs_extra(_run(mde, "demo", cwd=tmp_path))
    client = _run(python, "-c", _CLIENT.replace(_HIDE, ""), cwd=tmp_path)
    assert client.returncode == 0 and "client ok" in client.stdout, client.stderr
    testing = _run(python, "-c", _TESTING.replace(_HIDE, ""), cwd=tmp_path)
    assert testing.returncode == 2 and testing.stdout.strip().endswith(HINT), testing.stderr
