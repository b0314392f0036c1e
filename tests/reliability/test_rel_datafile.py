"""The ``--data`` file (issue 13): one emulator at a time, refused early when unusable, private.

Before: two emulators served one file (their clocks drifted apart), a read-only file started and
said "ready" and then failed every write with a plain-text 500, a corrupt file or a directory gave
a raw ``DatabaseError``, and the file holding the token-signing key was created 0644.
"""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from rel_helpers import MDE_BIN, new_app, serve

from mdekit.emulator.state import EmulatorState
from mdekit.errors import ConfigurationError


def _serve_fails(home: Path, data: Path) -> subprocess.CompletedProcess[str]:
    """``mde emulator serve --data NAME`` (run in DATA's folder) that is expected to refuse to start.

    The name is short on purpose: the CLI shortens arguments over 80 characters in its errors.
    """
    argv = [MDE_BIN, "emulator", "serve", "--port", "0", "--data", data.name, "--state-dir", str(home)]
    env = {**os.environ, "MDEKIT_HOME": str(home)}
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, cwd=data.parent)


def _one_line_exit_2(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "ready" not in result.stdout
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_a_second_emulator_on_the_same_file_exits_naming_the_first(tmp_path: Path) -> None:
    data = tmp_path / "shared.db"
    first = serve(tmp_path / "one", data)
    try:
        line = _one_line_exit_2(_serve_fails(tmp_path / "two", data), data.name, f"pid {first.proc.pid}")
        assert f"kill {first.proc.pid}" in line
        with first.client() as control:  # the first one is untouched
            assert new_app(control)["tid"]
    finally:
        first.stop()
    second = serve(tmp_path / "two", data)  # once the first has stopped, the file is free
    try:
        with second.client() as control:
            assert len(control.get("/_emulator/tenants").json()["value"]) == 1
    finally:
        second.stop()


def test_the_lock_holds_in_one_process_too(tmp_path: Path) -> None:
    state = EmulatorState.open(tmp_path / "e.db")
    try:
        with pytest.raises(ConfigurationError, match=f"pid {os.getpid()}"):
            EmulatorState.open(tmp_path / "e.db")
    finally:
        state.close()
    EmulatorState.open(tmp_path / "e.db").close()  # released on close


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """*path* read-only even for root (who ignores file modes: an immutable attribute then)."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        yield
        return
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"running as root and cannot make a file read-only here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_data_file_is_refused_at_start(tmp_path: Path) -> None:
    data = tmp_path / "ro.db"
    EmulatorState.open(data).close()
    with _read_only(data):
        _one_line_exit_2(_serve_fails(tmp_path, data), data.name, "read-only")


@pytest.mark.parametrize("kind", ["random bytes", "truncated", "directory"])
def test_a_corrupt_file_or_a_directory_is_one_line_naming_it(tmp_path: Path, kind: str) -> None:
    data = tmp_path / "data.db"
    if kind == "directory":
        data.mkdir()
        words = ["is a directory"]
    elif kind == "random bytes":
        data.write_bytes(os.urandom(20_000))
        words = ["not an emulator database"]
    else:
        state = EmulatorState.open(data)
        state.directory.create_tenant("T")
        state.close()
        data.write_bytes(data.read_bytes()[:9000])  # header kept, pages cut off
        words = []
    _one_line_exit_2(_serve_fails(tmp_path, data), data.name, *words)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_file_and_its_companions_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        emu = serve(tmp_path, tmp_path / "emulator.db")
        try:
            with emu.client() as control:
                new_app(control)
            files = [tmp_path / f"emulator.db{suffix}" for suffix in ("", "-wal", "-shm", ".lock")]
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        finally:
            emu.stop()
    finally:
        os.umask(old)


def test_an_existing_world_readable_data_file_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "old.db"
    EmulatorState.open(data).close()
    data.chmod(0o644)  # as earlier versions created it
    EmulatorState.open(data).close()
    assert _mode(data) == 0o600
