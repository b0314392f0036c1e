"""Users of the emulated directory and their directory roles; owners of app registrations.

Users sign in with the device code flow (:mod:`mdekit.emulator.entra.devicecodes`) and call
Microsoft Graph on their own behalf; what they may do there depends on their built-in directory
roles (:data:`mdekit.catalog.DIRECTORY_ROLES`). Every tenant is created with ``admin@<domain>``,
a Global Administrator, as a new Entra tenant has its creator.

A user principal name must end with one of the tenant's domains (here: its one initial domain),
as in Entra. The store knows no HTTP; :class:`~mdekit.emulator.entra.directory.DirectoryError`
carries bad input.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mdekit.catalog import DIRECTORY_ROLES
from mdekit.emulator.entra.dirtypes import DirectoryError, TenantInfo

if TYPE_CHECKING:
    from mdekit.emulator.clock import VirtualClock
    from mdekit.emulator.db import Database
    from mdekit.emulator.entra.cache import ReadCache

__all__ = ["USERS_SCHEMA", "USERS_TABLES", "UserInfo", "UsersMixin", "directory_role"]

USERS_SCHEMA = """
CREATE TABLE IF NOT EXISTS dir_users (
  object_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, upn TEXT NOT NULL COLLATE NOCASE,
  display_name TEXT NOT NULL, roles TEXT NOT NULL, created REAL NOT NULL, UNIQUE (tenant_id, upn));
CREATE TABLE IF NOT EXISTS dir_app_owners (
  app_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (app_id, user_id));
"""
USERS_TABLES = ("dir_app_owners", "dir_users")

_UPN = re.compile(r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9.-]+$")
_ROLE_BY_KEY = {k.lower(): k for k in DIRECTORY_ROLES} | {v: k for k, v in DIRECTORY_ROLES.items()}


@dataclass(frozen=True)
class UserInfo:
    """A member user: object id, tenant, UPN, display name and directory role names."""

    object_id: str
    tenant_id: str
    upn: str
    display_name: str
    roles: tuple[str, ...]

    def has_role(self, *names: str) -> bool:
        """Whether the user holds any of the directory roles *names*."""
        return any(n in self.roles for n in names)

    @property
    def role_ids(self) -> list[str]:
        """The roles' template ids (a user token's ``wids``)."""
        return [DIRECTORY_ROLES[r] for r in self.roles]

    def to_json(self) -> dict[str, Any]:
        """The control plane's shape."""
        return {
            "id": self.object_id,
            "tenantId": self.tenant_id,
            "userPrincipalName": self.upn,
            "displayName": self.display_name,
            "directoryRoles": list(self.roles),
        }


def directory_role(key: Any) -> str:
    """The built-in role called *key* (name in any letter case, or template id); ``ValueError`` else."""
    found = _ROLE_BY_KEY.get(str(key).strip().lower()) if isinstance(key, str) else None
    if found is None:
        raise ValueError(f"unknown directory role {key!r}; known roles: {', '.join(DIRECTORY_ROLES)}")
    return found


def _user(row: sqlite3.Row) -> UserInfo:
    roles = tuple(r for r in row["roles"].split("\n") if r)
    return UserInfo(row["object_id"], row["tenant_id"], row["upn"], row["display_name"], roles)


class UsersMixin:
    """Users and app owners; mixed into :class:`~mdekit.emulator.entra.directory.DirectoryStore`."""

    db: Database
    clock: VirtualClock
    _cache: ReadCache

    if TYPE_CHECKING:

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...
        def tenant(self, key: str) -> TenantInfo: ...
        def tenants(self) -> list[TenantInfo]: ...

    def _insert_user(
        self, c: sqlite3.Connection, tenant: TenantInfo, upn: str, name: str, roles: list[str]
    ) -> UserInfo:
        user = UserInfo(str(uuid.uuid4()), tenant.id, upn, name, tuple(roles))
        c.execute(
            "INSERT INTO dir_users VALUES (?, ?, ?, ?, ?, ?)",
            (user.object_id, tenant.id, upn, name, "\n".join(roles), self.clock.time()),
        )
        return user

    def _admin_of(self, c: sqlite3.Connection, tenant: TenantInfo) -> None:
        """Give a new tenant its first Global Administrator, ``admin@<domain>``."""
        self._insert_user(c, tenant, f"admin@{tenant.domain}", "Administrator", ["Global Administrator"])

    def backfill_admins(self) -> None:
        """Tenants of an older data file (made before users existed) get their ``admin@`` user."""
        have = {r["tenant_id"] for r in self.db.query("SELECT DISTINCT tenant_id FROM dir_users")}
        missing = [t for t in self.tenants() if t.id not in have]
        if missing:
            with self._write() as c:
                for tenant in missing:
                    self._admin_of(c, tenant)

    def create_user(
        self, tenant: str, upn: str, display_name: str = "", roles: list[Any] | tuple[Any, ...] = ()
    ) -> UserInfo:
        """Add a member user with built-in directory *roles* (names or template ids)."""
        home = self.tenant(tenant)
        upn = (upn or "").strip()
        if not _UPN.match(upn):
            raise DirectoryError("userPrincipalName must look like name@domain")
        if upn.rsplit("@", 1)[1].lower() != home.domain.lower():
            raise DirectoryError(f"userPrincipalName must end with @{home.domain}, the tenant's domain")
        try:
            names = list(dict.fromkeys(directory_role(r) for r in roles))
        except ValueError as exc:
            raise DirectoryError(str(exc)) from None
        if self.find_user(home.id, upn) is not None:
            raise DirectoryError(f"a user {upn} exists already in {home.domain}")
        with self._write() as c:
            return self._insert_user(c, home, upn, (display_name or "").strip() or upn.split("@")[0], names)

    def find_user(self, tenant_id: str, upn: str) -> UserInfo | None:
        """The user of tenant *tenant_id* (GUID) signing in as *upn* (any letter case), or ``None``."""
        row = self.db.query_one(
            "SELECT * FROM dir_users WHERE tenant_id = ? AND upn = ?", (tenant_id.lower(), upn.strip())
        )
        return _user(row) if row else None

    def user_by_id(self, object_id: str) -> UserInfo | None:
        """The user with object id *object_id*, or ``None`` (cached: read on every Graph call)."""
        key = object_id.lower()
        if len(key) > 64:
            return None

        def load() -> UserInfo | None:
            row = self.db.query_one("SELECT * FROM dir_users WHERE object_id = ?", (key,))
            return _user(row) if row else None

        found: UserInfo | None = self._cache.get(("user", key), load)
        return found

    def users(self, tenant: str) -> list[UserInfo]:
        """Every user of *tenant*, oldest first."""
        home = self.tenant(tenant)
        rows = self.db.query("SELECT * FROM dir_users WHERE tenant_id = ? ORDER BY created, upn", (home.id,))
        return [_user(r) for r in rows]

    # ---- owners of app registrations ----------------------------------------------------------

    def add_owner(self, app_id: str, user_id: str) -> None:
        """Make *user_id* an owner of the app (as creating it through Graph does)."""
        with self._write() as c:
            c.execute("INSERT OR IGNORE INTO dir_app_owners VALUES (?, ?)", (app_id.lower(), user_id.lower()))

    def is_owner(self, app_id: str, user_id: str) -> bool:
        """Whether *user_id* owns the app registration *app_id*."""
        row = self.db.query_one(
            "SELECT 1 FROM dir_app_owners WHERE app_id = ? AND user_id = ?", (app_id.lower(), user_id.lower())
        )
        return row is not None
