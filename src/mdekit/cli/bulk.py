"""Safety rails for commands that change things: bulk input, confirmation, resume state, audit log.

- :func:`read_targets`: ids or names from arguments and/or a file (CSV with an ``id``,
  ``machineId``, ``computerDnsName`` or ``name`` column, or one per line; ``#`` comments).
- :func:`confirm`: ask before acting on more than one target unless ``--yes`` (refuses when stdin is
  not a terminal, rather than acting silently).
- :class:`StateFile`: ids already done, so an interrupted bulk run resumes where it stopped.
- :func:`audit`: one JSON line per action (who, what, when, result) - never a secret or token.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mdekit.errors import ConfigurationError, scrub

__all__ = ["StateFile", "audit", "audit_path", "confirm", "read_targets"]

_ID_COLUMNS = ("id", "machineid", "machine_id", "computerdnsname", "name", "devicename", "device", "value")


def read_targets(args: Iterable[str] | None, file: str | None) -> list[str]:
    """Targets from *args* and *file* (``-`` = stdin), de-duplicated in order; none is an error."""
    found = [a.strip() for a in (args or []) if a and a.strip()]
    if file:
        found += _read_file(file)
    unique = list(dict.fromkeys(found))
    if not unique:
        raise ConfigurationError("no targets: give ids/names as arguments or --from-file FILE")
    return unique


def _read_file(file: str) -> list[str]:
    from mdekit.cli.inputs import read_text

    text = read_text(file, "target file")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return []
    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))]
    column = next((header.index(c) for c in _ID_COLUMNS if c in header), None)
    if column is None:
        if len(header) > 1:
            raise ConfigurationError(
                f"{file}: CSV needs an id, machineId, computerDnsName or name column (found: {lines[0]})"
            )
        return [ln.strip() for ln in lines]
    rows = csv.reader(io.StringIO("\n".join(lines[1:])))
    return [r[column].strip() for r in rows if len(r) > column and r[column].strip()]


def confirm(what: str, count: int, *, yes: bool, noun: str = "machines") -> None:
    """Ask before acting on more than one target; ``--yes`` skips; no terminal means refuse."""
    if count <= 1 or yes:
        return
    if not sys.stdin.isatty():
        raise ConfigurationError(f"{what} on {count} {noun}: add --yes to confirm (stdin is not a terminal)")
    sys.stderr.write(f"{what} on {count} {noun}? [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise ConfigurationError("cancelled")


class StateFile:
    """A resume file: one done id per line, appended as each target completes."""

    def __init__(self, path: str | None, *, writable: bool = True) -> None:
        self.path = Path(path) if path else None
        self.done: set[str] = set()
        if self.path and self.path.exists():
            from mdekit.cli.inputs import read_text

            text = read_text(str(self.path), "state file")
            self.done = {ln.strip() for ln in text.splitlines() if ln.strip()}
        if self.path and writable:
            self._append(b"")  # a file that cannot be written is refused before anything is sent

    def is_done(self, key: str) -> bool:
        """True when *key* completed in an earlier run."""
        return key in self.done

    def mark(self, key: str) -> None:
        """Record *key* as done (flushed at once, so a crash loses nothing).

        A file whose last line has no newline (edited by hand, or cut short) gets one first, so
        the new key never runs into the last one.
        """
        self.done.add(key)
        if self.path:
            self._append(key.encode("utf-8") + b"\n")

    def _append(self, data: bytes) -> None:
        assert self.path is not None
        try:
            with self.path.open("a+b") as fh:
                fh.seek(0, os.SEEK_END)
                if fh.tell():
                    fh.seek(-1, os.SEEK_END)
                    if fh.read(1) != b"\n" and data:
                        fh.write(b"\n")
                fh.write(data)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot write the state file {self.path}: {(exc.strerror or str(exc)).lower()}"
            ) from None


def audit_path() -> Path:
    """``MDEKIT_AUDIT_LOG`` or ``audit.jsonl`` in the mdekit config directory."""
    override = os.environ.get("MDEKIT_AUDIT_LOG")
    if override:
        return Path(override).expanduser()
    from mdekit.profiles import config_dir

    return config_dir() / "audit.jsonl"


def audit(record: dict[str, Any]) -> None:
    """Append one audit line: ``{"time", "user", "profile", "tenant", "appId", "action", ...}``.

    Values are scrubbed; the log never holds a secret or token. Failing to write the audit log is
    reported on stderr but does not undo the action that already happened.
    """
    line = {"time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "user": _user(), **record}
    text = scrub(json.dumps(line, ensure_ascii=False, default=str))
    path = audit_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    except OSError as exc:
        sys.stderr.write(f"warning: could not write the audit log {path}: {exc.strerror or exc}\n")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"
