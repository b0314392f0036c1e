"""Users' type checkers see real types through the lazy ``mdekit`` namespace (not ``Any``).

mypy runs on a small user-style file: ``assert_type`` fails on ``Any`` as on a wrong type, and a
deliberate misuse must be reported (proof that the names are checked at all).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mdekit

SRC = Path(mdekit.__file__).resolve().parents[1]

SAMPLE = textwrap.dedent(
    """
    from typing import assert_type

    from mdekit import AsyncDefender, Defender, MdeError, PermissionMissingError, RetryPolicy
    from mdekit.client.base import AsyncClient, AsyncPager, Page, Pager, SyncClient
    from mdekit.client.hunting import HuntingResult
    from mdekit.models import Alert, AssetSoftware, ExposureScore, GraphAlert, GraphIncident, Incident
    from mdekit.models import Machine, MachineAction, Vulnerability


    def sync(mde: Defender) -> None:
        assert_type(mde.alerts.get("a1"), Alert)
        assert_type(mde.alerts.list(limit=5), Pager[Alert])
        assert_type(next(iter(mde.alerts.list())), Alert)
        assert_type(mde.alerts.get("a1", api="graph"), GraphAlert)  # the api= choice picks the model
        assert_type(mde.alerts.list(api="graph"), Pager[GraphAlert])
        assert_type(mde.incidents.list(), Pager[GraphIncident])
        assert_type(mde.incidents.get(1, api="xdr"), Incident)
        assert_type(mde.incidents.update(1, api="xdr", status="Resolved"), Incident)
        assert_type(next(mde.machines.list().pages()), Page[Machine])
        assert_type(mde.actions.isolate("m1", "why"), MachineAction)
        assert_type(mde.actions.wait("a1", timeout=5), MachineAction)
        assert_type(mde.hunting.run("DeviceInfo | take 1"), HuntingResult)
        assert_type(mde.base_url, str)
        seam: SyncClient = mde  # the client answers the seam its families use
        assert_type(mde.vulnerabilities.get("CVE-2024-38063"), Vulnerability)
        assert_type(mde.vulnerabilities.list(severity="High"), Pager[Vulnerability])
        assert_type(next(iter(mde.exports.software_inventory())), AssetSoftware)


    async def asynchronous(mde: AsyncDefender) -> None:
        assert_type(await mde.alerts.get("a1"), Alert)
        assert_type(mde.alerts.list(), AsyncPager[Alert])
        assert_type(await mde.alerts.update("a1", api="graph", status="resolved"), GraphAlert)
        assert_type(mde.incidents.list(api="xdr"), AsyncPager[Incident])
        assert_type(await mde.actions.wait("a1"), MachineAction)
        assert_type(await mde.hunting.run("DeviceInfo"), HuntingResult)
        seam: AsyncClient = mde
        assert_type(await mde.scores.exposure(), ExposureScore)


    assert_type(Defender.from_secret("t", "c", "s"), Defender)
    assert_type(AsyncDefender.from_environment(), AsyncDefender)
    assert_type(RetryPolicy(max_attempts=2), RetryPolicy)
    assert issubclass(PermissionMissingError, MdeError)
    """
)

MISUSE = textwrap.dedent(
    """
    from mdekit import Defender

    def wrong(mde: Defender) -> None:
        mde.alerts.get(42)
    """
)


def test_public_api_types_are_visible_to_mypy(tmp_path: Path) -> None:
    (tmp_path / "sample.py").write_text(SAMPLE)
    (tmp_path / "misuse.py").write_text(MISUSE)
    cache = SRC.parent / ".mypy_cache" / "public-typing"  # git-ignored; warm runs take seconds
    argv = [sys.executable, "-m", "mypy", "--strict", "--config-file", os.devnull, "--cache-dir", str(cache)]
    done = subprocess.run(
        [*argv, "--follow-imports=silent", "sample.py", "misuse.py"],
        capture_output=True,
        text=True,
        env={**os.environ, "MYPYPATH": str(SRC)},
        cwd=tmp_path,
        timeout=600,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, done.stdout + done.stderr
    # an overloaded method (api= picks the model) words it "no overload variant ... argument type int"
    assert errors[0].startswith("misuse.py:5:") and 'argument type "int"' in errors[0]


def test_type_checking_imports_match_the_lazy_exports() -> None:
    """The ``TYPE_CHECKING`` block, ``_EXPORTS`` and ``__all__`` name the same objects."""
    tree = ast.parse(Path(mdekit.__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    imported = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported == mdekit._EXPORTS
    assert set(mdekit.__all__) == {"__version__", *mdekit._EXPORTS}
