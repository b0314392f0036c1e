"""Directory objects as Microsoft Graph sees them: app properties, service principals, grants.

Mixed into :class:`~mdekit.emulator.entra.directory.DirectoryStore`, so Graph, the control plane,
the token service and the Defender API read and write the very same rows:

* the application's ``requiredResourceAccess`` is its requested app roles (``dir_app_permissions``,
  what consent grants) plus its requested delegated scopes (``dir_app_scopes``);
* an ``appRoleAssignment`` is a row of ``dir_grants`` - what the token service puts in ``roles``;
  its ``id`` is derived from the client service principal and the role (so it needs no column;
  real ids also start with the principal's object id), its creation time kept beside it;
* the built-in resource apps (WindowsDefenderATP, Microsoft Threat Protection, Microsoft Graph) and
  Microsoft's public clients have a service principal in every tenant, with a stable object id.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mdekit.catalog import FIRST_PARTY_CLIENTS, RESOURCES, ResourceApp
from mdekit.emulator.entra.dirtypes import AppInfo, DirectoryError, Permission, TenantInfo

if TYPE_CHECKING:
    from mdekit.emulator.clock import VirtualClock
    from mdekit.emulator.db import Database
    from mdekit.emulator.entra.cache import ReadCache

__all__ = [
    "APP_OBJECTS_SCHEMA",
    "APP_OBJECTS_TABLES",
    "AppObjectsMixin",
    "AppProps",
    "RoleGrant",
    "ServicePrincipal",
    "builtin_app_name",
]

APP_OBJECTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS dir_app_props (
  app_id TEXT PRIMARY KEY, public_client INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dir_app_scopes (
  app_id TEXT NOT NULL, resource_app_id TEXT NOT NULL, scope TEXT NOT NULL,
  PRIMARY KEY (app_id, resource_app_id, scope));
CREATE TABLE IF NOT EXISTS dir_key_names (key_id TEXT PRIMARY KEY, display_name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dir_delegated_grants (
  tenant_id TEXT NOT NULL, client_id TEXT NOT NULL, resource_app_id TEXT NOT NULL, scope TEXT NOT NULL,
  PRIMARY KEY (tenant_id, client_id, resource_app_id, scope));
CREATE TABLE IF NOT EXISTS dir_grant_times (
  tenant_id TEXT NOT NULL, app_id TEXT NOT NULL, resource_app_id TEXT NOT NULL, role TEXT NOT NULL,
  created REAL NOT NULL, PRIMARY KEY (tenant_id, app_id, resource_app_id, role));
"""
APP_OBJECTS_TABLES = (
    "dir_delegated_grants",
    "dir_grant_times",
    "dir_key_names",
    "dir_app_scopes",
    "dir_app_props",
)

_BUILTIN_NAMES = {r.app_id: r.name for r in RESOURCES} | FIRST_PARTY_CLIENTS
_SP_NAMESPACE = uuid.UUID("5f3e1c2a-7d4b-4a8e-9c61-2b0d8e7f4a13")


def builtin_app_name(app_id: str) -> str | None:
    """The display name of a built-in (Microsoft) app present in every tenant, or ``None``."""
    return _BUILTIN_NAMES.get(app_id.lower())


@dataclass(frozen=True)
class AppProps:
    """Graph-only properties of an app registration (``data`` holds the free-form ones)."""

    public_client: bool = False
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServicePrincipal:
    """A service principal in a tenant: object id, app id, display name, creation time."""

    object_id: str
    tenant_id: str
    app_id: str
    display_name: str
    created: float
    builtin: bool = False


@dataclass(frozen=True)
class RoleGrant:
    """An app role granted to a client app's service principal in a tenant."""

    tenant_id: str
    app_id: str
    resource: ResourceApp
    role: str
    created: float


