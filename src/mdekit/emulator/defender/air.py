"""Automated investigations started through the API (``POST /api/machines/{id}/startInvestigation``).

A started investigation is an Investigation entity (initiate-autoir-investigation: 201 with the
Investigation, not a machine action) listed with the seeded ones in ``/api/investigations``. It
runs on the virtual clock: ``Running`` from the start, then its final state after the configured
time (default 15 minutes): ``SuccessfullyRemediated`` when the machine has unresolved alerts,
``Benign`` otherwise -- or the state the control plane sets. AIR supports only Windows
(Windows 10/11, Windows Server 2019 and later); on another platform the investigation ends at
once as ``UnsupportedOs`` (a state of the documented enum; that the service answers so is
UNVERIFIED).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mdekit.emulator.clock import VirtualClock, format_odata_time
from mdekit.emulator.db import Database
from mdekit.emulator.defender.filesystem import is_windows
from mdekit.emulator.defender.jsonio import dumps, loads
from mdekit.emulator.defender.renderings import unpack
from mdekit.enums import INVESTIGATION_STATES

__all__ = ["DEFAULT_TIMING", "FINAL_STATES", "InvestigationRuns"]

_META = "defender_investigation_timing"
#: How long a started investigation runs and how it ends (``None``: from the machine's alerts).
DEFAULT_TIMING: dict[str, Any] = {"runSeconds": 900.0, "state": None}
#: States a started investigation may end in (the control plane's choices).
FINAL_STATES = tuple(
    s for s in INVESTIGATION_STATES if s not in ("Running", "Queued", "PendingApproval", "PendingResource")
)


def _iso(ts: float) -> str:
    return format_odata_time(datetime.fromtimestamp(ts, UTC))


class InvestigationRuns:
    """Starts investigations and settles them to their state at the virtual now."""

    def __init__(self, db: Database, clock: VirtualClock) -> None:
        self.db = db
        self.clock = clock

    # -- timing (control plane) --
    def timing(self) -> dict[str, Any]:
        """``{"runSeconds", "state"}`` for investigations started from now on."""
        return {**DEFAULT_TIMING, **(self.db.get_meta(_META) or {})}

    def set_timing(self, run_seconds: float, state: str | None) -> dict[str, Any]:
        """Set how new investigations run."""
        self.db.set_meta(_META, {"runSeconds": run_seconds, "state": state})
        return self.timing()

    def reset(self) -> None:
        """Back to the default timing."""
        self.db.set_meta(_META, {})

    # -- lifecycle --
    def start(self, tenant: str, machine: dict[str, Any]) -> dict[str, Any]:
        """A new investigation of *machine* (Investigation entity, key order of service-facts §4.5)."""
        now = self.clock.time()
        timing = self.timing()
        with self.db.tx() as c:
            row = c.execute(
                "SELECT MAX(CAST(id AS INTEGER)) AS top FROM def_investigations WHERE tenant = tk(?)",
                (tenant,),
            ).fetchone()
            inv_id = str(max(int(row["top"] or 0) + 1, 90_000))
            supported = is_windows(machine.get("osPlatform"))
            if not supported:
                final, ends = "UnsupportedOs", now
            else:
                final, ends = (
                    timing["state"] or self._outcome(c, tenant, machine["id"]),
                    now + timing["runSeconds"],
                )
            item = {
                "id": inv_id,
                "startTime": _iso(now),
                "endTime": None if supported else _iso(now),
                "state": "Running" if supported else final,
                "cancelledBy": None,
                "statusDetails": None,
                "machineId": machine["id"],
                "computerDnsName": machine["computerDnsName"],
                "triggeringAlertId": None,
            }
            c.execute(
                "INSERT INTO def_investigations (tenant, id, start_time, state, machine_id, "
                "triggering_alert_id, data) VALUES (tk(?), ?, ?, ?, ?, ?, ?)",
                (tenant, inv_id, item["startTime"], item["state"], machine["id"], None, dumps(item)),
            )
            c.execute(
                "INSERT INTO def_investigation_runs (tenant, id, ends_at, final_state, settled) "
                "VALUES (?, ?, ?, ?, ?)",
                (tenant, inv_id, ends, final, int(not supported)),
            )
        return item

    @staticmethod
    def _outcome(c: Any, tenant: str, machine_id: str) -> str:
        open_alerts = c.execute(
            "SELECT 1 FROM def_alerts WHERE tenant = tk(?) AND machine_id = ? "
            "AND status IN ('New', 'InProgress') LIMIT 1",
            (tenant, machine_id),
        ).fetchone()
        return "SuccessfullyRemediated" if open_alerts else "Benign"

    def settle(self, tenant: str) -> None:
        """End every started investigation of *tenant* whose time has come."""
        now = self.clock.time()
        due = self.db.query(
            "SELECT id, ends_at, final_state FROM def_investigation_runs WHERE tenant = ? AND settled = 0 "
            "AND ends_at <= ?",
            (tenant, now),
        )
        if not due:
            return
        with self.db.tx() as c:
            for run in due:
                row = c.execute(
                    "SELECT data FROM def_investigations WHERE tenant = tk(?) AND id = ?", (tenant, run["id"])
                ).fetchone()
                if row is not None:
                    item = loads(unpack(row["data"]))
                    item.update(state=run["final_state"], endTime=_iso(run["ends_at"]))
                    c.execute(
                        "UPDATE def_investigations SET state = ?, data = ? WHERE tenant = tk(?) AND id = ?",
                        (run["final_state"], dumps(item), tenant, run["id"]),
                    )
                c.execute(
                    "UPDATE def_investigation_runs SET settled = 1 WHERE tenant = ? AND id = ?",
                    (tenant, run["id"]),
                )
