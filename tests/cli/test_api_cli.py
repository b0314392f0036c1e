"""API-family commands through the real `mde` script: outputs parse, exit codes match, rails hold."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from cli_helpers import AppEnv, Result, action_timing, journal, make_app, parallel, windows_machines


def _api(entries: list[dict], method: str, suffix: str) -> list[dict]:
    return [e for e in entries if e["method"] == method and e["path"].lower().endswith(suffix.lower())]


def test_alerts_list_formats_parse(mde: Callable[..., Result]) -> None:
    full, nd, sheet, table, piped = parallel(
        mde,
        ("alerts", "list", "-o", "json"),
        ("alerts", "list", "--top", "5", "-o", "ndjson"),
        ("alerts", "list", "--top", "4", "-o", "csv"),
        ("alerts", "list", "--top", "3", "-o", "table"),
        ("alerts", "list", "--top", "2"),  # no -o, stdout a pipe: JSON
    )
    rows = full.json()
    assert len(rows) == 30 and all("id" in r and "severity" in r for r in rows)
    assert len(nd.ndjson()) == 5
    parsed = list(csv.DictReader(io.StringIO(sheet.out)))
    assert len(parsed) == 4 and set(parsed[0]) >= {"id", "severity", "status", "title"}
    assert table.code == 0 and "severity" in table.out
    assert isinstance(piped.json(), list) and len(piped.json()) == 2


def test_friendly_filters_are_sent_and_respected(mde: Callable[..., Result]) -> None:
    high_run, mixed_run = parallel(
        mde,
        ("alerts", "list", "--severity", "high", "-o", "json"),
        ("alerts", "list", "--status", "New,Resolved", "--since", "3650d", "-o", "json"),
    )
    high, new_or_res = high_run.json(), mixed_run.json()
    assert high and all(r["severity"] == "High" for r in high)
    assert all(r["status"] in ("New", "Resolved") for r in new_or_res)


def test_bad_input_refused_before_sending(mde: Callable[..., Result], control: httpx.Client) -> None:
    before = len(journal(control))
    for result in parallel(
        mde,
        ("alerts", "list", "--severity", "Catastrophic"),
        ("alerts", "list", "--since", "yesterday-ish"),
        ("alerts", "list", "-o", "xml"),
        ("machines", "find", "--ip", "999.1.1.1"),
        ("files", "alerts", "not-a-hash"),
        ("machines", "quarantine", "m1", "--sha1", "xyz", "--yes"),
        ("actions", "cancel", "not-a-guid", "--yes"),
        # values come from the catalogue (mdekit.enums): an update cannot set Unknown
        ("alerts", "update", "da000000000000000000_1", "--status", "Unknown"),
        ("alerts", "update", "da000000000000000000_1", "--determination", "Aliens"),
        ("machines", "isolate", "m1", "--type", "Partial", "--yes"),
    ):
        assert result.code == 2, (result.args, result.err)
        assert result.err.startswith("error: ") and len(result.err.strip().splitlines()) == 1, result.err
        if "Unknown" in result.args:
            assert result.err.strip().endswith("choose from: New, InProgress, Resolved"), result.err
    assert len(journal(control)) == before


def test_get_and_not_found(mde: Callable[..., Result], api: Callable[..., Any]) -> None:
    first = api().alerts.list(limit=1).all()[0].to_wire()
    found, missing = parallel(
        mde, ("alerts", "get", first["id"], "-o", "json"), ("alerts", "get", "da000000000000000000_1")
    )
    assert found.json()["id"] == first["id"]
    assert missing.code == 1 and missing.err.startswith("error: ")


def test_alert_update_with_dry_run_and_audit(
    mde: Callable[..., Result], app_env: AppEnv, control: httpx.Client, api: Callable[..., Any]
) -> None:
    alert = api().alerts.list(status="New", limit=1).all()[0].to_wire()
    before = len(journal(control))
    dry = mde("alerts", "update", alert["id"], "--status", "Resolved", "--dry-run", "-o", "json")
    assert dry.code == 0 and dry.json()[0]["dryRun"] is True
    assert not _api(journal(control)[before:], "PATCH", alert["id"])
    done = mde("alerts", "update", alert["id"], "--status", "resolved", "--comment", "triaged", "-o", "json")
    assert done.code == 0 and done.json()[0]["status"] == "Resolved"
    lines = [json.loads(x) for x in (app_env.home / "audit.jsonl").read_text().splitlines()]
    assert lines[-1]["action"] == "alerts.update" and lines[-1]["target"] == alert["id"]
    assert {"time", "user", "tenant", "result"} <= set(lines[-1])


def test_machines_list_get_find_tag(mde: Callable[..., Result]) -> None:
    machines = mde("machines", "list", "-o", "json").json()
    assert len(machines) == 6
    name = machines[0]["computerDnsName"]
    got, tagged = parallel(
        mde,
        ("machines", "get", name, "-o", "json"),
        ("machines", "tag", name, "--add", "cli-test", "-o", "json"),
    )
    assert got.json()["id"] == machines[0]["id"]
    assert tagged.code == 0 and "cli-test" in tagged.json()[0]["machineTags"]
    found = mde("machines", "find", "--tag", "cli-test", "-o", "json").json()
    assert [m["id"] for m in found] == [machines[0]["id"]]


def test_isolate_rails_dry_run_confirm_wait_resume(
    mde: Callable[..., Result],
    app_env: AppEnv,
    control: httpx.Client,
    tmp_path: Path,
    api: Callable[..., Any],
) -> None:
    action_timing(control, 0, 0.2)
    machines = windows_machines(api())
    names = [m.computer_dns_name for m in machines[:2]]
    bulk = tmp_path / "targets.csv"
    bulk.write_text("computerDnsName,owner\n" + "".join(f"{n},ops\n" for n in names))
    before = len(journal(control))
    dry = mde("machines", "isolate", "--from-file", str(bulk), "--dry-run", "-o", "json")
    assert dry.code == 0 and [r["target"] for r in dry.json()] == names
    refused = mde("machines", "isolate", "--from-file", str(bulk))  # 2 machines, no --yes, no terminal
    assert refused.code == 2 and "--yes" in refused.err
    assert not _api(journal(control)[before:], "POST", "/isolate")
    state = tmp_path / "state.txt"
    state.write_text(names[0] + "\n")  # pretend an earlier run did the first one
    ran = mde(
        "machines",
        "isolate",
        "--from-file",
        str(bulk),
        "--yes",
        "--wait",
        "--interval",
        "0.1",
        "--state-file",
        str(state),
        "-o",
        "json",
    )
    assert ran.code == 0, ran.err
    rows = {r["target"]: r for r in ran.json()}
    assert rows[names[0]]["status"] == "Skipped" and rows[names[1]]["status"] == "Succeeded"
    assert len(_api(journal(control)[before:], "POST", "/isolate")) == 1
    assert state.read_text().split() == names
    audit = (app_env.home / "audit.jsonl").read_text()
    assert '"action": "isolate"' in audit and app_env.secret not in audit


def test_missing_permission_exit_4_nothing_sent(
    mde: Callable[..., Result], app_env: AppEnv, control: httpx.Client, api: Callable[..., Any]
) -> None:
    app_id, secret = make_app(control, app_env.tenant, ["Machine.Read.All"], name="reader")
    app_env.secrets.append(secret)
    machine = api().machines.list(limit=1).all()[0].to_wire()
    before = len(journal(control))
    result = mde(
        "machines", "isolate", machine["id"], env={"AZURE_CLIENT_ID": app_id, "AZURE_CLIENT_SECRET": secret}
    )
    assert result.code == 4 and "Machine.Isolate" in result.err
    assert not _api(journal(control)[before:], "POST", "/isolate")


def test_actions_list_get_cancel(
    mde: Callable[..., Result], control: httpx.Client, api: Callable[..., Any]
) -> None:
    action_timing(control, 3600, 60)
    machine = windows_machines(api())[0]
    started = mde("machines", "scan", machine.id, "--type", "quick", "-o", "json").json()[0]
    assert started["status"] == "Pending"
    listed, got = parallel(
        mde,
        ("actions", "list", "--type", "RunAntiVirusScan", "-o", "json"),
        ("actions", "get", started["actionId"], "-o", "json"),
    )
    assert started["actionId"] in [a["id"] for a in listed.json()]
    assert got.json()["type"] == "RunAntiVirusScan"
    cancelled = mde("actions", "cancel", started["actionId"], "-o", "json")
    assert cancelled.code == 0 and cancelled.json()[0]["status"] == "Cancelled"


def test_indicators_add_import_list_delete(mde: Callable[..., Result], tmp_path: Path) -> None:
    sheet = tmp_path / "iocs.csv"
    sheet.write_text(
        "indicatorValue,indicatorType,action,title,description\n"
        "10.9.9.9,IpAddress,Block,ip,bad ip\nbad.example,DomainName,Audit,d,bad domain\n"
    )
    header_only = tmp_path / "empty.csv"
    header_only.write_text("indicatorValue,indicatorType,action,title,description\n")
    add = ("indicators", "add", "evil.example", "--type", "DomainName", "--action", "block")
    added, imported, empty = parallel(
        mde,
        (*add, "--title", "t", "--description", "d", "-o", "json"),
        ("indicators", "import", str(sheet), "-o", "json"),
        ("indicators", "import", str(header_only), "-o", "json"),
    )
    assert added.code == 0, added.err
    assert imported.code == 0, imported.err
    assert len(imported.json()) == 2 and not any(r["isFailed"] for r in imported.json())
    assert empty.code == 2 and "no indicators" in empty.err and not empty.out  # not a silent success
    listed = mde("indicators", "list", "-o", "json").json()
    assert {"evil.example", "10.9.9.9", "bad.example"} <= {i["indicatorValue"] for i in listed}
    gone = mde("indicators", "delete", *[i["id"] for i in listed], "--yes", "-o", "json")
    assert gone.code == 0 and mde("indicators", "list", "-o", "json").json() == []


def test_entities_and_investigations(mde: Callable[..., Result], api: Callable[..., Any]) -> None:
    machine = api().machines.list(limit=1).all()[0].to_wire()
    alerts, investigations = parallel(
        mde,
        ("ips", "alerts", machine["lastIpAddress"], "-o", "json"),
        ("investigations", "list", "-o", "json"),
    )
    assert alerts.code == 0 and isinstance(alerts.json(), list)
    assert investigations.code == 0 and isinstance(investigations.json(), list)


def test_fan_out_over_tenants_tags_rows(
    mde: Callable[..., Result], app_env: AppEnv, control: httpx.Client
) -> None:
    other = control.post("/_emulator/tenants", json={"displayName": "Fabrikam"}).json()["tenantId"]
    control.post(f"/_emulator/tenants/{other}/seed", json={"machines": 2, "alerts": 4, "seed": 9})
    control.post(f"/_emulator/tenants/{other}/consent", json={"appId": app_env.app_id})
    rows = mde("alerts", "list", "--tenant", app_env.tenant, "--tenant", other, "-o", "json").json()
    by_tenant = {t: [r for r in rows if r["tenant"] == t] for t in (app_env.tenant, other)}
    assert len(by_tenant[app_env.tenant]) == 30 and len(by_tenant[other]) == 4
    assert all(r["aadTenantId"] == other for r in by_tenant[other])


def test_throttled_past_the_retry_budget_exits_5(mde: Callable[..., Result], control: httpx.Client) -> None:
    # Retry-After beyond the client's cap: the client gives up at once instead of sleeping.
    plan = {"method": "GET", "path": "/api/alerts", "status": 429, "retryAfter": 3600, "every": 1}
    assert control.post("/_emulator/faults", json=plan).status_code < 300
    result = mde("alerts", "list", "--top", "1")
    assert result.code == 5 and result.err.startswith("error: ")
    assert len(result.err.strip().splitlines()) == 1
