"""The emulator's data file: one server at a time, private permissions, refused early when unusable.

Two emulators on one file would each keep their own virtual clock and caches (a secret made on
one is expired on the other), so :func:`claim` takes an exclusive lock on ``<file>.lock`` and
names the holder when it cannot. (SQLite's own ``locking_mode=EXCLUSIVE`` would also shut out
read-only tools such as the ``sqlite3`` shell, and could not say who holds the file.) The file
holds the token-signing private key: it is created ``0600``, like the CA keys, and an existing one
readable by others is tightened. A directory, a read-only or a corrupt file is a one-line
:class:`~mdekit.errors.ConfigurationError` naming the file, at start rather than at the first write.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import stat
import sys
from pathlib import Path
from typing import IO

from mdekit.errors import ConfigurationError

__all__ = ["DataFileLock", "check_usable", "claim", "translate"]

#: Companion files SQLite creates beside the data file (WAL mode), kept as private as the file.
_COMPANIONS = ("-wal", "-shm")


def _private(path: Path) -> None:
    """Take group/other permissions away from *path* if we own it (no-op on Windows)."""
    with contextlib.suppress(OSError):
        st = path.stat()
        if sys.platform != "win32" and st.st_uid == os.getuid() and st.st_mode & 0o077:
            path.chmod(stat.S_IMODE(st.st_mode) & 0o700)


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class DataFileLock:
    """An exclusive lock on ``<data file>.lock`` for as long as this process serves the file."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.path = data.with_name(data.name + ".lock")
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock; :class:`ConfigurationError` naming the holder if another process has it."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot use emulator data file {self.data}: cannot create {self.path.name} beside it "
                f"({exc.strerror or exc}); is its directory writable?"
            ) from None
        handle = os.fdopen(fd, "r+", encoding="utf-8")
        if not _try_lock(handle):
            holder = handle.read()
            handle.close()
            raise ConfigurationError(f"emulator data file {self.data} is in use by {_describe(holder)}")
        _private(self.path)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Let another emulator take the file (the lock file stays: removing it would race)."""
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.truncate(0)
            self._handle.close()  # closing drops the lock
            self._handle = None


def _describe(holder: str) -> str:
    try:
        info = json.loads(holder)
        pid, host = int(info["pid"]), str(info.get("host") or "")
    except (ValueError, KeyError, TypeError):
        return "another emulator; stop it first, or serve another --data file"
    where = "" if host in ("", socket.gethostname()) else f" on {host}"
    return (
        f"another emulator (pid {pid}{where}); stop it first (Ctrl-C where it runs, or kill {pid}), "
        "or serve another --data file"
    )


def claim(path: Path) -> DataFileLock:
    """Prepare *path* as the data file: not a directory, locked, created ``0600`` if new."""
    if path.is_dir():
        raise ConfigurationError(f"emulator data file {path} is a directory; give a file path inside it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = f"cannot create the directory of emulator data file {path}: {exc.strerror or exc}"
        raise ConfigurationError(problem) from None
    lock = DataFileLock(path)
    lock.acquire()
    try:
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        for file in (path, *(path.with_name(path.name + s) for s in _COMPANIONS)):
            _private(file)
    except OSError as exc:
        lock.release()
        raise ConfigurationError(f"cannot create emulator data file {path}: {exc.strerror or exc}") from None
    return lock


def check_usable(conn: sqlite3.Connection, path: Path) -> None:
    """Read and write *conn* once (rolled back): a corrupt or read-only file fails here, not later."""
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        conn.execute("BEGIN IMMEDIATE")
        try:
            # BEGIN IMMEDIATE succeeds on a read-only file in WAL mode: only a real write tells
            conn.execute("CREATE TABLE IF NOT EXISTS _mdekit_write_probe (x)")
            conn.execute("INSERT INTO _mdekit_write_probe VALUES (1)")
        finally:
            conn.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        raise ConfigurationError(_problem(path, exc)) from None


def _problem(path: Path, exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return f"emulator data file {path} is read-only; make it writable or serve another --data file"
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return f"emulator data file {path} is not an emulator database (or it is corrupt): {text}"
    return f"cannot use emulator data file {path}: {text}"


def translate(path: Path, exc: sqlite3.DatabaseError) -> ConfigurationError:
    """*exc*, raised while opening *path*, as the one-line error the user sees."""
    return ConfigurationError(_problem(path, exc))
