"""`mde demo --graph --json`: the portal's steps done by one sign-in and `mde setup`'s Graph calls,
and the rest of the walkthrough on the app it made; checked against the request journal."""

from __future__ import annotations

import json
import re
import shlex
import subprocess

import pytest
from setup_cli import MDE_BIN, SECRET_SHAPES

from mdekit.cli.main import main


def _command_lines(code: str) -> list[list[str]]:
    """The ``mde ...`` command lines of a step's code (redirections dropped; not Python's
    ``mde = Defender...``), as argument lists."""
    found = []
    for line in code.splitlines():
        words = shlex.split(line.split(" < ")[0]) if line.startswith("mde ") else []
        if len(words) > 1 and re.fullmatch(r"[a-z-]+", words[1]):
            found.append(words[1:])
    return found


def test_demo_graph_path(capsys: pytest.CaptureFixture[str]) -> None:
    proc = subprocess.run(
        [MDE_BIN, "demo", "--graph", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    transcript = json.loads(proc.stdout)
    failed = [s for s in transcript["steps"] if not s["ok"]]
    assert proc.returncode == 0 and transcript["ok"], json.dumps(failed, indent=1) + proc.stderr
    steps = {s["name"]: s for s in transcript["steps"]}
    assert list(steps)[:3] == ["sign-in", "setup", "ids"] and len(steps) == 8
    sign_in = steps["sign-in"]["evidence"]
    paths = [(e["method"], e["path"].rsplit("/", 2)[-2:], e["status"]) for e in sign_in]
    assert paths[0][1] == ["v2.0", "devicecode"] and paths[-1][1:] == (["v2.0", "token"], 200)
    setup = steps["setup"]["evidence"]
    graph = [(e["method"], e["path"], e["status"]) for e in setup if e["path"].startswith("/v1.0/")]
    assert ("POST", "/v1.0/applications", 201) in graph and ("POST", "/v1.0/servicePrincipals", 201) in graph
    assert sum(p.endswith("/appRoleAssignedTo") and s == 201 for _, p, s in graph) == 2
    assert all(e["path"].startswith("/v1.0/") for e in setup)  # the directory changed only through Graph
    # the app made through Graph is the one whose tokens carry the roles and call the API
    assert steps["verify"]["details"]["roles"] == ["Alert.Read.All", "Machine.Read.All"]
    assert steps["least-privilege"]["details"]["finalStatus"] == "Succeeded"
    # Machine.Isolate came from `mde setup` run again: one PATCH (the permission) and one grant
    regrant = steps["least-privilege"]["evidence"]
    writes = [(e["method"], e["path"].rsplit("/", 1)[-1], e["status"]) for e in regrant
              if e["path"].startswith("/v1.0/") and e["method"] != "GET"]  # fmt: skip
    assert [(m, s) for m, _, s in writes] == [("PATCH", 204), ("POST", 201)]
    assert writes[1][1] == "appRoleAssignedTo"
    assert len(steps["least-privilege"]["details"]["graphWrites"]) == 2
    assert steps["multi-tenant"]["details"]["tid"] == steps["multi-tenant"]["details"]["secondTenant"]
    for pattern in SECRET_SHAPES:
        assert not pattern.search(proc.stdout + proc.stderr)
    # every `mde` command line the walkthrough shows exists as written
    lines = [argv for s in transcript["steps"] for argv in _command_lines(s["code"])]
    assert ["setup", "--name", "mdekit-demo"] in lines and len(lines) >= 4
    for argv in lines:
        with pytest.raises(SystemExit) as done:
            main([*argv, "--help"])
        assert done.value.code in (0, None), (argv, capsys.readouterr())
