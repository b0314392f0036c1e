"""``mde hunt`` through the real console script in a subprocess, against the session emulator."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.socket

MDE_BIN = shutil.which("mde", path=str(Path(sys.executable).parent)) or "mde"
JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")
GRAPH = {"resource": "https://graph.microsoft.com", "role": "ThreatHunting.Read.All"}
Q = (
    "DeviceProcessEvents | summarize n = count() by DeviceName, FileName "
    "| order by n desc, DeviceName asc, FileName asc"
)


@dataclass
class Run:
    """A finished ``mde`` run."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def _post(control: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    reply = control.post(f"/_emulator{path}", json=body)
    assert reply.status_code < 300, reply.text
    return reply.json()


@pytest.fixture
def mde(emu: Any, control: httpx.Client, tmp_path: Path) -> Callable[..., Run]:
    """``mde(*args, permissions=None)``: run the real ``mde`` as an app of a seeded tenant."""
    tenant = _post(control, "/tenants", {"displayName": "Contoso"})["tenantId"]
    _post(control, f"/tenants/{tenant}/seed", {"machines": 6, "alerts": 20, "seed": 5})
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "MDEKIT_"))}
    base.update(
        MDEKIT_BASE_URL=emu.url,
        MDEKIT_AUTHORITY=emu.url,
        MDEKIT_CA_BUNDLE=str(emu.ca_cert),
        MDEKIT_CONFIG_DIR=str(tmp_path / "config"),
        AZURE_TENANT_ID=tenant,
        COLUMNS="160",
    )
    apps: dict[str, tuple[str, str]] = {}

    def run(
        *args: str, permissions: tuple[Any, ...] = (GRAPH, "AdvancedQuery.Read.All"), columns: int = 160
    ) -> Run:
        key = json.dumps(permissions)
        if key not in apps:
            body = {"displayName": "hunt", "permissions": list(permissions), "grantConsent": True}
            made = _post(control, f"/tenants/{tenant}/applications", {**body, "secret": True})
            apps[key] = (made["appId"], made["secret"]["value"])
        app_id, secret = apps[key]
        env = {**base, "AZURE_CLIENT_ID": app_id, "AZURE_CLIENT_SECRET": secret, "COLUMNS": str(columns)}
        proc = subprocess.run(
            [MDE_BIN, *args], capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL
        )
        result = Run(proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in result.err, result.err
        assert secret not in result.out + result.err and not JWT.search(result.out + result.err)
        return result

    return run


def _one_line_error(result: Run, code: int) -> str:
    assert result.code == code, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    return lines[0]


def test_every_output_format_parses_and_agrees(mde: Callable[..., Run]) -> None:
    rows = mde("hunt", Q, "-o", "json").json()
    assert rows and list(rows[0]) == ["DeviceName", "FileName", "n"]
    assert [json.loads(line) for line in mde("hunt", Q, "-o", "ndjson").out.splitlines()] == rows
    sheet = list(csv.DictReader(io.StringIO(mde("hunt", Q, "-o", "csv").out)))
    assert [{**r, "n": int(r["n"])} for r in sheet] == rows
    table = mde("hunt", Q, "-o", "table")
    assert table.code == 0 and "DeviceName" in table.out and rows[0]["DeviceName"] in table.out


def test_query_file_api_choice_and_timespan(mde: Callable[..., Run], tmp_path: Path) -> None:
    query = tmp_path / "q.kql"
    query.write_text("// all logons\nDeviceLogonEvents\n| count\n")
    every = mde("hunt", "-f", str(query), "--api", "mde").json()
    recent = mde("hunt", "-f", str(query), "--timespan", "2d").json()  # graph by default
    assert 0 <= recent[0]["Count"] < every[0]["Count"]
    line = _one_line_error(mde("hunt", "-f", str(query), "--api", "mde", "--timespan", "2d"), 2)
    assert "timespan" in line


def test_timespan_takes_every_graph_form(mde: Callable[..., Run]) -> None:
    q = "DeviceLogonEvents | summarize n = count(), lo = min(Timestamp), hi = max(Timestamp)"
    whole = mde("hunt", q, "--timespan", "P30D").json()[0]
    day = whole["hi"][:10] + "T00:00:00Z"  # the last day with events: from its midnight on
    upto = mde("hunt", q, "--timespan", f"{day}/P1D").json()[0]
    same = mde("hunt", q, "--timespan", f"P1D/{day[:10]}T23:59:59.9999999Z").json()[0]
    since = mde("hunt", q, "--timespan", day).json()[0]
    assert upto["n"] == since["n"] > 0 and upto["lo"] >= day and upto["n"] <= whole["n"]
    assert same["n"] >= upto["n"] - 1  # the same day, give or take the last 100 ns
    for bad in ("P1D/P2D", "2024-02-15T00:00:00Z/2024-02-01T00:00:00Z", "soon"):
        assert "--timespan" in _one_line_error(mde("hunt", q, "--timespan", bad), 2), bad


def test_fallback_to_a_retiring_api_is_one_notice_line(
    mde: Callable[..., Run], control: httpx.Client
) -> None:
    mde_only = ("AdvancedQuery.Read.All",)
    fell = mde("hunt", "DeviceInfo | count", "-o", "json", permissions=mde_only)
    assert fell.code == 0 and fell.json()[0]["Count"] > 0
    notes = fell.err.strip().splitlines()
    assert len(notes) == 1 and notes[0].startswith("notice: "), fell.err  # not the Python warning too
    assert "MC1220762" in notes[0] and "ThreatHunting.Read.All" in notes[0] and "MDE" in notes[0]
    assert mde("hunt", "DeviceInfo | count", "-o", "json").err == ""  # Graph: nothing to say
    assert mde("hunt", "DeviceInfo | count", "--api", "mde", "-o", "json", permissions=mde_only).err == ""
    _post(control, "/retirements", {"advancedHunting": True})
    line = _one_line_error(mde("hunt", "DeviceInfo | count", permissions=mde_only), 1)
    assert "retired" in line and "MC1220762" in line and "ThreatHunting.Read.All" in line


def test_canned_hunts_list_and_run_with_escaped_parameters(mde: Callable[..., Run]) -> None:
    listed = mde("hunt", "--list", "-o", "json").json()
    names = {h["name"] for h in listed}
    assert {"processes-by-hash", "devices-by-ip", "recent-alerts-with-evidence"} <= names and len(names) >= 5
    sha = mde("hunt", "DeviceProcessEvents | take 1 | project SHA256").json()[0]["SHA256"]
    found = mde("hunt", "--name", "processes-by-hash", "--param", f"hash={sha.upper()}").json()
    assert found and all(r["SHA256"] == sha for r in found)
    # a value is one string literal: it cannot widen the query
    sneaky = mde("hunt", "--name", "processes-by-hash", "--param", 'hash=x" or SHA256 != "')
    assert sneaky.code == 0 and sneaky.json() == []
    alerts = mde("hunt", "--name", "recent-alerts-with-evidence", "--param", "lookback=30d").json()
    assert alerts and {"AlertId", "Title", "EntityType"} <= set(alerts[0])


def test_bad_query_exits_1_with_the_service_message(mde: Callable[..., Run]) -> None:
    line = _one_line_error(mde("hunt", "DeviceInfo\n| where"), 1)
    assert "on line [2," in line
    line = _one_line_error(mde("hunt", "DeviceInfo | mv-apply u = LoggedOnUsers on (take 1)"), 1)
    assert "mv-apply" in line


def test_usage_mistakes_exit_2_without_sending(mde: Callable[..., Run], control: httpx.Client) -> None:
    before = len(control.get("/_emulator/requests").json()["value"])
    assert "not found" in _one_line_error(mde("hunt", "-f", "/nonexistent/q.kql"), 2)
    assert "exactly one" in _one_line_error(mde("hunt"), 2)
    assert "no canned hunt" in _one_line_error(mde("hunt", "--name", "nope"), 2)
    assert "--param ip=" in _one_line_error(mde("hunt", "--name", "devices-by-ip"), 2)
    assert len(control.get("/_emulator/requests").json()["value"]) == before


def test_missing_permission_exits_4(mde: Callable[..., Run]) -> None:
    line = _one_line_error(mde("hunt", "DeviceInfo", permissions=("Alert.Read.All",)), 4)
    assert "ThreatHunting.Read.All" in line and "AdvancedQuery.Read.All" in line


def test_canned_hunt_parameters_are_typed_and_escaped() -> None:
    from mdekit.errors import ConfigurationError
    from mdekit.hunts import get_hunt, kql_string

    assert kql_string('a"b\\c\n') == '"a\\"b\\\\c\\n"'
    hunt = get_hunt("processes-by-hash")
    text = hunt.render({"hash": 'x" or 1 == 1 //'})
    assert 'let wanted = "x\\" or 1 == 1 //";' in text and "take 1000" in text
    for values, message in (
        ({"hash": "a", "limit": "1;drop"}, "whole number"),
        ({"hash": "a", "nope": "1"}, "no parameter 'nope'"),
        ({}, "--param hash="),
    ):
        with pytest.raises(ConfigurationError, match=message):
            hunt.render(values)
    with pytest.raises(ConfigurationError, match="timespan"):
        get_hunt("rare-parent-child").render({"lookback": "7 days"})


def test_schema_lists_the_tables_and_a_tables_columns(mde: Callable[..., Run]) -> None:
    from mdekit.emulator.defender.tvm.hunting import TVM_HUNTING_TABLES
    from mdekit.emulator.hunting.tables import TABLES

    tables = mde("hunt", "--schema", "-o", "json")
    assert tables.code == 0, tables.err
    listed = [r["table"] for r in tables.json()]
    assert {"DeviceProcessEvents", "DeviceEvents", "AlertEvidence", "DeviceTvmSoftwareInventory"} <= set(
        listed
    )
    assert set(listed) <= set(TABLES)  # every table listed is one the service (here: emulator) has
    columns = mde("hunt", "--schema", "DeviceTvmSoftwareVulnerabilitiesKB", "-o", "json")
    assert columns.code == 0, columns.err
    got = [(r["ColumnName"], r["ColumnType"]) for r in columns.json()]
    assert got == TVM_HUNTING_TABLES["DeviceTvmSoftwareVulnerabilitiesKB"]
    process = mde("hunt", "--schema", "DeviceProcessEvents", "-o", "csv")
    assert process.code == 0 and process.out.splitlines()[0] == "ColumnName,ColumnType"
    assert len(process.out.splitlines()) == len(TABLES["DeviceProcessEvents"]) + 1


def test_schema_mistakes(mde: Callable[..., Run]) -> None:
    unknown = mde("hunt", "--schema", "NoSuchTable")
    assert unknown.code == 1 and "NoSuchTable" in unknown.err and len(unknown.err.strip().splitlines()) == 1
    bad = mde("hunt", "--schema", "DeviceInfo | take 1")
    assert bad.code == 2 and "not a table name" in bad.err
    mixed = mde("hunt", "--schema", "--name", "devices-by-ip")
    assert mixed.code == 2 and "--schema" in mixed.err


def test_table_keeps_device_name_and_a_short_footer(mde: Callable[..., Run]) -> None:
    run = mde("hunt", "DeviceProcessEvents | take 3", "-o", "table", columns=100)
    assert run.code == 0, run.err
    header = next(line for line in run.out.splitlines() if line.strip())
    assert "DeviceName" in header and "Timestamp" in header
    footer = [line for line in run.err.splitlines() if "hidden at this width" in line]
    assert len(footer) == 1 and len(footer[0]) <= 200, footer
    from mdekit.emulator.hunting.tables import TABLES

    hidden_count = int(footer[0].lstrip("(").split()[0])
    assert len(header.split()) + hidden_count == len(TABLES["DeviceProcessEvents"])  # shown or counted
