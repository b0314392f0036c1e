"""Incidents over the MDE alerts: one record per incident, its alerts are ``def_alerts`` rows.

No HTTP here. An incident's ``severity`` is its alerts' highest ("the severity of an incident is
determined by the highest severity of the alerts associated with it", manage-incidents); assigning
an incident assigns its alerts, resolving it resolves its active alerts (same page); a change to
one of its alerts updates its ``lastUpdateTime`` (:meth:`AlertStore.save`). Moving every alert out
of an incident, or merging it into another, leaves it ``Redirected`` with ``redirectIncidentId``.

Records are dicts of the XDR property names (``id``, ``name``, ``status``, ``severity``,
``assignedTo``, ``classification``, ``determination``, ``createdTime``, ``lastUpdateTime``,
``redirectIncidentId``, ``tags``, ``comments``) with stored (PascalCase) values.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from mdekit.emulator.clock import VirtualClock, format_odata_time
from mdekit.emulator.db import Database
from mdekit.emulator.defender.alerts import (
    COLUMN_FIELDS,
    READ_COLUMNS,
    TITLE_SQL,
    AlertStore,
    alert_from_row,
)
from mdekit.emulator.defender.jsonio import dumps, loads
from mdekit.emulator.defender.renderings import unpack
from mdekit.emulator.incidents.vocab import SEVERITY_ORDER

__all__ = ["IncidentStore", "incident_name", "incident_row"]

_COLS = (
    "id, name, status, severity, assigned_to, classification, determination, created_time, "
    "last_update_time, redirect_id, tags, comments"
)
_KEYS = (
    "id",
    "name",
    "status",
    "severity",
    "assignedTo",
    "classification",
    "determination",
    "createdTime",
    "lastUpdateTime",
    "redirectIncidentId",
    "tags",
    "comments",
)
_RANK = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SEVERITY_ORDER))
# A resolved incident's triage: its last alert's [classification, determination] (as the seed does).
_TRIAGE = (
    "CASE WHEN SUM(status != 'Resolved') = 0 THEN (SELECT json_extract(alert_json(b.data), "
    "'$.classification', '$.determination') "
    "FROM def_alerts b WHERE b.tenant = def_alerts.tenant AND b.incident_id = def_alerts.incident_id "
    "ORDER BY b.n DESC LIMIT 1) END"
)
# One row per incident of a tenant's alerts (the seed's incidents; a data file from before incidents).
# MIN/MAX instead of COUNT(DISTINCT): two categories (or machines) differ iff their MIN and MAX do.
_TITLE_SQL = TITLE_SQL.format(a="")
_FROM_ALERTS = f"""
SELECT incident_id, MIN({_TITLE_SQL}), MIN(category), MAX(category), MIN(machine_id) != MAX(machine_id),
  SUM(status != 'Resolved'), SUM(status = 'InProgress'), MAX(CASE severity {_RANK} ELSE 0 END),
  MAX(assigned_to), {_TRIAGE}, MIN(alert_creation_time), MAX(last_update_time)