def assignment_id(principal_id: str, resource_app_id: str, role: str) -> str:
    """The ``appRoleAssignment`` id: the principal's object id (GUID bytes) + 16 bytes of the role."""
    raw = (
        uuid.UUID(principal_id).bytes_le + hashlib.sha256(f"{resource_app_id}:{role}".encode()).digest()[:16]
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class AppObjectsMixin:
    """Graph's view of app registrations, service principals and grants (see the module docstring)."""

    db: Database
    clock: VirtualClock
    _cache: ReadCache

    if TYPE_CHECKING:

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...
        def tenant(self, key: str) -> TenantInfo: ...
        def find_tenant(self, key: str) -> TenantInfo | None: ...
        def find_application(self, app_id: str) -> AppInfo | None: ...
        def requested_permissions(self, app_id: str) -> list[Permission]: ...

    # ---- app properties ----------------------------------------------------------------------

    def app_props(self, app_id: str) -> AppProps:
        """The Graph-only properties of the app (defaults when none were set)."""
        row = self.db.query_one("SELECT * FROM dir_app_props WHERE app_id = ?", (app_id.lower(),))
        if row is None:
            return AppProps()
        return AppProps(bool(row["public_client"]), json.loads(row["data"]))

    def is_public_client(self, app_id: str) -> bool:
        """Whether *app_id* may use public client flows (device code) without a credential."""
        if app_id.lower() in FIRST_PARTY_CLIENTS:
            return True
        return self.app_props(app_id).public_client

    def set_app_props(
        self, app_id: str, *, public_client: bool | None = None, data: dict[str, Any] | None = None
    ) -> AppProps:
        """Change the app's Graph-only properties (*data* keys are merged; ``None`` values drop one)."""
        current = self.app_props(app_id)
        merged = dict(current.data)
        for key, value in (data or {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        public = current.public_client if public_client is None else public_client
        with self._write() as c:
            c.execute(
                "INSERT INTO dir_app_props VALUES (?, ?, ?) ON CONFLICT(app_id) DO UPDATE SET "
                "public_client = excluded.public_client, data = excluded.data",
                (app_id.lower(), int(public), json.dumps(merged)),
            )
        return AppProps(public, merged)

    def update_application(
        self,
        app_id: str,
        *,
        display_name: str | None = None,
        multi_tenant: bool | None = None,
        redirect_uris: tuple[str, ...] | None = None,
    ) -> None:
        """Change the registration's core properties (the ones the portal pages also show)."""
        changes = {
            "display_name": display_name,
            "multi_tenant": None if multi_tenant is None else int(multi_tenant),
            "redirect_uris": None if redirect_uris is None else "\n".join(redirect_uris),
        }
        sets = {k: v for k, v in changes.items() if v is not None}
        if not sets:
            return
        assignments = ", ".join(f"{k} = ?" for k in sets)
        with self._write() as c:
            c.execute(f"UPDATE dir_apps SET {assignments} WHERE app_id = ?", (*sets.values(), app_id.lower()))

    # ---- requested access (requiredResourceAccess) ----------------------------------------------

    def requested_scopes(self, app_id: str) -> list[tuple[ResourceApp, str]]:
        """The app's requested delegated permissions: (resource, scope)."""
        by_id = {r.app_id: r for r in RESOURCES}
        rows = self.db.query(
            "SELECT resource_app_id, scope FROM dir_app_scopes WHERE app_id = ? "
            "ORDER BY resource_app_id, scope",
            (app_id.lower(),),
        )
        return [(by_id[r["resource_app_id"]], r["scope"]) for r in rows if r["resource_app_id"] in by_id]

    def set_requested_access(
        self, app_id: str, roles: Iterable[tuple[ResourceApp, str]], scopes: Iterable[tuple[ResourceApp, str]]
    ) -> None:
        """Replace the app's requested app roles and delegated scopes (grants are untouched)."""
        key = app_id.lower()
        with self._write() as c:
            c.execute("DELETE FROM dir_app_permissions WHERE app_id = ?", (key,))
            c.execute("DELETE FROM dir_app_scopes WHERE app_id = ?", (key,))
            c.executemany(
                "INSERT OR IGNORE INTO dir_app_permissions VALUES (?, ?, ?)",
                [(key, res.app_id, role) for res, role in roles],
            )
            c.executemany(
                "INSERT OR IGNORE INTO dir_app_scopes VALUES (?, ?, ?)",
                [(key, res.app_id, scope) for res, scope in scopes],
            )

    # ---- credential names ----------------------------------------------------------------------

    def set_key_name(self, key_id: str, display_name: str) -> None:
        """Remember the ``displayName`` given to a password or key credential."""
        with self._write() as c:
            c.execute("INSERT OR REPLACE INTO dir_key_names VALUES (?, ?)", (key_id.lower(), display_name))

    def key_names(self, key_ids: Iterable[str]) -> dict[str, str]:
        """``keyId -> displayName`` for the credentials that have one."""
        ids = [k.lower() for k in key_ids]
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.query(f"SELECT * FROM dir_key_names WHERE key_id IN ({marks})", ids)
        return {r["key_id"]: r["display_name"] for r in rows}

    def remove_secret(self, app_id: str, key_id: str) -> bool:
        """Delete one client secret of the app; ``False`` if it has none with that key id."""
        with self._write() as c:
            cur = c.execute(
                "DELETE FROM dir_secrets WHERE app_id = ? AND key_id = ?", (app_id.lower(), key_id.lower())
            )
            c.execute("DELETE FROM dir_key_names WHERE key_id = ?", (key_id.lower(),))
        return cur.rowcount > 0

    def remove_certificates(self, app_id: str, keep: Iterable[str]) -> None:
        """Delete the app's certificates except the key ids in *keep*."""
        kept = {k.lower() for k in keep}
        rows = self.db.query("SELECT key_id FROM dir_certificates WHERE app_id = ?", (app_id.lower(),))
        gone = [r["key_id"] for r in rows if r["key_id"] not in kept]
        with self._write() as c:
            for key_id in gone:
                c.execute("DELETE FROM dir_certificates WHERE key_id = ?", (key_id,))
                c.execute("DELETE FROM dir_key_names WHERE key_id = ?", (key_id,))

    # ---- service principals --------------------------------------------------------------------

    def builtin_sp_id(self, tenant_id: str, app_id: str) -> str | None:
        """The stable object id of a built-in app's service principal in a tenant, or ``None``."""
        if app_id.lower() not in _BUILTIN_NAMES:
            return None
        return str(uuid.uuid5(_SP_NAMESPACE, f"{tenant_id.lower()}:{app_id.lower()}"))

    def service_principals(self, tenant: str) -> list[ServicePrincipal]:
        """Every service principal of the tenant: the built-in ones first, then apps' (oldest first)."""
        home = self.tenant(tenant)
        found = [
            ServicePrincipal(str(self.builtin_sp_id(home.id, app_id)), home.id, app_id, name, 0.0, True)
            for app_id, name in _BUILTIN_NAMES.items()
        ]
        rows = self.db.query(
            "SELECT sp.object_id, sp.app_id, sp.created, a.display_name FROM dir_service_principals sp "
            "JOIN dir_apps a ON a.app_id = sp.app_id WHERE sp.tenant_id = ? "
            "ORDER BY sp.created, sp.object_id",
            (home.id,),
        )
        found += [
            ServicePrincipal(r["object_id"], home.id, r["app_id"], r["display_name"], r["created"])
            for r in rows
        ]
        return found

    def service_principal(
        self, tenant: str, *, object_id: str = "", app_id: str = ""
    ) -> ServicePrincipal | None:
        """One service principal of the tenant, by object id or by app id; ``None`` if absent."""
        key_obj, key_app = object_id.lower(), app_id.lower()
        for sp in self.service_principals(tenant):
            if (key_obj and sp.object_id == key_obj) or (key_app and sp.app_id == key_app):
                return sp
        return None

    def create_service_principal(self, tenant: str, app_id: str) -> str:
        """Add the app's service principal to the tenant (no grants); returns its object id."""
        home = self.tenant(tenant)
        object_id = str(uuid.uuid4())
        with self._write() as c:
            c.execute(
                "INSERT INTO dir_service_principals VALUES (?, ?, ?, ?)",
                (home.id, app_id.lower(), object_id, self.clock.time()),
            )
        return object_id

    # ---- app role grants (appRoleAssignments) ---------------------------------------------------

    def grant_role(self, tenant: str, app_id: str, resource: ResourceApp, role: str) -> RoleGrant:
        """Grant one app role to the app's service principal; ``DirectoryError`` if granted already."""
        home = self.tenant(tenant)
        key = (home.id, app_id.lower(), resource.app_id, role)
        now = self.clock.time()
        with self._write() as c:
            cur = c.execute("INSERT OR IGNORE INTO dir_grants VALUES (?, ?, ?, ?)", key)
            if cur.rowcount == 0:
                raise DirectoryError("Permission being assigned already exists on the object", "duplicate")
            c.execute("INSERT OR REPLACE INTO dir_grant_times VALUES (?, ?, ?, ?, ?)", (*key, now))
        return RoleGrant(home.id, app_id.lower(), resource, role, now)

    def revoke_role(self, tenant_id: str, app_id: str, resource_app_id: str, role: str) -> None:
        """Remove one app role grant (absent is fine)."""
        key = (tenant_id.lower(), app_id.lower(), resource_app_id.lower(), role)
        where = "tenant_id = ? AND app_id = ? AND resource_app_id = ? AND role = ?"
        with self._write() as c:
            c.execute(f"DELETE FROM dir_grants WHERE {where}", key)
            c.execute(f"DELETE FROM dir_grant_times WHERE {where}", key)

    def role_grants(
        self, tenant_id: str, *, app_id: str | None = None, resource_app_id: str | None = None
    ) -> list[RoleGrant]:
        """The tenant's app role grants, to one client app and/or of one resource app."""
        by_id = {r.app_id: r for r in RESOURCES}
        sql = (
            "SELECT g.*, t.created FROM dir_grants g LEFT JOIN dir_grant_times t "
            "ON t.tenant_id = g.tenant_id AND t.app_id = g.app_id "
            "AND t.resource_app_id = g.resource_app_id AND t.role = g.role "
            "WHERE g.tenant_id = ?"
        )
        params: list[str] = [tenant_id.lower()]
        if app_id is not None:
            sql, params = sql + " AND g.app_id = ?", [*params, app_id.lower()]
        if resource_app_id is not None:
            sql, params = sql + " AND g.resource_app_id = ?", [*params, resource_app_id.lower()]
        rows = self.db.query(sql + " ORDER BY t.created, g.app_id, g.role", params)
        return [
            RoleGrant(
                r["tenant_id"], r["app_id"], by_id[r["resource_app_id"]], r["role"], r["created"] or 0.0
            )
            for r in rows
            if r["resource_app_id"] in by_id
        ]

    # ---- delegated permissions consented for the whole tenant (oauth2PermissionGrants) -----------

    def consent_delegated(
        self, tenant_id: str, client_id: str, resource: ResourceApp, scopes: Iterable[str]
    ) -> None:
        """An administrator consents to *scopes* of *resource* for *client_id*, for every user."""
        with self._write() as c:
            c.executemany(
                "INSERT OR IGNORE INTO dir_delegated_grants VALUES (?, ?, ?, ?)",
                [(tenant_id.lower(), client_id.lower(), resource.app_id, s) for s in scopes],
            )

    def delegated_consented(self, tenant_id: str, client_id: str, resource: ResourceApp) -> set[str]:
        """The scopes of *resource* every user of the tenant may use with *client_id*."""
        rows = self.db.query(
            "SELECT scope FROM dir_delegated_grants "
            "WHERE tenant_id = ? AND client_id = ? AND resource_app_id = ?",
            (tenant_id.lower(), client_id.lower(), resource.app_id),
        )
        return {r["scope"] for r in rows}

    def stamp_grants(
        self, c: sqlite3.Connection, tenant_id: str, app_id: str, keys: list[tuple[str, str]]
    ) -> None:
        """Record the grant time of newly consented roles (times of earlier grants are kept)."""
        now = self.clock.time()
        c.executemany(
            "INSERT OR IGNORE INTO dir_grant_times VALUES (?, ?, ?, ?, ?)",
            [(tenant_id, app_id, res, role, now) for res, role in keys],
        )
