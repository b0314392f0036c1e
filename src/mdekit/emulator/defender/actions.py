"""Machine actions and their lifecycle on the virtual clock.

An action's timeline is fixed when it is created (pending seconds, run seconds, outcome, from the
control plane's timing for its type). Its status is derived lazily from the clock -- Pending, then
InProgress, then the outcome (Succeeded, Failed or TimeOut) -- whenever the tenant's actions or
machines are read; no background thread. Reaching Succeeded applies the action's effect on the
machine (isolation, code-execution restriction, offboarding).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from mdekit.emulator.clock import VirtualClock, format_odata_time
from mdekit.emulator.db import Database
from mdekit.emulator.defender.answers import AnswerForms
from mdekit.emulator.defender.jsonio import dumps, loads
from mdekit.emulator.defender.listing import ListQuery, decode, run_list
from mdekit.emulator.defender.machines import MachineStore
from mdekit.emulator.defender.wire import ApiFailure

__all__ = ["OUTCOMES", "ActionHook", "ActionStore", "ActionTiming"]

OUTCOMES = ("Succeeded", "Failed", "TimeOut")
FINAL = ("Succeeded", "Failed", "TimeOut", "Cancelled")
_DEFAULT_TIMING = {"pendingSeconds": 30.0, "runSeconds": 90.0, "outcome": "Succeeded"}
# Actions that conflict with each other while one is open (same machine).
_KIND = {
    "Isolate": "isolation",
    "Unisolate": "isolation",
    "RestrictCodeExecution": "restriction",
    "UnrestrictCodeExecution": "restriction",
}


class ActionTiming:
    """How actions progress: per type (or ``*``) pending seconds, run seconds and outcome; persisted."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def all(self) -> dict[str, dict[str, Any]]:
        """``{"*": {...}, "<Type>": {...}}``."""
        stored = self.db.get_meta("defender_action_timing") or {}
        return {"*": dict(_DEFAULT_TIMING), **stored}

    def for_type(self, action_type: str) -> dict[str, Any]:
        """The timing that applies to a new action of *action_type*."""
        timings = self.all()
        return {**timings["*"], **timings.get(action_type, {})}

    def set(self, action_type: str | None, pending: float, run: float, outcome: str) -> dict[str, Any]:
        """Set the timing for one type (or every type when *action_type* is ``None``)."""
        stored = self.db.get_meta("defender_action_timing") or {}
        stored[action_type or "*"] = {"pendingSeconds": pending, "runSeconds": run, "outcome": outcome}
        if action_type is None:  # a global setting replaces per-type ones
            stored = {"*": stored["*"]}
        self.db.set_meta("defender_action_timing", stored)
        return self.all()

    def reset(self) -> None:
        """Back to the defaults."""
        self.db.set_meta("defender_action_timing", {})


def _iso(ts: float) -> str:
    return format_odata_time(datetime.fromtimestamp(ts, UTC))


def new_action(
    action_type: str,
    machine: dict[str, Any],
    requestor: str,
    comment: str,
    now: float,
    scope: str | None = None,
    file_sha1: str | None = None,
) -> dict[str, Any]:
    """A fresh MachineAction in the real key order (service-facts §4.3)."""
    return {
        "id": str(uuid.uuid4()),
        "type": action_type,
        "title": None,
        "requestor": requestor,
        "requestorComment": comment,
        "status": "Pending",
        "machineId": machine["id"],
        "computerDnsName": machine["computerDnsName"],
        "creationDateTimeUtc": _iso(now),
        "lastUpdateDateTimeUtc": _iso(now),
        "cancellationRequestor": None,
        "cancellationComment": None,
        "cancellationDateTimeUtc": None,
        "errorHResult": 0,
        "scope": scope,
        "externalId": None,
        "requestSource": "PublicApi",
        "relatedFileInfo": {"fileIdentifier": file_sha1, "fileIdentifierType": "Sha1"} if file_sha1 else None,
        "commands": [],
        "troubleshootInfo": None,
    }


