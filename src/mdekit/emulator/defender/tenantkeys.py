"""Short tenant keys in the alert tables (issue 19): ``"1"`` instead of a 36-character tenant id.

Every row and every index entry of ``def_alerts``, ``def_alert_evidence``, ``def_incidents`` and
``def_investigations`` starts with its tenant: a 1,000,000-alert tenant spent ~400 bytes an alert
(of ~1,450) on the tenant id text repeated in the rows and their eight indexes. A seed gives its
tenant a short key (``def_tenant_keys``, kept forever) and those tables hold the key instead.

Queries keep passing the tenant id: they compare with ``tenant = tk(?)``, a SQL function that maps
a tenant id to its key, and any other value to itself. So:

* a tenant without a key (never seeded, or data files written before keys) keeps its id in the
  rows, and ``tk(id)`` is the id: earlier data files answer as they are, nothing to migrate;
* a key maps to itself (keys are decimal numbers, tenant ids never are): rows made with the key
  already (the seed's) may go through the same statements.

A key is given only by a seed, right after it deleted the tenant's rows (no row holds the id then).
The map lives in memory per database (read once when the file is opened); a seed that fails reloads
it, as its transaction's rollback took the new key back.
"""

from __future__ import annotations

import sqlite3
import weakref

from mdekit.emulator.db import Database

__all__ = ["KEYED", "TenantKeys", "keys_for", "tenant_cond"]

#: The tables whose ``tenant`` column holds the key of a tenant that has one.
KEYED = frozenset(("def_alerts", "def_alert_evidence", "def_incidents", "def_investigations"))

_SCHEMA = "CREATE TABLE IF NOT EXISTS def_tenant_keys (tenant TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE)"
_BY_DB: weakref.WeakKeyDictionary[Database, TenantKeys] = weakref.WeakKeyDictionary()


class TenantKeys:
    """The tenant -> key map of one database, and ``tk()`` on its connection."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._keys: dict[str, str] = {}
        with db.lock:
            db.conn.execute(_SCHEMA)
            self.reload()
            db.conn.create_function("tk", 1, self.key, deterministic=True)

    def key(self, tenant: str) -> str:
        """What the keyed tables hold for *tenant*: its key, or the id itself if it has none."""
        return self._keys.get(tenant, tenant)

    def assign(self, conn: sqlite3.Connection, tenant: str) -> str:
        """*tenant*'s key, given now if it has none (in the caller's transaction, which must have
        deleted the tenant's rows from the :data:`KEYED` tables)."""
        if tenant not in self._keys:
            row = conn.execute("SELECT COALESCE(MAX(CAST(key AS INTEGER)), 0) + 1 FROM def_tenant_keys")
            key = str(row.fetchone()[0])
            conn.execute("INSERT INTO def_tenant_keys (tenant, key) VALUES (?, ?)", (tenant, key))
            self._keys[tenant] = key
        return self._keys[tenant]

    def reload(self) -> None:
        """Read the map again (after a rolled-back :meth:`assign`)."""
        with self.db.lock:
            rows = self.db.conn.execute("SELECT tenant, key FROM def_tenant_keys").fetchall()
        self._keys = {str(r[0]): str(r[1]) for r in rows}


def keys_for(db: Database) -> TenantKeys:
    """The :class:`TenantKeys` of *db* (made, and ``tk()`` registered, on first use)."""
    keys = _BY_DB.get(db)
    if keys is None:
        keys = _BY_DB[db] = TenantKeys(db)
    return keys


def tenant_cond(table: str, alias: str = "") -> str:
    """The ``WHERE`` condition selecting one tenant's rows of *table* (its id as the parameter)."""
    column = f"{alias}.tenant" if alias else "tenant"
    return f"{column} = tk(?)" if table in KEYED else f"{column} = ?"
