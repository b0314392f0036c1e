"""Upgrade a data file written by an earlier emulator to the current Defender alert layout.

Two earlier layouts, each rewritten once, in one transaction, when the file is opened:

1. every alert field in ``def_alerts.data`` (31 values) and one ``def_alert_entities`` row per
   (alert, entity): ``data`` becomes the value list of :data:`DATA_FIELDS` and
   ``def_alert_links`` one posting list per entity;
2. ``data`` as that value list: it becomes the alert's rendering, the JSON a list answer shows
   (:func:`~mdekit.emulator.defender.alerts.render`, issue 19).

A file at the current layout (``meta`` key ``def_alerts_layout``) costs one ``meta`` lookup.
"""

from __future__ import annotations

from operator import itemgetter

from mdekit.emulator.db import Database
from mdekit.emulator.defender.alerts import COLUMN_FIELDS, DATA_FIELDS, READ_COLUMNS, AlertStore, render
from mdekit.emulator.defender.enums import ALERT_KEYS
from mdekit.emulator.defender.jsonio import dumps, loads

__all__ = ["LAYOUT", "upgrade"]

#: The current layout's name in ``meta``.
LAYOUT = "rendered-1"
_LAYOUT_KEY = "def_alerts_layout"
_PICK = [ALERT_KEYS.index(k) for k in DATA_FIELDS]
_SOURCES = (*COLUMN_FIELDS, *DATA_FIELDS, "evidence")
_FROM_VALUES = itemgetter(*(_SOURCES.index(k) for k in ALERT_KEYS))
_BATCH = 10_000


def upgrade(db: Database) -> bool:
    """Migrate an old layout in place; ``True`` if there was one."""
    changed = _from_entities(db)
    if changed or db.get_meta(_LAYOUT_KEY) != LAYOUT:
        changed = _to_renderings(db) or changed
        db.set_meta(_LAYOUT_KEY, LAYOUT)
    return changed


def _from_entities(db: Database) -> bool:
    old = db.query_one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'def_alert_entities'")
    if old is None:
        return False
    with db.tx() as c:
        rewritten = [
            (dumps([values[i] for i in _PICK]), n)
            for n, values in ((r[0], loads(r[1])) for r in c.execute("SELECT n, data FROM def_alerts"))
            if len(values) == len(ALERT_KEYS)
        ]
        c.executemany("UPDATE def_alerts SET data = ? WHERE n = ?", rewritten)
        links: dict[str, dict[tuple[str, str], list[int]]] = {}
        for row in c.execute(
            "SELECT e.tenant, e.kind, e.value, a.n FROM def_alert_entities e JOIN def_alerts a "
            "ON a.tenant = e.tenant AND a.id = e.alert_id ORDER BY a.n"
        ):
            links.setdefault(row[0], {}).setdefault((row[1], row[2]), []).append(row[3])
        for tenant, by_entity in links.items():
            AlertStore.add_links(c, tenant, by_entity)
        c.execute("DROP TABLE def_alert_entities")
    return True


def _to_renderings(db: Database) -> bool:
    """``data`` value lists (layout 1) to renderings, in batches of rowids, one transaction."""
    changed = False
    with db.tx() as c:
        last = 0
        while True:
            rows = c.execute(
                f"SELECT {READ_COLUMNS} FROM def_alerts WHERE n > ? AND substr(data, 1, 1) = '[' "
                "ORDER BY n LIMIT ?",
                (last, _BATCH),
            ).fetchall()
            if not rows:
                return changed
            updates = []
            for row in rows:
                values = tuple(row)
                alert = dict(
                    zip(ALERT_KEYS, _FROM_VALUES((*values[1:14], *loads(values[14]), [])), strict=True)
                )
                updates.append((render(alert), values[0]))
            c.executemany("UPDATE def_alerts SET data = ? WHERE n = ?", updates)
            changed, last = True, int(rows[-1][0])
