"""A real PostgreSQL for the tests: ``initdb`` + ``pg_ctl`` in a temporary directory, no mock.

The binaries come from PATH or Debian's ``/usr/lib/postgresql/<version>/bin``. PostgreSQL refuses
to run as root, so as root the cluster belongs to the ``postgres`` user (Debian's package creates
it) and its commands run through ``runuser``. It listens on 127.0.0.1 on a free port, trust
authentication, ``fsync`` off (a test cluster, thrown away).

When PostgreSQL cannot be started, the tests that need it skip with the reason - unless
``MDEKIT_REQUIRE_POSTGRES=1`` (CI sets it), where they fail.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PostgresServer", "find_binary", "unavailable"]


def find_binary(name: str) -> str | None:
    """*name* (``initdb``, ``pg_ctl``) from PATH or Debian's versioned directories (newest first)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return candidates[-1] if candidates else None


def unavailable(reason: str) -> None:
    """Fail (``MDEKIT_REQUIRE_POSTGRES=1``) or skip with *reason*."""
    import pytest

    if os.environ.get("MDEKIT_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required (MDEKIT_REQUIRE_POSTGRES=1) but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason} (set MDEKIT_REQUIRE_POSTGRES=1 to fail instead)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One throw-away cluster; :meth:`start` raises ``RuntimeError`` with the reason if it cannot."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="mdekit-pg-"))
        self.port = _free_port()
        self.user: str | None = None
        self.url = f"postgresql://mde@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> PostgresServer:
        initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("initdb/pg_ctl not found (Debian: apt-get install postgresql)")
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(
                    "running as root and there is no 'postgres' user to run PostgreSQL"
                ) from None
            self.user = "postgres"
            os.chmod(self.dir, 0o700)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        data = self.dir / "data"
        done = self._run(initdb, "-D", str(data), "-U", "mde", "--auth=trust", "-E", "UTF8", "--no-sync")
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()[-500:]}")
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
        )
        done = self._run(pg_ctl, "-D", str(data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")
        if done.returncode:
            log = (self.dir / "log").read_text(errors="replace")[-800:] if (self.dir / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()[-300:]} {log}")
        return self

    def database(self, name: str) -> str:
        """A new, empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        pg_ctl = find_binary("pg_ctl")
        if pg_ctl and (self.dir / "data" / "postmaster.pid").exists():
            self._run(pg_ctl, "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
