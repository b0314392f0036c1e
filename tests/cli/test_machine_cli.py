"""The newer commands through the real `mde` script: machine look-ups, device value, dry runs that
resolve names, alert batch updates, investigation package links.

Independent runs of one test go out a few at a time (``parallel``) to keep the suite fast; every
assertion is on what a user sees (output, exit code) or on the emulator's journal.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from cli_helpers import AppEnv, Result, action_timing, journal, parallel, windows_machines


def _api(entries: list[dict[str, Any]], method: str, suffix: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["method"] == method and e["path"].lower().endswith(suffix.lower())]


def _one_error_line(result: Result, code: int) -> None:
    assert result.code == code, (result.args, result.err)
    lines = [ln for ln in result.err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if not ln.startswith(("Usage: ", "Try '"))]
    assert len(errors) == 1 and errors[0].lower().startswith("error"), result.err


def test_machine_lookups_device_value_and_dry_run(
    mde: Callable[..., Result], control: httpx.Client, api: Callable[..., Any]
) -> None:
    machines = [m.to_wire() for m in api().machines.list()]
    alerts = [a.to_wire() for a in api().alerts.list()]
    first, second = machines[0], machines[1]
    name = first["computerDnsName"]
    before = len(journal(control))
    users, on_machine, dry_value, dry_isolate, bad_value, dry_tag = parallel(
        mde,
        ("machines", "logon-users", name, "-o", "json"),
        ("machines", "alerts", name, "--status", "new", "-o", "json"),
        ("machines", "set-device-value", name, second["id"], "--value", "low", "--dry-run", "-o", "json"),
        ("machines", "isolate", name, "no-such-host", second["id"], "--dry-run", "-o", "json"),
        ("machines", "set-device-value", name, "--value", "Priceless"),
        ("machines", "tag", name, "--add", "vip", "--dry-run", "-o", "json"),
    )
    assert users.code == 0 and users.json() and all(u["accountName"] for u in users.json())
    expected = {a["id"] for a in alerts if a["machineId"] == first["id"] and a["status"] == "New"}
    assert on_machine.code == 0 and {a["id"] for a in on_machine.json()} == expected
    # names were resolved to ids by a GET; the per-machine calls then went to the id
    done = journal(control)[before:]
    assert _api(done, "GET", f"/api/machines/{first['id']}/logonusers")
    assert _api(done, "GET", f"/api/machines/{first['id']}/alerts")
    assert dry_value.code == 0
    assert [(r["target"], r["machineId"], r["deviceValue"], r["status"]) for r in dry_value.json()] == [
        (name, first["id"], "Low", "WouldRun"),
        (second["id"], second["id"], "Low", "WouldRun"),
    ]
    plan = {r["target"]: r for r in dry_isolate.json()}
    assert dry_isolate.code == 1  # a name that matches no machine is reported now, not mid-run
    assert plan[name]["machineId"] == first["id"] and plan[name]["status"] == "WouldRun"
    assert plan[second["id"]]["status"] == "WouldRun" and plan["no-such-host"]["status"] == "Error"
    _one_error_line(bad_value, 2)
    assert [(r["machineId"], r["tag"], r["status"]) for r in dry_tag.json()] == [
        (first["id"], "vip", "WouldRun")
    ]
    sent = [e for e in journal(control)[before:] if e["method"] != "GET" and e["path"].startswith("/api/")]
    assert not sent, "a dry run sent a change"

    changed = mde(
        "machines", "set-device-value", name, second["id"], "--value", "High", "--yes", "-o", "json"
    )
    assert changed.code == 0 and [r["deviceValue"] for r in changed.json()] == ["High", "High"]
    assert len(_api(journal(control)[before:], "POST", "/setDeviceValue")) == 2
    assert api().machines.get(first["id"]).device_value == "High"


def test_alerts_update_many_ids_uses_batch_update_500_a_call(
    mde: Callable[..., Result],
    app_env: AppEnv,
    control: httpx.Client,
    tmp_path: Path,
    api: Callable[..., Any],
) -> None:
    other = control.post("/_emulator/tenants", json={"displayName": "Bulk"}).json()["tenantId"]
    control.post(f"/_emulator/tenants/{other}/seed", json={"machines": 3, "alerts": 501, "seed": 5})
    control.post(f"/_emulator/tenants/{other}/consent", json={"appId": app_env.app_id})
    on_other = ("--tenant", other, "-o", "json")
    ids = [a.id for a in api(other).alerts.list()]
    assert len(ids) == 501
    # two ids as arguments, the rest (and one repeat) from a CSV with an id column
    queue = tmp_path / "queue.csv"
    queue.write_text("id,title\n" + "".join(f"{i},x\n" for i in ids[1:]))
    before = len(journal(control))
    done = mde(
        "alerts", "update", ids[0], ids[1], "--from-file", str(queue), "--status", "Resolved",
        "--assigned-to", "soc@contoso.com", "-y", *on_other,
    )  # fmt: skip
    assert done.code == 0, done.err
    assert [r["id"] for r in done.json()] == ids and {r["result"] for r in done.json()} == {"updated"}
    sent = journal(control)[before:]
    assert len(_api(sent, "POST", "/api/alerts/batchUpdate")) == 2 and not _api(sent, "PATCH", ids[0])
    left = "assignedTo ne 'soc@contoso.com' or status ne 'Resolved'"
    assert api(other).alerts.list(filter=left).all() == []
    audit = (app_env.home / "audit.jsonl").read_text()
    assert audit.count('"alerts.batch_update"') == 501 and ids[-1] in audit


def test_actions_package_uri(
    mde: Callable[..., Result], control: httpx.Client, api: Callable[..., Any]
) -> None:
    action_timing(control, 0, 0.2)
    machine = windows_machines(api())[0]
    collected = mde("machines", "collect", machine.id, "--wait", "--interval", "0.1", "-o", "json")
    assert collected.code == 0, collected.err
    action_id = collected.json()[0]["actionId"]
    before = len(journal(control))
    link, bare = parallel(
        mde,
        ("actions", "package-uri", action_id, "-o", "json"),
        ("actions", "package-uri", action_id, "-o", "table"),
    )
    assert link.code == 0 and link.json()["actionId"] == action_id
    assert link.json()["value"].startswith("https://") and action_id in link.json()["value"]
    # the same blob; each link is signed when asked for (start/expiry in it), so compare the paths
    assert bare.code == 0 and bare.out.strip().split("?")[0] == link.json()["value"].split("?")[0]
    assert "sig=" in bare.out
    assert len(_api(journal(control)[before:], "GET", "/getPackageUri")) == 2
