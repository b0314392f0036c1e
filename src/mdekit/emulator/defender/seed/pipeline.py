"""A large seed's alerts made in a child process while this one inserts them (issue 19).

Making an alert (its values, rendering, evidence recipe, incident row) and inserting it (compressing
it, SQLite B-trees, then the indexes) cost about the same CPU, and both hold the GIL
(``executemany`` takes it back for every row), so a thread cannot overlap them. A child process can:
it runs the very same :class:`~mdekit.emulator.defender.seed.alerts.AlertFactory` (pickled with its
random state, so the data is the same as made in process) and streams its chunks back over a pipe
(``marshal``); the pipe's small buffer keeps at most about two chunks in flight. The child is a
plain ``python -m mdekit.emulator.defender.seed.child`` (no ``multiprocessing``: no fork of a
threaded server, no re-import of the caller's ``__main__``), killed if the seed fails.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["PARALLEL_MIN", "generated"]

#: Seeds of fewer alerts are made in process (a child costs ~0.3 s to start).
PARALLEL_MIN = 50_000
#: The child's module (``python -m``).
CHILD = "mdekit.emulator.defender.seed.child"


def generated(factory: Any, count: int, tenant: str, first_n: int) -> Iterator[Any]:
    """``factory.make(count, tenant, first_n)``: the same chunks, made in a child process for a large
    seed; then *factory* holds what the child's did (links, incident and investigation counts)."""
    proc = _start() if count >= PARALLEL_MIN else None
    if proc is None:
        yield from factory.make(count, tenant, first_n)
        return
    from mdekit.emulator.defender.seed.alerts import AlertRows

    assert proc.stdin is not None and proc.stdout is not None
    try:
        try:
            pickle.dump((factory, count, tenant, first_n), proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the child is gone: it wrote why on stderr; reading finds the end at once
        while (message := _receive(proc.stdout)) is not None:
            kind, payload = message
            if kind == "rows":
                yield AlertRows.from_parts(payload)
            else:
                factory.links, factory.incidents, factory.investigations = payload
                return
        raise RuntimeError(f"the seed's generator process failed (exit status {proc.wait()})")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(BrokenPipeError):  # (unflushed bytes for a dead child)
                stream.close()


def _start() -> subprocess.Popen[bytes] | None:
    """The child process, or ``None`` where this interpreter cannot start one (an embedded or
    frozen Python without a usable ``sys.executable``): the alerts are then made in process."""
    if not sys.executable:
        return None
    try:
        return subprocess.Popen(
            [sys.executable, "-m", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_env()
        )
    except OSError:
        return None


def _receive(stream: IO[bytes]) -> tuple[str, Any] | None:
    """The next frame of :func:`mdekit.emulator.defender.seed.child.send`, ``None`` at the end."""
    head = stream.read(8)
    if len(head) < 8:
        return None
    size = int.from_bytes(head, "little")
    data = stream.read(size)
    if len(data) < size:
        return None
    message: tuple[str, Any] = marshal.loads(data)
    return message


def _env() -> dict[str, str]:
    # the child imports this very source tree, whatever its working directory or sys.path
    src = str(Path(__file__).resolve().parents[4])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": src + (os.pathsep + path if path else "")}
