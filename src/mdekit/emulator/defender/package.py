"""The investigation package a CollectInvestigationPackage action collected: a real zip.

Its folders follow the portal's description of the package (processes, network connections,
users, system information...; exact folder and file names UNVERIFIED). The contents come from
the machine's record, the users who logged on and its alerts' evidence, and are the same bytes
every time for the same action (entries dated at the action's creation).
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from typing import Any

from mdekit.emulator.clock import parse_time
from mdekit.emulator.defender.evidence import expand
from mdekit.emulator.defender.store import DefenderStore

__all__ = ["build_package"]


def _csv(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _evidence(defender: DefenderStore, tenant: str, machine_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for row in defender.db.query(
        "SELECT e.evidence FROM def_alerts a JOIN def_alert_evidence e ON e.n = a.n "
        "WHERE a.tenant = tk(?) AND a.machine_id = ? ORDER BY a.n",
        (tenant, machine_id),
    ):
        items.extend(expand(row["evidence"]))
    return items


def build_package(defender: DefenderStore, tenant: str, action: dict[str, Any]) -> bytes:
    """The zip for *action* (a succeeded CollectInvestigationPackage)."""
    machine = defender.machines.get(tenant, action["machineId"]) or {
        "id": action["machineId"],
        "computerDnsName": action.get("computerDnsName"),
    }
    evidence = _evidence(defender, tenant, machine["id"])
    processes = [["ProcessId", "ParentProcessId", "Name", "CommandLine", "CreationTime"]] + [
        [
            e["processId"],
            e["parentProcessId"],
            e["fileName"],
            e["processCommandLine"],
            e["processCreationTime"],
        ]
        for e in evidence
        if e["entityType"] == "Process"
    ]
    connections = ["Proto  Local Address          Foreign Address        State"] + [
        f"TCP    {machine.get('lastIpAddress') or '0.0.0.0'}:49{i % 900 + 100:03d}      {e['ipAddress']}:443"
        "        ESTABLISHED"
        for i, e in enumerate(evidence)
        if e["entityType"] == "Ip"
    ]
    users = defender.lookups.logon_users(tenant, machine["id"])
    files = {
        "Processes/Processes.csv": _csv(processes),
        "Network connections/ActiveNetConnections.txt": "\r\n".join(connections) + "\r\n",
        "Users and Groups/LogonUsers.csv": _csv(
            [["AccountDomain", "AccountName", "LogonTypes", "LastSeen"]]
            + [[u["accountDomain"], u["accountName"], u.get("logonTypes"), u.get("lastSeen")] for u in users]
        ),
        "System Information/SystemInformation.txt": "".join(
            f"{key}: {machine.get(key)}\r\n"
            for key in (
                "computerDnsName",
                "osPlatform",
                "version",
                "osBuild",
                "osArchitecture",
                "agentVersion",
            )
        ),
        "CollectionSummaryReport.txt": (
            f"Investigation package of {machine.get('computerDnsName')} ({machine['id']})\r\n"
            f"Machine action {action['id']} requested by {action.get('requestor')}: "
            f"{action.get('requestorComment')}\r\n"
        ),
    }
    when: datetime = parse_time(action["creationDateTimeUtc"])
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()
