"""Durability: SIGKILL ``mde emulator serve --data FILE`` during a write load, restart on the same file.

Writers create machine actions, submit indicators and update alerts, and record every write the
server acknowledged (2xx). After the kill and a restart on the same SQLite file: every acknowledged
write is there, as acknowledged (an alert may show a later write that was in flight when the
server died, never an older one), every record reads back whole, and SQLite's integrity check
passes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from rel_helpers import ServedEmulator, new_app, serve, token

WORKERS = 4
ACTION_TYPES = [
    ("runAntiVirusScan", {"ScanType": "Quick"}),
    ("collectInvestigationPackage", {}),
    ("restrictCodeExecution", {}),
    ("unrestrictCodeExecution", {}),
]


class Ledger:
    """What the server acknowledged (and what was still in flight when it died)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.actions: dict[str, dict[str, Any]] = {}
        self.indicators: dict[str, str] = {}  # indicator value -> id
        self.alert_sent: dict[str, list[str]] = {}  # alert id -> assignedTo values in send order
        self.alert_acked: dict[str, int] = {}  # alert id -> index of the last acknowledged value
        self.errors: list[str] = []


def _writer(
    n: int,
    emu: ServedEmulator,
    headers: dict[str, str],
    machines: list[str],
    alerts: list[str],
    ledger: Ledger,
    stop: threading.Event,
) -> None:
    """One writer: round-robin over an action, an indicator and an alert update, on its own objects."""
    with emu.client(headers=headers, timeout=10) as api:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                _one_write(n, i, api, machines, alerts, ledger)
            except (httpx.TransportError, httpx.TimeoutException):
                return  # the server is gone: whatever was in flight is unacknowledged
            time.sleep(0.003)


def _one_write(
    n: int, i: int, api: httpx.Client, machines: list[str], alerts: list[str], ledger: Ledger
) -> None:
    kind = i % 3
    if kind == 0:
        machine = machines[(i // 3) % len(machines)]
        name, extra = ACTION_TYPES[(i // 3) % len(ACTION_TYPES)]
        r = api.post(f"/api/machines/{machine}/{name}", json={"Comment": f"w{n}-{i}", **extra})
        if r.status_code == 201:
            with ledger.lock:
                ledger.actions[r.json()["id"]] = {"machineId": machine, "comment": f"w{n}-{i}"}
    elif kind == 1:
        value = f"w{n}-{i}.durability.example"
        body = {
            "indicatorValue": value,
            "indicatorType": "DomainName",
            "action": "Alert",
            "title": f"t{n}-{i}",
            "description": "durability",
        }
        r = api.post("/api/indicators", json=body)
        if r.status_code == 200:
            with ledger.lock:
                ledger.indicators[value] = str(r.json()["id"])
    else:
        alert = alerts[(i // 3) % len(alerts)]
        who = f"w{n}-{i}@contoso.com"
        with ledger.lock:
            ledger.alert_sent.setdefault(alert, []).append(who)
            index = len(ledger.alert_sent[alert]) - 1
        r = api.patch(f"/api/alerts/{alert}", json={"assignedTo": who, "status": "InProgress"})
        if r.status_code == 200:
            with ledger.lock:
                ledger.alert_acked[alert] = index
    if r.status_code >= 500:
        ledger.errors.append(f"{r.status_code} {r.text[:200]}")


def _check_restarted(emu: ServedEmulator, headers: dict[str, str], ledger: Ledger) -> None:
    with emu.client(headers=headers) as api:
        for action_id, want in ledger.actions.items():
            got = api.get(f"/api/machineactions/{action_id}")
            assert got.status_code == 200, (action_id, got.text)
            assert got.json()["machineId"] == want["machineId"]
            assert got.json()["requestorComment"] == want["comment"]
        listed = {i["indicatorValue"]: i for i in api.get("/api/indicators").json()["value"]}
        for value, ident in ledger.indicators.items():
            assert value in listed and str(listed[value]["id"]) == ident, value
        for item in listed.values():  # whole records only
            assert item["title"] and item["indicatorType"] == "DomainName" and item["action"] == "Alert"
        for alert, index in ledger.alert_acked.items():
            got = api.get(f"/api/alerts/{alert}").json()
            sent = ledger.alert_sent[alert]
            assert got["assignedTo"] in sent[index : index + 2], (alert, got["assignedTo"], sent[index])
            assert got["status"] == "InProgress"


@pytest.mark.parametrize("load_seconds", [1.5, pytest.param(6.0, marks=pytest.mark.slow)])
def test_sigkill_during_writes_keeps_every_acknowledged_write(tmp_path: Path, load_seconds: float) -> None:
    data = tmp_path / "durable.db"
    emu = serve(tmp_path, data)
    try:
        with emu.client() as control:
            app = new_app(control)
            seeded = control.post(
                f"/_emulator/tenants/{app['tid']}/seed", json={"machines": 24, "alerts": 40}
            )
            assert seeded.status_code == 200, seeded.text
            control.post("/_emulator/throttling", json={"enabled": False})
            headers = {"Authorization": f"Bearer {token(control, app)}"}
            machines = [m["id"] for m in control.get("/api/machines", headers=headers).json()["value"]]
            alerts = [a["id"] for a in control.get("/api/alerts", headers=headers).json()["value"]]
        ledger, stop = Ledger(), threading.Event()
        threads = [
            threading.Thread(
                target=_writer, args=(n, emu, headers, machines[n::WORKERS], alerts[n::WORKERS], ledger, stop)
            )
            for n in range(WORKERS)
        ]
        for t in threads:
            t.start()
        time.sleep(load_seconds)
        emu.kill()  # mid-load: the writers are still sending
        stop.set()
        for t in threads:
            t.join(timeout=15)
    finally:
        emu.stop()
    assert not ledger.errors, ledger.errors[:3]
    assert len(ledger.actions) > 5 and len(ledger.indicators) > 5 and len(ledger.alert_acked) > 5
    with sqlite3.connect(data) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    restarted = serve(tmp_path, data)
    try:
        _check_restarted(restarted, headers, ledger)  # the token from before the kill still verifies
    finally:
        restarted.stop()