class ActionHook(Protocol):
    """What an action type adds to the lifecycle (live response: per-command progress)."""

    def progress(
        self, c: sqlite3.Connection, tenant: str, action: dict[str, Any], run_start: float, now: float
    ) -> float | None:
        """Update *action* (in place) to its state at *now* once it runs; the time of the latest
        change made, or ``None`` if nothing changed."""
        ...


class ActionStore:
    """Machine actions per tenant."""

    def __init__(self, db: Database, clock: VirtualClock, machines: MachineStore) -> None:
        self.db = db
        self.clock = clock
        self.machines = machines
        self.timing = ActionTiming(db)
        self.answers = AnswerForms()  # the list's rows in answer form (issue 19)
        #: Per action type: extra progress while it runs (registered by the type's module).
        self.hooks: dict[str, ActionHook] = {}
        #: Per action type: an effect when it succeeds, beyond the containment ones of `_apply`.
        self.effects: dict[str, Callable[[sqlite3.Connection, str, dict[str, Any]], None]] = {}

    def create(
        self,
        tenant: str,
        app_id: str,
        action: dict[str, Any],
        timeline: tuple[float, float, str] | None = None,
    ) -> dict[str, Any]:
        """Store a new action; 400 ``ActiveRequestAlreadyExists`` if one of its kind is open on
        the machine. *timeline* ``(pending seconds, run seconds, outcome)`` overrides the timing
        of its type (live response plans its own)."""
        self.settle(tenant)
        kind = _KIND.get(action["type"], action["type"])
        types = [t for t, k in _KIND.items() if k == kind] or [action["type"]]
        marks = ",".join("?" * len(types))
        timing = self.timing.for_type(action["type"])
        if timeline is not None:
            timing = {"pendingSeconds": timeline[0], "runSeconds": timeline[1], "outcome": timeline[2]}
        with self.db.tx() as c:
            busy = c.execute(
                "SELECT 1 FROM def_actions WHERE tenant = ? AND machine_id = ? AND settled = 0 "
                f"AND type IN ({marks})",
                (tenant, action["machineId"], *types),
            ).fetchone()
            if busy:
                raise ApiFailure(400, "ActiveRequestAlreadyExists", "Action is already in progress")
            c.execute(
                "INSERT INTO def_actions (tenant, id, type, status, machine_id, requestor, "
                "creation_time, app_id, "
                "created_at, pending_seconds, run_seconds, outcome, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    tenant,
                    action["id"],
                    action["type"],
                    "Pending",
                    action["machineId"],
                    action["requestor"],
                    action["creationDateTimeUtc"],
                    app_id,
                    self.clock.time(),
                    float(timing["pendingSeconds"]),
                    float(timing["runSeconds"]),
                    timing["outcome"],
                    dumps(action),
                ),
            )
        return action

    def insert_finished(
        self, c: sqlite3.Connection, tenant: str, app_id: str, actions: list[dict[str, Any]]
    ) -> int:
        """Store actions already in a final status (seeding, benchmarks) in the caller's
        transaction: nothing left to settle, no effect applied. Returns how many were written."""
        now = self.clock.time()
        rows = [
            (
                tenant,
                a["id"],
                a["type"],
                a["status"],
                a["machineId"],
                a["requestor"],
                a["creationDateTimeUtc"],
                app_id,
                now,
                0.0,
                0.0,
                a["status"],
                dumps(a),
            )
            for a in actions
            if a["status"] in FINAL
        ]
        c.executemany(
            "INSERT INTO def_actions (tenant, id, type, status, machine_id, requestor, creation_time, "
            "app_id, created_at, pending_seconds, run_seconds, outcome, settled, data) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,1,?)",
            rows,
        )
        return len(rows)

    def settle(self, tenant: str) -> None:
        """Bring every open action of *tenant* to its status at the virtual now, applying effects."""
        now = self.clock.time()
        rows = self.db.query(
            "SELECT id, type, created_at, pending_seconds, run_seconds, outcome, status, data "
            "FROM def_actions WHERE tenant = ? AND settled = 0",
            (tenant,),
        )
        if not rows:
            return
        with self.db.tx() as c:
            for row in rows:
                self._settle_row(c, tenant, row, now)

    def _settle_row(self, c: sqlite3.Connection, tenant: str, row: sqlite3.Row, now: float) -> None:
        start_run = row["created_at"] + row["pending_seconds"]
        end = start_run + row["run_seconds"]
        if now < start_run:
            return
        status, changed_at = ("InProgress", start_run) if now < end else (row["outcome"], end)
        hook = self.hooks.get(row["type"])
        if status == row["status"] and hook is None:
            return
        action = loads(row["data"])
        progressed = hook.progress(c, tenant, action, start_run, min(now, end)) if hook else None
        if status == row["status"] and progressed is None:
            return
        if status == row["status"]:
            changed_at = progressed or changed_at
        action["status"] = status
        action["lastUpdateDateTimeUtc"] = _iso(max(changed_at, progressed or changed_at))
        final = status in FINAL
        c.execute(
            "UPDATE def_actions SET status = ?, settled = ?, data = ? WHERE tenant = ? AND id = ?",
            (status, int(final), dumps(action), tenant, row["id"]),
        )
        if status == "Succeeded":
            self._apply(c, tenant, action)

    def _apply(self, c: sqlite3.Connection, tenant: str, action: dict[str, Any]) -> None:
        mid, kind = action["machineId"], action["type"]
        if kind == "Isolate":
            self.machines.set_state(c, tenant, mid, isolation=action["scope"] or "Full")
        elif kind == "Unisolate":
            self.machines.set_state(c, tenant, mid, isolation=None)
        elif kind == "RestrictCodeExecution":
            self.machines.set_state(c, tenant, mid, restricted=1)
        elif kind == "UnrestrictCodeExecution":
            self.machines.set_state(c, tenant, mid, restricted=0)
        elif kind == "Offboard":
            c.execute(
                "UPDATE def_machines SET health_status = 'Inactive', "
                "data = json_set(data, '$.healthStatus', 'Inactive') WHERE tenant = ? AND id = ?",
                (tenant, mid),
            )
        elif kind in self.effects:
            self.effects[kind](c, tenant, action)

    def get(self, tenant: str, action_id: str) -> dict[str, Any] | None:
        """One action at its current status."""
        self.settle(tenant)
        row = self.db.query_one(
            "SELECT data FROM def_actions WHERE tenant = ? AND id = ?", (tenant, action_id)
        )
        return loads(row["data"]) if row else None

    def page(self, tenant: str, query: ListQuery) -> tuple[list[dict[str, Any]], bool]:
        """A page of actions at their current status."""
        self.settle(tenant)
        rows, more = run_list(self.db, "def_actions", tenant, query)
        return decode(rows), more

    def answer_page(self, tenant: str, query: ListQuery) -> tuple[list[Any], bool]:
        """:meth:`page` for a list answer: the rows in answer form, spliced as they are (issue 19;
        dicts for ``$select``)."""
        self.settle(tenant)
        rows, more = run_list(self.db, "def_actions", tenant, query)
        return (decode(rows) if query.select is not None else self.answers.rendered(rows)), more

    def cancel(self, tenant: str, action_id: str, requestor: str, comment: str) -> dict[str, Any] | None:
        """Cancel an open action; 400 if it already finished; ``None`` if unknown."""
        action = self.get(tenant, action_id)
        if action is None:
            return None
        if action["status"] in FINAL:
            raise ApiFailure(
                400,
                "InvalidInput",
                f"Action {action_id} is already {action['status']} and cannot be cancelled",
            )
        now = _iso(self.clock.time())
        action.update(
            status="Cancelled",
            lastUpdateDateTimeUtc=now,
            cancellationRequestor=requestor,
            cancellationComment=comment,
            cancellationDateTimeUtc=now,
        )
        with self.db.tx() as c:
            c.execute(
                "UPDATE def_actions SET status = 'Cancelled', settled = 1, data = ? WHERE tenant "
                "= ? AND id = ?",
                (dumps(action), tenant, action_id),
            )
        return action
