"""Indicators (custom threat intelligence): submit-or-update, import, list, delete.

An indicator is unique per tenant by (type, value): submitting it again updates it. An app with
only ``Ti.ReadWrite`` sees and changes only the indicators it created (service-facts §3.3).

Answers have the keys, order and types of a real 2023 list capture ([FS:14195078262]: ``category``,
``bypassDurationHours``, ``notificationId``/``notificationBody``, ``version``, ``mitreTechniques``,
``historicalDetection``, ``lookBackPeriod``, ``additionalInfo``, ``externalId`` - not the docs
table's ``externalID`` - ``createdBySource``, ``certificateInfo``; no ``source``/``sourceType``).
Records stored by an earlier emulator are reshaped when read (:func:`wire_indicator`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from mdekit.emulator.clock import VirtualClock, format_odata_time
from mdekit.emulator.db import Database
from mdekit.emulator.defender.answers import AnswerForms
from mdekit.emulator.defender.edm import keys_of
from mdekit.emulator.defender.jsonio import dumps, loads
from mdekit.emulator.defender.listing import ListQuery, decode, run_list

__all__ = ["INDICATOR_KEYS", "IndicatorStore", "Visibility", "upgrade", "wire_indicator"]

#: The answer's keys in the real order (the entity model's ``Indicator``).
INDICATOR_KEYS = keys_of("Indicator")
#: Defaults of the keys a submission may leave out (as real answers show them).
_DEFAULTS: dict[str, Any] = {
    "severity": "Informational",
    "category": 1,
    "rbacGroupNames": [],
    "rbacGroupIds": [],
    "mitreTechniques": [],
    "historicalDetection": False,
    "generateAlert": False,
    "createdBySource": "PublicApi",
}

#: The stored JSON's shape (``meta``), see :func:`upgrade`.
_LAYOUT_KEY, _LAYOUT = "def_indicators_layout", "wire-1"

_COLUMNS = (
    "indicator_value",
    "indicator_type",
    "action",
    "application",
    "created_by",
    "created_by_display_name",
    "expiration_time",
    "generate_alert",
    "title",
    "rbac_group_names",
    "rbac_group_ids",
    "creation_time",
    "severity",
    "data",
)


class Visibility:
    """Which indicators a caller may see: all, or those created by one app."""

    def __init__(self, app_id: str | None) -> None:
        self.app_id = app_id  # None = every app's

    def where(self) -> tuple[str, tuple[Any, ...]]:
        return ("created_by = ?", (self.app_id,)) if self.app_id else ("", ())


def _columns(ind: dict[str, Any]) -> tuple[Any, ...]:
    return (
        ind["indicatorValue"],
        ind["indicatorType"],
        ind["action"],
        ind["application"],
        ind["createdBy"],
        ind["createdByDisplayName"],
        ind["expirationTime"],
        int(bool(ind["generateAlert"])),
        ind["title"],
        dumps(ind["rbacGroupNames"] or []),
        dumps([str(i) for i in ind["rbacGroupIds"] or []]),
        ind["creationTimeDateTimeUtc"],
        ind["severity"],
        dumps(ind),
    )


class IndicatorStore:
    """Indicators per tenant."""

    def __init__(self, db: Database, clock: VirtualClock) -> None:
        self.db = db
        self.clock = clock
        self.answers = AnswerForms()  # the list's rows in answer form (issue 19)

    def find(self, c: sqlite3.Connection, tenant: str, itype: str, value: str) -> sqlite3.Row | None:
        """The stored row for (type, value), if any."""
        row: sqlite3.Row | None = c.execute(
            "SELECT n, created_by, data FROM def_indicators WHERE tenant = ? AND indicator_type = ? "
            "AND indicator_value = ?",
            (tenant, itype, value),
        ).fetchone()
        return row

    def upsert(
        self,
        c: sqlite3.Connection,
        tenant: str,
        body: dict[str, Any],
        app_id: str,
        app_name: str,
        vis: Visibility,
    ) -> dict[str, Any] | None:
        """Create or update from a validated body; ``None`` if it exists but belongs to an app *vis* hides."""
        now = format_odata_time(self.clock.now())
        old = self.find(c, tenant, body["indicatorType"], body["indicatorValue"])
        if old is not None and vis.app_id and old["created_by"] != vis.app_id:
            return None
        base = wire_indicator(loads(old["data"])) if old else _created_by(app_id, app_name, now)
        ind = _indicator(base, body, app_id, now)
        if old is None:
            cur = c.execute(
                f"INSERT INTO def_indicators (tenant, {', '.join(_COLUMNS)}) VALUES "
                f"(?{', ?' * len(_COLUMNS)})",
                (tenant, *_columns(ind)),
            )
            ind["id"] = str(cur.lastrowid)
            n = cur.lastrowid
        else:
            n = old["n"]
        c.execute(
            f"UPDATE def_indicators SET {', '.join(f'{k} = ?' for k in _COLUMNS)} WHERE n = ?",
            (*_columns(ind), n),
        )
        return ind

    def insert_many(
        self, c: sqlite3.Connection, tenant: str, bodies: Iterable[dict[str, Any]], app_id: str, app_name: str
    ) -> int:
        """Create indicators from validated *bodies* in the caller's transaction, in bulk (seeding,
        benchmarks): no (type, value) of them may exist yet. Returns how many were written."""
        now = format_odata_time(self.clock.now())
        n = int(c.execute("SELECT COALESCE(MAX(n), 0) FROM def_indicators").fetchone()[0])
        rows: list[tuple[Any, ...]] = []
        for body in bodies:
            n += 1
            created = body.get("creationTimeDateTimeUtc", now)
            base = {
                **_created_by(app_id, app_name, created),
                "id": str(n),
                "application": body.get("application"),
            }
            rows.append((n, tenant, *_columns(_indicator(base, body, app_id, now))))
        c.executemany(
            f"INSERT INTO def_indicators (n, tenant, {', '.join(_COLUMNS)}) "
            f"VALUES (?, ?{', ?' * len(_COLUMNS)})",
            rows,
        )
        return len(rows)

    def submit(
        self, tenant: str, body: dict[str, Any], app_id: str, app_name: str, vis: Visibility
    ) -> dict[str, Any] | None:
        """:meth:`upsert` in its own transaction."""
        with self.db.tx() as c:
            return self.upsert(c, tenant, body, app_id, app_name, vis)

    def page(self, tenant: str, query: ListQuery, vis: Visibility) -> tuple[list[dict[str, Any]], bool]:
        """A page of the indicators *vis* allows."""
        where, params = vis.where()
        rows, more = run_list(
            self.db, "def_indicators", tenant, query, extra_where=where, extra_params=params
        )
        return [wire_indicator(i) for i in decode(rows)], more

    def answer_page(self, tenant: str, query: ListQuery, vis: Visibility) -> tuple[list[Any], bool]:
        """:meth:`page` for a list answer: the rows in answer form, spliced as they are (issue 19;
        the stored JSON is in the answer's shape since :func:`upgrade`), dicts for ``$select``."""
        if query.select is not None:
            return self.page(tenant, query, vis)
        where, params = vis.where()
        rows, more = run_list(
            self.db, "def_indicators", tenant, query, extra_where=where, extra_params=params
        )
        return self.answers.rendered(rows), more

    def existing(self, tenant: str, ids: list[str], vis: Visibility) -> set[str]:
        """Which of *ids* exist and are visible."""
        where, params = vis.where()
        nums = [int(i) for i in ids]
        marks = ",".join("?" * len(nums))
        rows = self.db.query(
            f"SELECT n FROM def_indicators WHERE tenant = ? AND n IN ({marks})"
            + (f" AND {where}" if where else ""),
            (tenant, *nums, *params),
        )
        return {str(r["n"]) for r in rows}

    def delete(self, tenant: str, ids: list[str]) -> None:
        """Delete indicators by id (callers check existence and visibility first)."""
        with self.db.tx() as c:
            c.executemany(
                "DELETE FROM def_indicators WHERE tenant = ? AND n = ?", [(tenant, int(i)) for i in ids]
            )


def upgrade(db: Database) -> None:
    """Rewrite indicators an earlier emulator stored in another shape to the answer's
    (:func:`wire_indicator`), once per data file, so list answers can splice the stored JSON."""
    if db.get_meta(_LAYOUT_KEY) == _LAYOUT:
        return
    with db.tx() as c:
        rows = c.execute("SELECT n, data FROM def_indicators").fetchall()
        changed = [(text, n) for n, data in rows if (text := dumps(wire_indicator(loads(data)))) != data]
        c.executemany("UPDATE def_indicators SET data = ? WHERE n = ?", changed)
    db.set_meta(_LAYOUT_KEY, _LAYOUT)


def wire_indicator(stored: dict[str, Any]) -> dict[str, Any]:
    """*stored* in the answer's key order (an earlier emulator's ``externalID`` read as ``externalId``)."""
    if list(stored) == list(INDICATOR_KEYS):
        return stored
    values = {**_DEFAULTS, **stored}
    if "externalId" not in stored and "externalID" in stored:
        values["externalId"] = stored["externalID"]
    return {k: values.get(k) for k in INDICATOR_KEYS}


def _created_by(app_id: str, app_name: str, created: str) -> dict[str, Any]:
    """A new indicator's creator fields: the base :func:`_indicator` applies a body over."""
    return {
        "id": None,
        "createdBy": app_id,
        "createdByDisplayName": app_name,
        "createdBySource": "PublicApi",
        "creationTimeDateTimeUtc": created,
    }


def _indicator(base: dict[str, Any], body: dict[str, Any], app_id: str, now: str) -> dict[str, Any]:
    """The indicator in the real key order, *body* applied over *base*.

    ``application`` is set only when the indicator is created ("It doesn't update the value on an
    existing indicator", post-ti-indicator).
    """
    values = {**_DEFAULTS, **base, **body}
    values.update(
        lastUpdateTime=now,
        lastUpdatedBy=app_id,
        generateAlert=bool(values.get("generateAlert")),
        application=base.get("application") if base.get("id") else body.get("application"),
    )
    return {k: values.get(k) for k in INDICATOR_KEYS}