FROM def_alerts WHERE tenant = tk(?) AND incident_id IS NOT NULL {{extra}}
GROUP BY incident_id ORDER BY incident_id
"""


def incident_name(titles: list[str], categories: set[str], machines: int) -> str:
    """The portal's automatic name: the alert's title for one kind of alert, else "Multi-stage"."""
    where = "one endpoint" if machines <= 1 else "multiple endpoints"
    if len(categories) <= 1:
        return f"{min(titles) if titles else 'Incident'} on {where}"
    ordered = sorted(categories)
    return f"Multi-stage incident involving {ordered[0]} & {ordered[-1]} on {where}"


def _record(row: Any) -> dict[str, Any]:
    out = dict(zip(_KEYS, row, strict=True))
    out["tags"], out["comments"] = loads(out["tags"]), loads(out["comments"])
    return out


def _grouped(tenant: str, row: Any) -> tuple[Any, ...]:
    """An incident row from one ``_FROM_ALERTS`` group."""
    iid, title, cat_lo, cat_hi, several, open_, running, rank, who, triage, first, last = row
    status = "Resolved" if not open_ else ("InProgress" if running else "Active")
    cls, det = loads(triage) if triage and status == "Resolved" else (None, None)
    name = incident_name([title], {cat_lo, cat_hi}, 2 if several else 1)
    return (tenant, iid, name, status, SEVERITY_ORDER[rank], who, cls, det, first, last, None, "[]", "[]")


#: Positions in an alert row of :meth:`AlertStore.insert_rows` (``tenant``, the column fields, ``data``).
_AT = {k: 1 + i for i, k in enumerate(COLUMN_FIELDS)}
_DATA_AT = 1 + len(COLUMN_FIELDS)


_STATUS, _SEVERITY, _CATEGORY = _AT["status"], _AT["severity"], _AT["category"]
_MACHINE, _TITLE, _ASSIGNED = _AT["machineId"], _AT["title"], _AT["assignedTo"]
_CREATED, _UPDATED = _AT["alertCreationTime"], _AT["lastUpdateTime"]
_RANKS = {s: i for i, s in enumerate(SEVERITY_ORDER)}


def incident_row(
    tenant: str, iid: int, rows: list[tuple[Any, ...]], triage: tuple[Any, Any] | None = None
) -> tuple[Any, ...]:
    """The incident row for alert rows (the seed's: one incident's alerts, as they are inserted).

    Same rules as :meth:`IncidentStore.rebuild`: all resolved -> ``Resolved`` (the last alert's triage),
    any in progress -> ``InProgress``, else ``Active``; the highest severity; the first title.
    (One pass: the seed calls it for every incident.) *triage*: the last alert's (classification,
    determination) when the caller knows them (else read from its rendering).
    """
    first = rows[0]
    rank, who, created, updated = (
        _RANKS.get(first[_SEVERITY], 0),
        first[_ASSIGNED],
        first[_CREATED],
        first[_UPDATED],
    )
    resolved = running = 0
    categories, machines, titles = {first[_CATEGORY]}, {first[_MACHINE]}, [first[_TITLE]]
    for r in rows:
        status = r[_STATUS]
        resolved += status == "Resolved"
        running += status == "InProgress"
        if len(rows) > 1:
            rank = max(rank, _RANKS.get(r[_SEVERITY], 0))
            who = max(who or "", r[_ASSIGNED] or "") or None
            created, updated = min(created, r[_CREATED]), max(updated, r[_UPDATED])
            categories.add(r[_CATEGORY])
            machines.add(r[_MACHINE])
            titles.append(r[_TITLE])
    status = "Resolved" if resolved == len(rows) else ("InProgress" if running else "Active")
    cls = det = None
    if status == "Resolved" and triage is not None:
        cls, det = triage
    elif status == "Resolved":
        data = loads(unpack(rows[-1][_DATA_AT]))
        cls, det = data["classification"], data["determination"]
    name = incident_name(titles, categories, len(machines))
    return (
        tenant,
        iid,
        name,
        status,
        SEVERITY_ORDER[rank],
        who,
        cls,
        det,
        created,
        updated,
        None,
        "[]",
        "[]",
    )


_INSERT = (
    "INSERT INTO def_incidents (tenant, id, name, status, severity, assigned_to, classification, "
    "determination, created_time, last_update_time, redirect_id, tags, comments) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class IncidentStore:
    """Incidents per tenant, over the tenant's alerts."""

    def __init__(self, db: Database, clock: VirtualClock, alerts: AlertStore) -> None:
        self.db, self.clock, self.alerts = db, clock, alerts
        if db.get_meta("incidents_layout") != 1:  # a data file from before incidents: derive them once
            with db.tx() as c:
                for (tenant,) in c.execute("SELECT DISTINCT tenant FROM def_alerts").fetchall():
                    self.rebuild(c, tenant, missing_only=True)
            db.set_meta("incidents_layout", 1)

    # -- reads ------------------------------------------------------------------------------------
    def get(self, tenant: str, incident_id: int) -> dict[str, Any] | None:
        """One incident record, or ``None``."""
        row = self.db.query_one(
            f"SELECT {_COLS} FROM def_incidents WHERE tenant = tk(?) AND id = ?", (tenant, incident_id)
        )
        return _record(row) if row else None

    def page(
        self, tenant: str, where: str, params: list[Any], order: str, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """Incident records matching *where* in *order*; and whether more follow the page."""
        cond = f"tenant = tk(?){f' AND ({where})' if where else ''}"
        rows = self.db.query(
            f"SELECT {_COLS} FROM def_incidents WHERE {cond} ORDER BY {order} LIMIT ? OFFSET ?",
            (tenant, *params, limit + 1, offset),
        )
        return [_record(r) for r in rows[:limit]], len(rows) > limit

    def count(self, tenant: str, where: str, params: list[Any], table: str = "def_incidents") -> int:
        """How many incidents (or alerts, with ``table="def_alerts"``) match *where*."""
        cond = f"tenant = tk(?){f' AND ({where})' if where else ''}"
        row = self.db.query_one(f"SELECT COUNT(*) AS c FROM {table} WHERE {cond}", (tenant, *params))
        return int(row["c"]) if row else 0

    def alert_page(
        self, tenant: str, where: str, params: list[Any], order: str, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """Alerts (with evidence) matching *where* in *order*; and whether more follow the page."""
        cond = f"tenant = tk(?){f' AND ({where})' if where else ''}"
        rows = self.db.query(
            f"SELECT {READ_COLUMNS} FROM def_alerts WHERE {cond} ORDER BY {order} LIMIT ? OFFSET ?",
            (tenant, *params, limit + 1, offset),
        )
        return self._with_evidence(rows[:limit]), len(rows) > limit

    def alerts_of(self, tenant: str, incident_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
        """The alerts (with evidence, oldest first) of each incident."""
        ids = list(incident_ids)
        out: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        if not ids:
            return out
        rows = self.db.query(
            f"SELECT {READ_COLUMNS} FROM def_alerts WHERE tenant = tk(?) AND incident_id IN "
            f"({','.join('?' * len(ids))}) ORDER BY alert_creation_time, n",
            (tenant, *ids),
        )
        for alert in self._with_evidence(rows):
            out[alert["incidentId"]].append(alert)
        return out

    def _with_evidence(self, rows: list[Any]) -> list[dict[str, Any]]:
        evidence = self.alerts.evidence_by_n([r["n"] for r in rows])
        alerts = [alert_from_row(r) for r in rows]
        for alert, row in zip(alerts, rows, strict=True):
            alert["evidence"] = evidence.get(row["n"], [])
        return alerts

    def machines(self, tenant: str, machine_ids: Iterable[str | None]) -> dict[str, dict[str, Any]]:
        """Machines by id (lower-cased), for the devices of a page of alerts."""
        ids = sorted({m for m in machine_ids if m})
        if not ids:
            return {}
        rows = self.db.query(
            f"SELECT data FROM def_machines WHERE tenant = ? AND id IN ({','.join('?' * len(ids))})",
            (tenant, *ids),
        )
        machines = [loads(r["data"]) for r in rows]
        return {m["id"].lower(): m for m in machines}

    # -- writes -----------------------------------------------------------------------------------
    def _now(self) -> str:
        return format_odata_time(self.clock.now())

    def _save(self, conn: sqlite3.Connection, tenant: str, inc: dict[str, Any]) -> None:
        conn.execute(
            "UPDATE def_incidents SET name = ?, status = ?, severity = ?, assigned_to = ?, "
            "classification = ?, determination = ?, last_update_time = ?, redirect_id = ?, tags = ?, "
            "comments = ? "
            "WHERE tenant = tk(?) AND id = ?",
            (inc["name"], inc["status"], inc["severity"], inc["assignedTo"], inc["classification"],
             inc["determination"], inc["lastUpdateTime"], inc["redirectIncidentId"], dumps(inc["tags"]),
             dumps(inc["comments"]), tenant, inc["id"]),
        )  # fmt: skip

    def update(self, tenant: str, inc: dict[str, Any], changes: dict[str, Any], actor: str) -> dict[str, Any]:
        """Apply *changes* (``status``, ``assignedTo``, ``classification``, ``determination``,
        ``tags``, ``comment``; stored values) by *actor*; returns the incident as saved."""
        now = self._now()
        with self.db.tx() as c:
            for key in ("status", "assignedTo", "classification", "determination", "tags"):
                if key in changes:
                    inc[key] = changes[key]
            if changes.get("comment"):
                inc["comments"].append(
                    {"comment": changes["comment"], "createdBy": actor, "createdTime": now}
                )
            inc["lastUpdateTime"] = now
            self._save(c, tenant, inc)
            self._cascade(tenant, inc, changes, actor)
        return inc

    def _cascade(self, tenant: str, inc: dict[str, Any], changes: dict[str, Any], actor: str) -> None:
        """The incident's owner becomes its alerts' owner; resolving it resolves its active alerts."""
        resolve = changes.get("status") == "Resolved"
        if "assignedTo" not in changes and not resolve:
            return
        for alert in self.alerts_of(tenant, [inc["id"]])[inc["id"]]:
            change = {"assignedTo": changes["assignedTo"]} if "assignedTo" in changes else {}
            if resolve and alert["status"] != "Resolved":
                change["status"] = "Resolved"
            if change:
                self.alerts.apply(alert, change, actor)
                self.alerts.save(tenant, alert)

    def comment(self, tenant: str, inc: dict[str, Any], text: str, actor: str) -> dict[str, Any]:
        """Add a comment by *actor*; returns the incident as saved."""
        return self.update(tenant, inc, {"comment": text}, actor)

    def create(self, conn: sqlite3.Connection, tenant: str, alerts: list[dict[str, Any]]) -> int:
        """A new ``Active`` incident for *alerts* (dicts; their ``incidentId`` is set), in the caller's
        transaction; returns its id."""
        row = conn.execute(
            "SELECT COALESCE(MAX(id), 999) + 1 FROM def_incidents WHERE tenant = tk(?)", (tenant,)
        )
        new_id = int(row.fetchone()[0])
        severity = max((a["severity"] for a in alerts), key=_rank, default="UnSpecified")
        machines = len({a["machineId"] for a in alerts})
        name = incident_name([a["title"] for a in alerts], {a["category"] for a in alerts}, machines)
        created = min(a["alertCreationTime"] for a in alerts)
        conn.execute(
            _INSERT,
            (
                self.alerts.keys.key(tenant),
                new_id,
                name,
                "Active",
                severity,
                None,
                None,
                None,
                created,
                self._now(),
                None,
                "[]",
                "[]",
            ),
        )
        for alert in alerts:
            alert["incidentId"] = new_id
        return new_id

    def move_alerts(self, tenant: str, target: dict[str, Any], alert_ids: list[str]) -> dict[str, Any]:
        """Move alerts into *target*; incidents left without alerts are redirected to it.

        Raises ``KeyError`` naming an unknown alert id.
        """
        now = self._now()
        with self.db.tx() as c:
            moved = []
            for alert_id in dict.fromkeys(alert_ids):
                alert = self.alerts.get(tenant, alert_id)
                if alert is None:
                    raise KeyError(alert_id)
                moved.append(alert)
            sources = {a["incidentId"] for a in moved} - {target["id"]}
            for alert in moved:
                alert["incidentId"], alert["lastUpdateTime"] = target["id"], now
                self.alerts.save(tenant, alert)
            for source in sorted(s for s in sources if s is not None):
                self._settle(c, tenant, source, target["id"], now)
            return self._settle(c, tenant, target["id"], None, now)

    def merge(self, tenant: str, target: dict[str, Any], source_ids: list[int]) -> dict[str, Any]:
        """Merge incidents into *target*: their alerts move to it, they become ``Redirected``."""
        alert_ids = [a["id"] for alerts in self.alerts_of(tenant, source_ids).values() for a in alerts]
        with self.db.tx() as c:
            result = self.move_alerts(tenant, target, alert_ids)
            for source in source_ids:  # a source without alerts is redirected too
                self._settle(c, tenant, source, target["id"], self._now(), force=True)
        return result

    def _settle(
        self,
        conn: sqlite3.Connection,
        tenant: str,
        iid: int,
        redirect: int | None,
        now: str,
        force: bool = False,
    ) -> dict[str, Any]:
        """Recompute an incident's severity; redirect it to *redirect* when it has no alerts left."""
        inc = self.get(tenant, iid)
        assert inc is not None  # callers pass existing incidents
        ranks = conn.execute(
            f"SELECT MAX(CASE severity {_RANK} ELSE 0 END), COUNT(*) FROM def_alerts WHERE tenant = tk(?) "
            "AND incident_id = ?",
            (tenant, iid),
        ).fetchone()
        if ranks[1]:
            inc["severity"] = SEVERITY_ORDER[ranks[0]]
        if redirect is not None and (force or not ranks[1]):
            inc["status"], inc["redirectIncidentId"] = "Redirected", redirect
        inc["lastUpdateTime"] = now
        self._save(conn, tenant, inc)
        return inc

    @staticmethod
    def insert_rows(conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
        """Insert ready incident rows (:func:`incident_row`) in the caller's transaction."""
        conn.executemany(_INSERT, rows)

    def rebuild(self, conn: sqlite3.Connection, tenant: str, missing_only: bool = False) -> int:
        """Create the incidents *tenant*'s alerts name (all, or only those without a record);
        in the caller's transaction. Returns how many were created."""
        extra = (
            "AND NOT EXISTS (SELECT 1 FROM def_incidents i WHERE i.tenant = def_alerts.tenant "
            "AND i.id = def_alerts.incident_id)"
            if missing_only
            else ""
        )
        rows = conn.execute(_FROM_ALERTS.format(extra=extra), (tenant,)).fetchall()
        key = self.alerts.keys.key(tenant)
        conn.executemany(_INSERT, (_grouped(key, r) for r in rows))
        return len(rows)


def _rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else 0
