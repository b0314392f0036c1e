"""Alerts and their evidence; the evidence index feeds the file/IP/domain/user lookups."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from mdekit.emulator.clock import VirtualClock, format_odata_time
from mdekit.emulator.db import Database
from mdekit.emulator.defender.enums import ALERT_KEYS, EVIDENCE_KEYS
from mdekit.emulator.defender.jsonio import dumps, loads
from mdekit.emulator.defender.listing import ListQuery, count, run_list

__all__ = ["AlertStore", "evidence_entities"]

_COLUMNS = (
    "tenant",
    "id",
    "incident_id",
    "investigation_id",
    "assigned_to",
    "detection_source",
    "status",
    "severity",
    "category",
    "alert_creation_time",
    "last_update_time",
    "last_event_time",
    "machine_id",
    "title",
    "data",
    "n",
)
_INSERT = f"INSERT INTO def_alerts ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_BLANK = dict.fromkeys(EVIDENCE_KEYS)
_UPDATE = (
    "UPDATE def_alerts SET " + ", ".join(f"{c} = ?" for c in _COLUMNS[2:15]) + " WHERE tenant = ? AND id = ?"
)


def _compact(evidence: list[dict[str, Any]]) -> str:
    return dumps([{k: v for k, v in ev.items() if v is not None} for ev in evidence])


def _row(tenant: str, a: dict[str, Any], n: int | None) -> tuple[Any, ...]:
    stored = [a.get(k) for k in ALERT_KEYS]  # values only: keys would double the row size
    return (
        tenant,
        a["id"],
        a["incidentId"],
        a["investigationId"],
        a["assignedTo"],
        a["detectionSource"],
        a["status"],
        a["severity"],
        a["category"],
        a["alertCreationTime"],
        a["lastUpdateTime"],
        a["lastEventTime"],
        a["machineId"],
        a["title"],
        dumps(stored),
        n,
    )


def _alert(text: str) -> dict[str, Any]:
    """A stored alert back as a dict in the real key order (``evidence`` empty)."""
    alert = dict(zip(ALERT_KEYS, loads(text), strict=True))
    alert["evidence"] = []
    return alert


def _expand(text: str) -> list[dict[str, Any]]:
    """Stored (compact) evidence with every key back in the real order."""
    return [{**_BLANK, **ev} for ev in loads(text)]


def evidence_entities(alert: dict[str, Any], evidence: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """``(kind, value)`` pairs an alert names: file sha1s, IPs, domains, user names."""
    out: set[tuple[str, str]] = set()
    for ev in evidence:
        if ev.get("sha1"):
            out.add(("file", ev["sha1"]))
        if ev.get("ipAddress"):
            out.add(("ip", ev["ipAddress"]))
        if ev.get("url"):
            host = ev["url"].split("://", 1)[-1].split("/", 1)[0]
            out.add(("domain", host))
        if ev.get("entityType") == "User" and ev.get("accountName"):
            out.add(("user", ev["accountName"]))
    user = alert.get("relatedUser")
    if user and user.get("userName"):
        out.add(("user", user["userName"]))
    return out


_RELATED = "id IN (SELECT alert_id FROM def_alert_entities WHERE tenant = ? AND kind = ? AND value = ?)"


class AlertStore:
    """Alerts per tenant."""

    def __init__(self, db: Database, clock: VirtualClock) -> None:
        self.db = db
        self.clock = clock

    def insert_many(
        self,
        conn: sqlite3.Connection,
        tenant: str,
        alerts: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]],
    ) -> None:
        """Insert ``(alert, evidence)`` pairs and their entity index inside the caller's transaction."""
        rows: list[tuple[Any, ...]] = []
        evidence_rows: list[tuple[int, str, str]] = []
        links: list[tuple[str, str, str, str]] = []
        n = int(conn.execute("SELECT COALESCE(MAX(n), 0) FROM def_alerts").fetchone()[0])
        for alert, evidence in alerts:
            n += 1
            rows.append(_row(tenant, alert, n))
            evidence_rows.append((n, tenant, _compact(evidence)))
            links.extend((tenant, alert["id"], k, v) for k, v in evidence_entities(alert, evidence))
        conn.executemany(_INSERT, rows)
        conn.executemany(
            "INSERT INTO def_alert_evidence (n, tenant, evidence) VALUES (?, ?, ?)", evidence_rows
        )
        conn.executemany(
            "INSERT INTO def_alert_entities (tenant, alert_id, kind, value) VALUES (?, ?, ?, ?)", links
        )

    def get(self, tenant: str, alert_id: str, *, with_evidence: bool = False) -> dict[str, Any] | None:
        """One alert (evidence filled in only if asked, as ``$expand=evidence`` does)."""
        row = self.db.query_one(
            "SELECT data, (SELECT evidence FROM def_alert_evidence e WHERE e.n = a.n) AS evidence "
            "FROM def_alerts a WHERE tenant = ? AND id = ?",
            (tenant, alert_id),
        )
        if row is None:
            return None
        alert = _alert(row["data"])
        if with_evidence:
            alert["evidence"] = _expand(row["evidence"])
        return alert

    def evidence(self, tenant: str, alert_id: str) -> list[dict[str, Any]]:
        """An alert's evidence items ([] if none or unknown)."""
        row = self.db.query_one(
            "SELECT e.evidence FROM def_alerts a JOIN def_alert_evidence e ON e.n = a.n WHERE "
            "a.tenant = ? AND a.id = ?",
            (tenant, alert_id),
        )
        return _expand(row["evidence"]) if row else []

    def page(self, tenant: str, query: ListQuery, **extra: Any) -> tuple[list[dict[str, Any]], bool]:
        """A page of alerts; ``query.expand == "evidence"`` fills evidence in."""
        rows, more = run_list(self.db, "def_alerts", tenant, query, columns="n, data", **extra)
        items = [_alert(r["data"]) for r in rows]
        if query.expand == "evidence":
            found = self._evidence_by_n([r["n"] for r in rows])
            for item, row in zip(items, rows, strict=True):
                item["evidence"] = found.get(row["n"], [])
        return items, more

    def _evidence_by_n(self, ns: list[int]) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = {}
        for i in range(0, len(ns), 900):
            chunk = ns[i : i + 900]
            rows = self.db.query(
                f"SELECT n, evidence FROM def_alert_evidence WHERE n IN ({','.join('?' * len(chunk))})", chunk
            )
            out.update((r["n"], _expand(r["evidence"])) for r in rows)
        return out

    def count_for_machine(self, tenant: str, machine_id: str, query: ListQuery) -> int:
        """Alerts on a machine matching ``$filter`` (the ``/alerts/$count`` answer)."""
        return count(self.db, "def_alerts", tenant, query, "machine_id = ?", (machine_id,))

    def save(self, tenant: str, alert: dict[str, Any]) -> None:
        """Write back a changed alert (evidence untouched)."""
        row = _row(tenant, alert, None)
        with self.db.tx() as c:
            c.execute(_UPDATE, (*row[2:15], tenant, alert["id"]))

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
            "SELECT DISTINCT a.machine_id AS m FROM def_alerts a JOIN def_alert_entities e "
            "ON e.tenant = a.tenant AND e.alert_id = a.id WHERE e.tenant = ? AND e.kind = ? AND e.value = ? "
            "LIMIT ?",
            (tenant, kind, value, limit),
        )
        return [r["m"] for r in rows if r["m"]]

    def stats(self, tenant: str, kind: str, value: str) -> dict[str, Any]:
        """Org prevalence: distinct machines, first and last event time of alerts naming the entity."""
        row = self.db.query_one(
            "SELECT COUNT(DISTINCT a.machine_id) AS n, MIN(a.first_event) AS lo, "
            "MAX(a.last_event_time) AS hi "
            "FROM (SELECT machine_id, last_event_time, json_extract(data, '$.firstEventTime') AS first_event "
            "FROM def_alerts WHERE tenant = ? AND id IN (SELECT alert_id FROM def_alert_entities "
            "WHERE tenant = ? AND kind = ? AND value = ?)) a",
            (tenant, tenant, kind, value),
        )
        return {
            "prevalence": int(row["n"]) if row else 0,
            "first": row["lo"] if row else None,
            "last": row["hi"] if row else None,
        }

    def touch(self, alert: dict[str, Any]) -> None:
        """Stamp ``lastUpdateTime`` with the virtual now."""
        alert["lastUpdateTime"] = format_odata_time(self.clock.now())
