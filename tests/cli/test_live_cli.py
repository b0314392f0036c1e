"""``mde live``, ``mde library`` and ``mde investigations start`` through the real ``mde`` script
against the emulator: results per machine, the rails (dry run, confirmation, state file, audit),
progress on stderr, files saved, one-line errors and exit codes.

Sessions run in real time here (the subprocess cannot move the virtual clock), so actions and
scripts are made short through the control plane.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import AppEnv, Result, action_timing, control_post, journal, make_app, parallel

LIVE_ROLES = ["Machine.Read.All", "Machine.LiveResponse", "Library.Manage", "Alert.ReadWrite.All"]
HOSTS = "C:\\Windows\\System32\\drivers\\etc\\hosts"
FAST = ("--interval", "0.2", "--timeout", "60")


@pytest.fixture
def live(
    mde: Callable[..., Result], control: httpx.Client, app_env: AppEnv, api: Callable[..., Any]
) -> Callable[..., Result]:
    """``mde`` as an app holding the live response roles, with short actions and a library script."""
    app_id, secret = make_app(control, app_env.tenant, LIVE_ROLES, name="responder")
    app_env.secrets.append(secret)
    action_timing(control, pending=0.1, run=0.1)
    control_post(control, "/scripts", {"name": "triage.ps1", "durationSeconds": 0.3})
    env = {"AZURE_CLIENT_ID": app_id, "AZURE_CLIENT_SECRET": secret}
    upload = mde("library", "upload", str(_script(app_env.home)), "-o", "json", env=env)
    assert upload.code == 0, upload.err
    return lambda *args, **kw: mde(*args, env={**env, **kw.pop("env", {})}, **kw)


def _script(home: Path) -> Path:
    path = home / "triage.ps1"
    path.write_text("param($Days)\nGet-EventLog -Newest $Days\n")
    return path


def _windows(api: Callable[..., Any]) -> list[dict[str, Any]]:
    return [m.to_wire() for m in api().machines.list() if (m.os_platform or "").startswith("Windows1")]


def _posts(control: httpx.Client, since: int, suffix: str) -> list[dict[str, Any]]:
    return [e for e in journal(control)[since:] if e["method"] == "POST" and e["path"].endswith(suffix)]


def _audit(app_env: AppEnv) -> list[dict[str, Any]]:
    path = app_env.home / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_run_script_on_many_machines_with_results_progress_audit_and_resume(
    live: Callable[..., Result], control: httpx.Client, app_env: AppEnv, api: Callable[..., Any]
) -> None:
    first, second = _windows(api)[:2]
    state = app_env.home / "state.txt"
    targets = (first["computerDnsName"], second["id"], "no-such-host")
    run = live("live", "run-script", *targets, "triage.ps1", "--args", "-Days 3", "--yes", "--limit", "2",
               "--state-file", str(state), "-o", "json", *FAST)  # fmt: skip
    assert run.code == 1, run.err  # one machine was not found
    rows = {r["target"]: r for r in run.json()}
    for name in targets[:2]:
        row = rows[name]
        assert (row["status"], row["exitCode"], row["output"]) == ("Succeeded", 0, "-Days 3"), row
        assert row["actionId"] and row["error"] is None
    assert rows["no-such-host"]["status"] == "Error" and "not found" in rows["no-such-host"]["error"].lower()
    # progress on stderr (not a terminal: plain lines with counts), per machine
    assert f"run-script {first['computerDnsName']}: Succeeded" in run.err
    assert "finished 2/2" in run.err
    audit = [a for a in _audit(app_env) if a["action"] == "run-script"]
    assert sorted(a["result"] for a in audit if a["target"] == second["id"]) == [
        "finished: Succeeded",
        "sent: Pending",
    ]
    assert state.read_text().split() == sorted(targets[:2], key=targets.index)
    before = len(journal(control))
    again = live("live", "run-script", *targets[:2], "triage.ps1", "--yes", "--state-file", str(state),
                 "-o", "json", *FAST)  # fmt: skip
    assert again.code == 0 and {r["status"] for r in again.json()} == {"Skipped"}
    assert not _posts(control, before, "/runliveresponse")  # a resumed run never sends twice


def test_script_failure_confirmation_dry_run_and_from_file(
    live: Callable[..., Result], control: httpx.Client, app_env: AppEnv, api: Callable[..., Any]
) -> None:
    control_post(control, "/scripts", {"name": "triage.ps1", "exitCode": 5, "errors": "access denied"})
    first, second = _windows(api)[:2]
    hosts = app_env.home / "hosts.csv"
    hosts.write_text(f"computerDnsName,note\n{first['computerDnsName']},a\n{second['computerDnsName']},b\n")
    before = len(journal(control))
    failed, unconfirmed, dry = parallel(
        live,
        ("live", "run-script", first["id"], "triage.ps1", "-o", "json", *FAST),
        ("live", "run-script", "--from-file", str(hosts), "triage.ps1", *FAST),
        ("live", "run-script", "--from-file", str(hosts), "triage.ps1", "--dry-run", "-o", "json"),
    )
    assert failed.code == 1, failed.err
    (row,) = failed.json()
    assert (row["status"], row["exitCode"], row["scriptErrors"]) == ("Succeeded", 5, "access denied")
    assert unconfirmed.code == 2 and "add --yes" in unconfirmed.err
    assert dry.code == 0 and [r["status"] for r in dry.json()] == ["WouldRun", "WouldRun"]
    assert [r["machineId"] for r in dry.json()] == [first["id"], second["id"]]
    assert len(_posts(control, before, "/runliveresponse")) == 1  # only the real run sent one


def test_get_file_and_put_file(
    live: Callable[..., Result], control: httpx.Client, app_env: AppEnv, api: Callable[..., Any]
) -> None:
    first, second = _windows(api)[:2]
    files = control.get(f"/_emulator/tenants/{app_env.tenant}/machines/{first['id']}/files").json()["value"]
    sha1 = next(f["sha1"] for f in files if f["path"] == HOSTS)
    one = app_env.home / "hosts.txt"
    folder = app_env.home / "collected"
    single, missing, bad_out = parallel(  # one session per machine at a time: different machines
        live,
        ("live", "get-file", first["computerDnsName"], HOSTS, "-o", str(one), *FAST),
        ("live", "get-file", second["id"], "C:\\nowhere\\x.txt", "-o", str(app_env.home / "x"), *FAST),
        ("live", "get-file", first["id"], HOSTS, "-o", str(app_env.home / "no" / "dir" / "f"), *FAST),
    )
    many = live(
        "live", "get-file", first["id"], second["computerDnsName"], HOSTS, "-o", str(folder), "--yes", *FAST
    )
    assert single.code == 0, single.err
    assert hashlib.sha1(one.read_bytes()).hexdigest() == sha1
    (row,) = json.loads(single.out)  # piped: JSON rows
    assert (row["status"], row["path"], row["size"]) == ("Succeeded", str(one), one.stat().st_size)
    assert many.code == 0, many.err
    assert hashlib.sha1((folder / first["id"] / "hosts").read_bytes()).hexdigest() == sha1
    assert (folder / second["computerDnsName"] / "hosts").stat().st_size > 0
    assert missing.code == 1 and not (app_env.home / "x").exists()
    assert "was not found on the device" in json.loads(missing.out)[0]["error"]
    assert bad_out.code == 2 and bad_out.err.strip().startswith("error:") and "not a directory" in bad_out.err
    tool = app_env.home / "tool.exe"
    tool.write_bytes(bytes(range(256)) * 16)
    assert live("library", "upload", str(tool), "--description", "triage tool").code == 0
    put = live("live", "put-file", second["id"], "tool.exe", "-o", "json", *FAST)
    assert put.code == 0 and put.json()[0]["status"] == "Succeeded", put.err
    on_machine = control.get(f"/_emulator/tenants/{app_env.tenant}/machines/{second['id']}/files").json()
    assert any(f["path"].endswith("\\tool.exe") and f["size"] == 4096 for f in on_machine["value"])


def test_library_and_investigations_commands(
    live: Callable[..., Result], control: httpx.Client, app_env: AppEnv, api: Callable[..., Any]
) -> None:
    big = app_env.home / "big.bin"
    with big.open("wb") as f:
        f.truncate(20 * 1024 * 1024 + 1)
    before = len(journal(control))
    listed, too_big, exists, dry_delete = parallel(
        live,
        ("library", "list", "-o", "json"),
        ("library", "upload", str(big)),
        ("library", "upload", str(_script(app_env.home))),
        ("library", "delete", "triage.ps1", "--dry-run", "-o", "json"),
    )
    assert listed.code == 0 and [f["fileName"] for f in listed.json()] == ["triage.ps1"]
    assert too_big.code == 2 and "up to 20 MB" in too_big.err and len(too_big.err.strip().splitlines()) == 1
    assert exists.code == 2 and "already exists" in exists.err
    assert dry_delete.code == 0 and dry_delete.json()[0]["status"] == "WouldDelete"
    assert not _posts(control, before, "/libraryfiles")[1:]  # only the refused duplicate was sent
    deleted = live("library", "delete", "triage.ps1", "gone.ps1", "--yes", "-o", "json")
    assert deleted.code == 1 and [r["status"] for r in deleted.json()] == ["Deleted", "Error"]
    machine = _windows(api)[0]
    started = live(
        "investigations", "start", machine["computerDnsName"], "-m", "suspicious logons", "-o", "json"
    )
    assert started.code == 0, started.err
    (row,) = started.json()
    assert row["state"] == "Running" and row["investigationId"]
    assert api().investigations.get(row["investigationId"]).machine_id == machine["id"]


def test_missing_permission_is_one_line(mde: Callable[..., Result], api: Callable[..., Any]) -> None:
    machine = _windows(api)[0]
    denied = mde("live", "run-script", machine["id"], "triage.ps1", *FAST)  # the default app lacks the role
    assert denied.code == 4 and "Machine.LiveResponse" in denied.err
    assert len([ln for ln in denied.err.splitlines() if ln.startswith("error")]) == 1
