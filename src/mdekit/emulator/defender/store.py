"""Defender for Endpoint data (alerts, incidents, machines, actions, indicators, ...) - SQLite, no HTTP.

:class:`DefenderStore` composes one store per family over the shared database and clock, plus
the per-app throttle. Everything is keyed by tenant id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mdekit.emulator.clock import VirtualClock
from mdekit.emulator.db import Database
from mdekit.emulator.defender.actions import ActionStore
from mdekit.emulator.defender.air import InvestigationRuns
from mdekit.emulator.defender.alerts import READ_COLUMNS, AlertStore, alert_from_row
from mdekit.emulator.defender.evidence import expand
from mdekit.emulator.defender.filesystem import MachineFiles
from mdekit.emulator.defender.indicators import IndicatorStore
from mdekit.emulator.defender.indicators import upgrade as upgrade_indicators
from mdekit.emulator.defender.jsonio import loads
from mdekit.emulator.defender.library import LibraryStore
from mdekit.emulator.defender.listing import Cursors
from mdekit.emulator.defender.live import LiveResponse
from mdekit.emulator.defender.lookups import LookupStore
from mdekit.emulator.defender.machines import MachineStore
from mdekit.emulator.defender.migrate import upgrade
from mdekit.emulator.defender.sas import SasSigner
from mdekit.emulator.defender.schema import SCHEMA, TABLES
from mdekit.emulator.defender.tenantkeys import tenant_cond
from mdekit.emulator.defender.throttling import Throttle
from mdekit.emulator.defender.tvm.exports import FileExports
from mdekit.emulator.defender.tvm.store import TvmStore
from mdekit.emulator.incidents.store import IncidentStore

__all__ = ["DefenderStore"]


class DefenderStore:
    """Per-tenant Defender records."""

    def __init__(self, db: Database, clock: VirtualClock) -> None:
        self.db = db
        self.clock = clock
        db.script(SCHEMA)
        upgrade(db)  # a data file from an earlier emulator: rewritten once to the current layout
        upgrade_indicators(db)  # likewise its indicators, to the answer's shape
        self.machines = MachineStore(db, clock)
        self.alerts = AlertStore(db, clock)
        self.incidents = IncidentStore(db, clock, self.alerts)
        self.actions = ActionStore(db, clock, self.machines)
        self.indicators = IndicatorStore(db, clock)
        self.lookups = LookupStore(db)
        self.tvm = TvmStore(db, clock, self.machines)
        self.tvm_files = FileExports(self.tvm)
        self.throttle = Throttle(clock)
        # Live response, its library, the machines' file systems, started investigations (issue 15)
        self.library = LibraryStore(db, clock)
        self.files = MachineFiles(db, clock)
        self.live = LiveResponse(
            db, clock, self.machines, self.actions, self.library, self.files, self.throttle
        )
        self.air = InvestigationRuns(db, clock)
        self.links = SasSigner(db, clock, "defender_link_key")  # live response results, packages
        self.cursors = Cursors(db)  # the lists' $skiptoken (issue 19)
        self.actions.effects["StopAndQuarantineFile"] = self._quarantine

    def _quarantine(self, c: Any, tenant: str, action: dict[str, Any]) -> None:
        """A succeeded StopAndQuarantineFile removes the files with its SHA-1 from the machine."""
        sha1 = (action.get("relatedFileInfo") or {}).get("fileIdentifier")
        machine = self.machines.get(tenant, action["machineId"])
        if sha1 and machine is not None:
            self.files.quarantine(c, tenant, machine, sha1)

    def reset(self) -> None:
        """Delete every Defender record; restore default action timing and throttle settings."""
        with self.db.tx() as c:
            for table in (*TABLES, *TvmStore.TABLES):
                c.execute(f"DELETE FROM {table}")
        self.actions.timing.reset()
        self.throttle.reset()
        self.live.scripts.reset()
        self.air.reset()

    def delete_tenant(self, tenant: str) -> None:
        """Delete one tenant's records."""
        with self.db.tx() as c:
            for table in (*TABLES, *TvmStore.TABLES):
                c.execute(f"DELETE FROM {table} WHERE {tenant_cond(table)}", (tenant,))

    def counts(self, tenant: str) -> dict[str, int]:
        """How many records of each family a tenant has."""
        names = {
            "def_machines": "machines",
            "def_alerts": "alerts",
            "def_actions": "machineActions",
            "def_indicators": "indicators",
            "def_investigations": "investigations",
            "def_incidents": "incidents",
            "def_files": "files",
            "def_users": "users",
            "tvm_installs": "softwareInstalls",
        }
        out = {}
        for table, name in names.items():
            row = self.db.query_one(
                f"SELECT COUNT(*) AS c FROM {table} WHERE {tenant_cond(table)}", (tenant,)
            )
            out[name] = int(row["c"]) if row else 0
        return out

    # -- read access for the hunting tables (issue 4) --
    def iter_machines(self, tenant: str) -> Iterator[dict[str, Any]]:
        """Every machine of *tenant* (API shape), in insertion order."""
        self.actions.settle(tenant)
        for row in self.db.query("SELECT data FROM def_machines WHERE tenant = ? ORDER BY n", (tenant,)):
            yield loads(row["data"])

    def iter_alerts(self, tenant: str) -> Iterator[dict[str, Any]]:
        """Every alert of *tenant* with its ``evidence`` filled in, in insertion order."""
        columns = ", ".join(f"a.{c.strip()}" for c in READ_COLUMNS.split(","))
        for row in self.db.query(
            f"SELECT {columns}, e.evidence FROM def_alerts a JOIN def_alert_evidence e ON e.n = a.n "
            "WHERE a.tenant = tk(?) ORDER BY a.n",
            (tenant,),
        ):
            alert = alert_from_row(row)
            alert["evidence"] = expand(row["evidence"])
            yield alert

    def iter_users(self, tenant: str) -> Iterator[dict[str, Any]]:
        """Every user of *tenant* with ``machineIds`` (machines it logged on to)."""
        links: dict[str, list[str]] = {}
        for row in self.db.query(
            "SELECT machine_id, user_id FROM def_machine_users WHERE tenant = ?", (tenant,)
        ):
            links.setdefault(row["user_id"].lower(), []).append(row["machine_id"])
        for row in self.db.query("SELECT data FROM def_users WHERE tenant = ? ORDER BY id", (tenant,)):
            user = loads(row["data"])
            yield {**user, "machineIds": links.get(user["id"].lower(), [])}
