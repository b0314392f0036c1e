"""Upgrade a data file written by an earlier emulator to the current Defender alert layout.

Earlier files stored every alert field in ``def_alerts.data`` (31 values) and one
``def_alert_entities`` row per (alert, entity). Now ``data`` holds only the fields without a
column (:data:`DATA_FIELDS`) and ``def_alert_links`` one posting list per entity. Opening such a
file rewrites it once, in one transaction; a current file costs one ``sqlite_master`` lookup.
"""

from __future__ import annotations

from mdekit.emulator.db import Database
from mdekit.emulator.defender.alerts import DATA_FIELDS, AlertStore
from mdekit.emulator.defender.enums import ALERT_KEYS
from mdekit.emulator.defender.jsonio import dumps, loads

__all__ = ["upgrade"]

_PICK = [ALERT_KEYS.index(k) for k in DATA_FIELDS]


def upgrade(db: Database) -> bool:
    """Migrate an old layout in place; ``True`` if there was one."""
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
