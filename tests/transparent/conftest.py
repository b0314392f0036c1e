"""Fixtures for the transparent-mode proof: one namespace + emulator on port 443 per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from netns import Namespace, Proof, unavailable_reason

# Read-and-act permissions: enough for tokens, alerts and machines.
PERMISSIONS = ["Alert.Read.All", "Machine.Read.All", "Machine.Isolate"]

_PROVISION = """
import json, pathlib
from mdekit.testing import Emulator
emu = Emulator("https://127.0.0.1:443", pathlib.Path({ca!r}), pathlib.Path({work!r}))
app = emu.create_app({perms!r}, display_name="transparent proof")
print(json.dumps({{"tenant": app.tenant_id, "client": app.client_id, "secret": app.secret}}))
"""


def _serve_command(state: Path, ready: Path) -> list[str]:
    """`mde emulator serve --transparent --port 443` (a missing option fails the test, never a skip)."""
    return ["mde", "emulator", "serve", "--transparent", "--port", "443", "--state-dir", str(state),
            "--data", str(state / "emulator.db"), "--ready-file", str(ready)]  # fmt: skip


@pytest.fixture(scope="module")
def proof(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proof]:
    """A namespace whose /etc/hosts sends every Microsoft name to a transparent emulator on :443."""
    reason = unavailable_reason()
    if reason:  # only a missing host capability (no namespaces, not root, no tools) skips
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("netns")
    ns = Namespace(work)
    try:
        state, ready = work / "state", work / "ready.json"
        ns.start_emulator(_serve_command(state, ready), ready, state)
        app = ns.python(_PROVISION.format(ca=str(state / "ca.pem"), work=str(work), perms=PERMISSIONS))
        yield Proof(ns, app["tenant"], app["client"], app["secret"])
    finally:
        ns.close()
