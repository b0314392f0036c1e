"""Alerts and their evidence; the evidence index feeds the file/IP/domain/user lookups."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from mdekit.emulator.clock import VirtualClock, dotnet_times, format_odata_time, stored_time
from mdekit.emulator.db import Database
from mdekit.emulator.defender.enums import ALERT_KEYS
from mdekit.emulator.defender.evidence import compact, evidence_entities, expand
from mdekit.emulator.defender.jsonio import Fragment, Rendered, dumps, loads
from mdekit.emulator.defender.listing import ListQuery, count, run_list
from mdekit.emulator.defender.renderings import load_dictionaries, unpack
from mdekit.emulator.defender.tenantkeys import keys_for

__all__ = ["TITLE_SQL", "AlertStore", "alert_from_row", "evidence_entities", "expand", "render"]

#: Alert fields that have a column, in the column order of ``def_alerts`` (after ``tenant``).
COLUMN_FIELDS = {
    "id": "id",
    "incidentId": "incident_id",
    "investigationId": "investigation_id",
    "assignedTo": "assigned_to",
    "detectionSource": "detection_source",
    "status": "status",
    "severity": "severity",
    "category": "category",
    "alertCreationTime": "alert_creation_time",
    "lastUpdateTime": "last_update_time",
    "lastEventTime": "last_event_time",
    "machineId": "machine_id",
    "title": "title",
}
#: The other fields: the value list an earlier layout stored in ``data`` (kept for the upgrade,
#: :mod:`mdekit.emulator.defender.migrate`).
DATA_FIELDS = tuple(k for k in ALERT_KEYS if k not in COLUMN_FIELDS and k != "evidence")
_COLUMNS = ("tenant", *COLUMN_FIELDS.values(), "data", "n")
_INSERT = f"INSERT INTO def_alerts ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_UPDATE = (
    "UPDATE def_alerts SET "
    + ", ".join(f"{c} = ?" for c in _COLUMNS[2:-1])
    + " WHERE tenant = tk(?) AND id = ?"
)
#: What a read selects: the rowid, the field columns, then ``data`` (see :func:`alert_from_row`).
READ_COLUMNS = ", ".join(("n", *COLUMN_FIELDS.values(), "data"))
_TIME_COLUMNS = frozenset(("alertCreationTime", "lastUpdateTime", "lastEventTime"))
#: Times only ``data`` holds (in the answer's .NET form there; the stored form in the dict).
_DATA_TIMES = ("firstEventTime", "resolvedTime")
_COLUMN_AT = tuple(enumerate(COLUMN_FIELDS, start=1))


def render(alert: dict[str, Any]) -> str:
    """What ``def_alerts.data`` holds: the alert exactly as a list answer shows it (the service's
    key order, times in its .NET form, ``evidence`` empty), written once so a list answer splices
    the stored text instead of building and serializing dicts (issue 19)."""
    return dotnet_times(dumps({k: alert.get(k) if k != "evidence" else [] for k in ALERT_KEYS}))


def _row(tenant: str, a: dict[str, Any], n: int | None) -> tuple[Any, ...]:
    # Columns keep the stored 7-digit times (text order is time order); ``data`` the answer form.
    columns = (stored_time(a[k]) if k in _TIME_COLUMNS and a[k] else a[k] for k in COLUMN_FIELDS)
    return (tenant, *columns, render(a), n)


def alert_from_row(row: Any) -> dict[str, Any]:
    """An alert (API shape, real key order, ``evidence`` empty, times in the stored form) from a
    row of :data:`READ_COLUMNS`."""
    values = tuple(row)  # slicing an sqlite3.Row costs 20x slicing a tuple (issue 19)
    alert: dict[str, Any] = loads(unpack(values[14]))
    title = alert["title"]
    for i, key in _COLUMN_AT:  # the columns are what filters see: they win
        alert[key] = values[i]
    if alert["title"] is None:  # a large seed's rows hold their title in ``data`` only (TITLE_SQL)
        alert["title"] = title
    for key in _DATA_TIMES:
        if alert[key]:
            alert[key] = stored_time(alert[key])
    alert["evidence"] = []
    return alert


#: An alert row's title: its column, or when that is NULL (a large seed's rows: no filter reads
#: titles, and a column of them was ~38 bytes an alert, issue 19) its rendering's.
TITLE_SQL = "coalesce({a}title, json_extract(alert_json({a}data), '$.title'))"

#: ``firstEventTime`` in its stored 7-digit form, from ``data`` (for MIN/MAX in SQL).
FIRST_EVENT_SQL = (
    "(SELECT CASE WHEN length(t) = 28 OR t IS NULL THEN t ELSE substr(t, 1, 19) || '.' || "
    "substr(CASE WHEN substr(t, 20, 1) = '.' THEN substr(t, 21, length(t) - 21) ELSE '' END "
    "|| '0000000', 1, 7) || 'Z' END FROM (SELECT json_extract(alert_json(data), '$.firstEventTime') AS t))"
)


_RELATED = (
    "n IN (SELECT value FROM json_each((SELECT ns FROM def_alert_links "
    "WHERE tenant = ? AND kind = ? AND value = ?)))"
)


class AlertStore:
    """Alerts per tenant."""

    def __init__(self, db: Database, clock: VirtualClock) -> None:
        self.db = db
        self.clock = clock
        with db.lock:
            load_dictionaries(db.conn)  # and ``alert_json(data)`` for SQL (json_extract on a rendering)
        self.keys = keys_for(db)  # and ``tk(tenant)``: what the alert tables hold for a tenant

    def insert_many(
        self,
        conn: sqlite3.Connection,
        tenant: str,
        alerts: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]],
    ) -> None:
        """Insert ``(alert, evidence)`` pairs and their entity links inside the caller's transaction."""
        rows: list[tuple[Any, ...]] = []
        evidence_rows: list[tuple[int, str, str]] = []
        links: dict[tuple[str, str], list[int]] = {}
        n = self.next_n(conn)
        held = self.keys.key(tenant)  # what the rows hold for the tenant (tenantkeys.py)
        for alert, evidence in alerts:
            rows.append(_row(held, alert, n))
            evidence_rows.append((n, held, compact(evidence)))
            for key in evidence_entities(alert, evidence):
                links.setdefault(key, []).append(n)
            n += 1
        self.insert_rows(conn, rows, evidence_rows)
        self.add_links(conn, tenant, links)

    @staticmethod
    def next_n(conn: sqlite3.Connection) -> int:
        """The rowid the next inserted alert gets (alerts list in rowid order)."""
        return int(conn.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM def_alerts").fetchone()[0])

    @staticmethod
    def insert_rows(
        conn: sqlite3.Connection,
        rows: Iterable[tuple[Any, ...]],
        evidence_rows: Iterable[tuple[int, str, str]],
    ) -> None:
        """Bulk insert ready rows: ``(tenant key, <COLUMN_FIELDS values>, data, n)`` and ``(n, tenant
        key, stored evidence)`` (the seed generator's fast path; links go through :meth:`add_links`;
        the key: :mod:`~mdekit.emulator.defender.tenantkeys`)."""
        conn.executemany(_INSERT, rows)
        conn.executemany(
            "INSERT INTO def_alert_evidence (n, tenant, evidence) VALUES (?, ?, ?)", evidence_rows
        )

    @staticmethod
    def add_links(conn: sqlite3.Connection, tenant: str, links: dict[tuple[str, str], list[int]]) -> None:
        """Record that the alerts with rowids ``links[(kind, value)]`` name that entity."""
        for (kind, value), ns in sorted(links.items()):
            row = conn.execute(
                "SELECT ns FROM def_alert_links WHERE tenant = ? AND kind = ? AND value = ?",
                (tenant, kind, value),
            ).fetchone()
            merged = sorted({*loads(row[0]), *ns}) if row else ns
            conn.execute(
                "INSERT OR REPLACE INTO def_alert_links (tenant, kind, value, ns) VALUES (?, ?, ?, ?)",
                (tenant, kind, value, dumps(merged)),
            )

    def get(self, tenant: str, alert_id: str, *, with_evidence: bool = False) -> dict[str, Any] | None:
        """One alert (evidence filled in only if asked, as ``$expand=evidence`` does)."""
        row = self.db.query_one(
            f"SELECT {READ_COLUMNS} FROM def_alerts WHERE tenant = tk(?) AND id = ?", (tenant, alert_id)
        )
        if row is None:
            return None
        alert = alert_from_row(row)
        if with_evidence:
            alert["evidence"] = self.evidence_by_n([row["n"]]).get(row["n"], [])
        return alert

    def evidence(self, tenant: str, alert_id: str) -> list[dict[str, Any]]:
        """An alert's evidence items ([] if none or unknown)."""
        row = self.db.query_one(
            "SELECT e.evidence FROM def_alerts a JOIN def_alert_evidence e ON e.n = a.n WHERE "
            "a.tenant = tk(?) AND a.id = ?",
            (tenant, alert_id),
        )
        return expand(row["evidence"]) if row else []

    def page(self, tenant: str, query: ListQuery, **extra: Any) -> tuple[list[dict[str, Any]], bool]:
        """A page of alerts; ``query.expand == "evidence"`` fills evidence in."""
        rows, more = run_list(self.db, "def_alerts", tenant, query, columns=READ_COLUMNS, **extra)
        items = [alert_from_row(r) for r in rows]
        if query.expand == "evidence":
            found = self.evidence_by_n([r["n"] for r in rows])
            for item, row in zip(items, rows, strict=True):
                item["evidence"] = found.get(row["n"], [])
        return items, more

    def answer_page(self, tenant: str, query: ListQuery, **extra: Any) -> tuple[list[Any], bool]:
        """:meth:`page` for a list answer: the stored renderings as they are (:class:`Rendered`),
        or dicts when evidence is expanded or properties selected."""
        if query.expand == "evidence" or query.select is not None:
            return self.page(tenant, query, **extra)
        rows, more = run_list(self.db, "def_alerts", tenant, query, columns="data, n", **extra)
        return Rendered(Fragment(unpack(r[0])) for r in rows), more

    def evidence_by_n(self, ns: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Evidence (answer form) of the alerts with rowids *ns*, by rowid."""
        out: dict[int, list[dict[str, Any]]] = {}
        for i in range(0, len(ns), 900):
            chunk = ns[i : i + 900]
            rows = self.db.query(
                f"SELECT n, evidence FROM def_alert_evidence WHERE n IN ({','.join('?' * len(chunk))})", chunk
            )
            out.update((r["n"], expand(r["evidence"])) for r in rows)
        return out

    def count_for_machine(self, tenant: str, machine_id: str, query: ListQuery) -> int:
        """Alerts on a machine matching ``$filter`` (the ``/alerts/$count`` answer)."""
        return count(self.db, "def_alerts", tenant, query, "machine_id = ?", (machine_id,))

    def save(self, tenant: str, alert: dict[str, Any]) -> None:
        """Write back a changed alert (evidence untouched); its incident was updated then too."""
        row = _row(tenant, alert, None)
        with self.db.tx() as c:
            c.execute(_UPDATE, (*row[2:-1], tenant, alert["id"]))
            c.execute(
                "UPDATE def_incidents SET last_update_time = MAX(last_update_time, ?) "
                "WHERE tenant = tk(?) AND id = ?",
                (alert["lastUpdateTime"], tenant, alert["incidentId"]),
            )

    def related(
        self, tenant: str, kind: str, value: str, query: ListQuery
    ) -> tuple[list[dict[str, Any]], bool]:
        """Alerts whose evidence names (*kind*, *value*)."""
        return self.page(
            tenant,
            query,
            extra_where=_RELATED,
            extra_params=(tenant, kind, value),
        )

    def related_values(self, tenant: str, alert_id: str, kind: str) -> list[str]:
        """Values of one kind an alert's evidence names (sorted)."""
        alert = self.get(tenant, alert_id, with_evidence=True)
        if alert is None:
            return []
        return sorted({v for k, v in evidence_entities(alert, alert["evidence"]) if k == kind})

    def machine_ids_for(self, tenant: str, kind: str, value: str, limit: int = 500) -> list[str]:
        """Machines of the alerts that name (*kind*, *value*)."""
        rows = self.db.query(
            f"SELECT DISTINCT machine_id AS m FROM def_alerts WHERE tenant = tk(?) AND {_RELATED} LIMIT ?",
            (tenant, tenant, kind, value, limit),
        )
        return [r["m"] for r in rows if r["m"]]

    def stats(self, tenant: str, kind: str, value: str) -> dict[str, Any]:
        """Org prevalence: distinct machines, first and last event time of alerts naming the entity."""
        row = self.db.query_one(
            "SELECT COUNT(DISTINCT a.machine_id) AS n, MIN(a.first_event) AS lo, "
            "MAX(a.last_event_time) AS hi "
            f"FROM (SELECT machine_id, last_event_time, {FIRST_EVENT_SQL} AS first_event "
            f"FROM def_alerts WHERE tenant = tk(?) AND {_RELATED}) a",
            (tenant, tenant, kind, value),
        )
        return {
            "prevalence": int(row["n"]) if row else 0,
            "first": row["lo"] if row else None,
            "last": row["hi"] if row else None,
        }

    def apply(self, alert: dict[str, Any], changes: dict[str, Any], actor: str) -> None:
        """Apply an update (``status``, ``assignedTo``, ``classification``, ``determination``,
        ``comment`` by *actor*) as the service does: ``resolvedTime`` follows the status, the
        comment is appended, ``lastUpdateTime`` is now. Shared by the MDE, XDR and Graph APIs."""
        for key in ("status", "assignedTo", "classification", "determination"):
            if key in changes:
                alert[key] = changes[key]
        now = format_odata_time(self.clock.now())
        if changes.get("status") == "Resolved" and not alert["resolvedTime"]:
            alert["resolvedTime"] = now
        elif "status" in changes and changes["status"] != "Resolved":
            alert["resolvedTime"] = None
        if changes.get("comment"):
            alert["comments"].append({"comment": changes["comment"], "createdBy": actor, "createdTime": now})
        alert["lastUpdateTime"] = now

    def touch(self, alert: dict[str, Any]) -> None:
        """Stamp ``lastUpdateTime`` with the virtual now."""
        alert["lastUpdateTime"] = format_odata_time(self.clock.now())
