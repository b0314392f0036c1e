"""A private network + mount namespace with Microsoft's hostnames pointing at 127.0.0.1.

Nothing on the machine changes: ``unshare --net --mount`` gives a loopback-only network (no route
out) and a private mount table where a temporary hosts file is bind-mounted over ``/etc/hosts``.
Commands run inside it with ``nsenter``. Needs root (CI runs as root) and util-linux + iproute2.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mdekit.emulator.transparent import UNSET_VARIABLES, hosts_file_lines, trust_settings, write_ca_bundle

VENV_BIN = Path(sys.executable).parent
SCRIPTS = Path(__file__).parent / "scripts"


def unavailable_reason() -> str | None:
    """Why namespaces cannot be used here (``None`` when they can)."""
    if not sys.platform.startswith("linux"):
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    missing = [tool for tool in ("unshare", "nsenter", "ip", "mount", "curl") if shutil.which(tool) is None]
    if missing:
        return f"missing tools: {', '.join(missing)} (apt-get install -y util-linux iproute2 curl)"
    probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"unshare --net --mount refused: {probe.stderr.strip()}"
    return None


class Namespace:
    """One namespace for a test module, held open by a sleeping process."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        hosts = workdir / "hosts"
        hosts.write_text("127.0.0.1 localhost\n::1 localhost\n" + "\n".join(hosts_file_lines()) + "\n")
        script = f"ip link set lo up && mount --bind {hosts} /etc/hosts && echo ready && exec sleep 3600"
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", script],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.holder.stdout is not None
        if self.holder.stdout.readline().strip() != "ready":
            raise RuntimeError("the namespace did not come up")
        self.server: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self.env: dict[str, str] = {}

    def _prefix(self) -> list[str]:
        return ["nsenter", "-t", str(self.holder.pid), "-n", "-m", "--"]

    def environ(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The test process's environment + trust settings + *extra*, without region overrides."""
        env = {k: v for k, v in os.environ.items() if k not in UNSET_VARIABLES}
        env.update(self.env)
        env.update(extra or {})
        env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
        return env

    def run(
        self, cmd: list[str], extra_env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run *cmd* inside the namespace."""
        return subprocess.run(
            [*self._prefix(), *cmd],
            env=self.environ(extra_env),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.workdir,
        )

    def python(self, code: str, extra_env: dict[str, str] | None = None) -> Any:
        """Run Python *code* inside; its last stdout line is parsed as JSON."""
        done = self.run([sys.executable, "-c", code], extra_env)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def start_emulator(self, cmd: list[str], ready_file: Path, ca_dir: Path) -> None:
        """Start the emulator (*cmd*) inside; wait for *ready_file*; trust its CA through env only."""
        self._log = (self.workdir / "emulator.log").open("w")
        self.server = subprocess.Popen(
            [*self._prefix(), *cmd],
            env=self.environ(),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not ready_file.exists():
            if self.server.poll() is not None or time.monotonic() > deadline:
                log = (self.workdir / "emulator.log").read_text()
                raise RuntimeError(f"emulator did not start: {log[-2000:]}")
            time.sleep(0.05)
        bundle = write_ca_bundle(ca_dir / "ca.pem", self.workdir / "ca-bundle.pem")
        self.env = trust_settings(bundle, ca_dir / "ca.pem")

    def close(self) -> None:
        """Stop the emulator and the holder (the namespace disappears with its last process)."""
        for proc in (self.server, self.holder):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self.holder.stdout is not None:
            self.holder.stdout.close()
        if self._log is not None:
            self._log.close()


@dataclass
class Proof:
    """The namespace, and the app registered in its emulator."""

    ns: Namespace
    tenant_id: str
    client_id: str
    secret: str

    def creds_env(self) -> dict[str, str]:
        """What a user exports for azure-identity and the sample scripts (authority left at default)."""
        return {"AZURE_TENANT_ID": self.tenant_id, "AZURE_CLIENT_ID": self.client_id,
                "AZURE_CLIENT_SECRET": self.secret}  # fmt: skip
