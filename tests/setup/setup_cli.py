"""Run the real ``mde setup`` console script as a subprocess and play the person at the browser.

The script prints the device code on stderr; a reader thread spots it and approves (or declines)
it through the emulator's control plane, as a person would on the sign-in page. Every run checks
that no secret, token or private key reached its output.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

MDE_BIN = shutil.which("mde", path=str(Path(sys.executable).parent)) or "mde"
_CODE = re.compile(r"code: ([A-Z0-9]{9})\b")
SECRET_SHAPES = (
    re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"),  # a token
    re.compile(r"PRIVATE KEY"),
    re.compile(r"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{34}"),  # a client secret
)


@dataclass
class Run:
    """A finished ``mde`` run: exit code, stdout, stderr, and what the person did."""

    args: list[str]
    code: int
    out: str
    err: str
    approvals: list[httpx.Response] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def setup_env(emu: Any, tmp_path: Path) -> dict[str, str]:
    """The environment of a user pointing mdekit at the emulator (own config dir, no AZURE_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "MDEKIT_"))}
    env.update(
        {
            "MDEKIT_BASE_URL": emu.url,
            "MDEKIT_AUTHORITY": emu.url,
            "MDEKIT_CA_BUNDLE": str(emu.ca_cert),
            "MDEKIT_CONFIG_DIR": str(tmp_path / "config"),
            "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "COLUMNS": "120",
        }
    )
    return env


def mde(
    emu: Any,
    env: dict[str, str],
    *args: str,
    upn: str | None = None,
    decline: bool = False,
    approve_extra: dict[str, Any] | None = None,
    timeout: float = 120,
    shows_secret: bool = False,
    on_code: Callable[[str], Any] | None = None,
) -> Run:
    """Run ``mde ARGS``; when it shows a device code, sign in as *upn* (or decline) via the control plane,
    or call *on_code* with it."""
    proc = subprocess.Popen(
        [MDE_BIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        text=True, env=env,
    )  # fmt: skip
    err_lines: list[str] = []
    approvals: list[httpx.Response] = []

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            err_lines.append(line)
            found = _CODE.search(line)
            if found and (upn or decline):
                approvals.append(_answer(emu, found.group(1), upn, decline, approve_extra or {}))
            elif found and on_code:
                on_code(found.group(1))

    out_parts: list[str] = []

    def read_stdout() -> None:
        assert proc.stdout is not None
        out_parts.append(proc.stdout.read())

    readers = [threading.Thread(target=f, daemon=True) for f in (read_stderr, read_stdout)]
    for reader in readers:
        reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for reader in readers:
        reader.join(timeout=10)
    for pipe in (proc.stdout, proc.stderr):  # ours to close (ResourceWarning fails a test)
        if pipe is not None:
            pipe.close()
    out = "".join(out_parts)
    run = Run(list(args), proc.returncode, out, "".join(err_lines), approvals)
    for pattern in SECRET_SHAPES[:2] if shows_secret else SECRET_SHAPES:
        assert not pattern.search(run.out + run.err), f"secret-looking text in the output of mde {args}"
    return run


def _answer(
    emu: Any, user_code: str, upn: str | None, decline: bool, extra: dict[str, Any]
) -> httpx.Response:
    with httpx.Client(base_url=emu.url, verify=ssl.create_default_context(cafile=str(emu.ca_cert))) as c:
        if decline:
            return c.post("/_emulator/devicecode/decline", json={"userCode": user_code})
        return c.post(
            "/_emulator/devicecode/approve", json={"userCode": user_code, "userPrincipalName": upn, **extra}
        )
