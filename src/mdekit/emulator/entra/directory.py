"""The emulated directory (tenants, apps, credentials, service principals, grants) - SQLite, no HTTP.

Rules copied from the real portal (service-facts.md §2.5, §7):

* an app registration lives in its home tenant and gets a service principal (SP) there at creation;
* a multi-tenant app gets an SP in another tenant only through admin consent there;
* requested application permissions take effect (become app-role grants on the SP) only at
  consent, and every permission added later needs consent again;
* client secrets are shown once and stored only as a salted scrypt hash (hint = first 3 chars);
* the built-in resource apps of :data:`mdekit.catalog.RESOURCES` exist in every tenant.

Users and app owners (:mod:`.users`), Graph's view of apps, service principals and grants
(:mod:`.appobjects`) and device-code sign-ins (:mod:`.devicecodes`) are mixed into the same
:class:`DirectoryStore`: one directory, whichever API reads or writes it.

Errors are :class:`DirectoryError` with a plain message; the HTTP layers turn them into their own
wire shapes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import string
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mdekit.catalog import MDE, RESOURCES, resource_by_uri
from mdekit.emulator.clock import VirtualClock
from mdekit.emulator.db import Database
from mdekit.emulator.entra.appobjects import (
    APP_OBJECTS_SCHEMA,
    APP_OBJECTS_TABLES,
    AppObjectsMixin,
    builtin_app_name,
)
from mdekit.emulator.entra.cache import ReadCache
from mdekit.emulator.entra.devicecodes import DEVICE_CODES_SCHEMA, DEVICE_CODES_TABLES, DeviceCodesMixin
from mdekit.emulator.entra.dirtypes import (
    AppInfo,
    CertificateInfo,
    DirectoryError,
    Permission,
    TenantInfo,
    is_guid,
)
from mdekit.emulator.entra.users import USERS_SCHEMA, USERS_TABLES, UsersMixin
from mdekit.emulator.limits import (
    MAX_DISPLAY_NAME,
    MAX_DOMAIN,
    MAX_PERMISSIONS,
    MAX_REDIRECT_URI,
    MAX_REDIRECT_URIS,
)

__all__ = [
    "DEFAULT_SECRET_SECONDS",
    "AppInfo",
    "CertificateInfo",
    "DirectoryError",
    "DirectoryStore",
    "Permission",
    "SecretCheck",
    "SecretHashes",
    "TenantInfo",
    "TokenSubject",
    "match_secret",
    "parse_permission",
]

#: A new secret's default lifetime (the portal's "recommended: 180 days").
DEFAULT_SECRET_SECONDS = 180 * 86400

#: Longer look-up keys (no GUID or domain is) are read from the database, never cached.
_CACHED_KEY_MAX = 256
_SECRET_ALPHABET = string.ascii_letters + string.digits + "~._-"
# scrypt cost: secrets are 40 random characters (~240 bits), so the hash only has to be salted and
# one-way, not slow; n=2**12 keeps a token request in the low milliseconds.
_SCRYPT = {"n": 2**12, "r": 8, "p": 1, "dklen": 32}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dir_tenants (
  id TEXT PRIMARY KEY, display_name TEXT NOT NULL, domain TEXT NOT NULL UNIQUE COLLATE NOCASE,
  created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS dir_apps (
  app_id TEXT PRIMARY KEY, object_id TEXT NOT NULL, display_name TEXT NOT NULL,
  multi_tenant INTEGER NOT NULL, home_tenant TEXT NOT NULL, redirect_uris TEXT NOT NULL,
  created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS dir_app_permissions (
  app_id TEXT NOT NULL, resource_app_id TEXT NOT NULL, role TEXT NOT NULL,
  PRIMARY KEY (app_id, resource_app_id, role));
CREATE TABLE IF NOT EXISTS dir_secrets (
  key_id TEXT PRIMARY KEY, app_id TEXT NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL,
  hint TEXT NOT NULL, start_time REAL NOT NULL, end_time REAL NOT NULL);
CREATE TABLE IF NOT EXISTS dir_certificates (
  key_id TEXT PRIMARY KEY, app_id TEXT NOT NULL, pem TEXT NOT NULL, sha1 TEXT NOT NULL,
  sha256 TEXT NOT NULL, start_time REAL NOT NULL, end_time REAL NOT NULL);
CREATE TABLE IF NOT EXISTS dir_service_principals (
  tenant_id TEXT NOT NULL, app_id TEXT NOT NULL, object_id TEXT NOT NULL, created REAL NOT NULL,
  PRIMARY KEY (tenant_id, app_id));
CREATE TABLE IF NOT EXISTS dir_grants (
  tenant_id TEXT NOT NULL, app_id TEXT NOT NULL, resource_app_id TEXT NOT NULL, role TEXT NOT NULL,
  PRIMARY KEY (tenant_id, app_id, resource_app_id, role));
"""
_TABLES = (
    *USERS_TABLES,
    *APP_OBJECTS_TABLES,
    *DEVICE_CODES_TABLES,
    "dir_grants",
    "dir_service_principals",
    "dir_certificates",
    "dir_secrets",
    "dir_app_permissions",
    "dir_apps",
    "dir_tenants",
)


class SecretCheck:
    """Outcomes of :meth:`DirectoryStore.check_secret`."""

    OK = "ok"
    EXPIRED = "expired"
    WRONG = "wrong"


#: An app's secrets as stored: ``(salt, scrypt hash, start time, end time)`` each.
SecretHashes = tuple[tuple[bytes, bytes, float, float], ...]


class TokenSubject(NamedTuple):
    """The directory's part of an app-only token: app display name, SP object id, granted roles."""

    display_name: str
    sp_id: str
    roles: tuple[str, ...]


def match_secret(hashes: SecretHashes, value: str, now: float) -> str:
    """*value* against stored *hashes*: :class:`SecretCheck` ``OK``, ``EXPIRED`` or ``WRONG``.

    Constant-time comparison of the scrypt hashes (each memoized by the value's SHA-256 and salt).
    """
    for salt, digest, start, end in hashes:
        if hmac.compare_digest(_hash_secret(value, salt), digest):
            return SecretCheck.OK if start - 300 <= now < end else SecretCheck.EXPIRED
    return SecretCheck.WRONG


def _shown(value: Any, limit: int = 80) -> str:
    """*value* quoted for an error message, shortened: hostile input is not echoed back whole."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _display_name(value: str | None) -> str:
    """A stripped, non-empty display name of at most :data:`MAX_DISPLAY_NAME` characters."""
    name = (value or "").strip()
    if not name:
        raise DirectoryError("displayName is required")
    if len(name) > MAX_DISPLAY_NAME:
        raise DirectoryError(f"displayName must be at most {MAX_DISPLAY_NAME} characters (got {len(name):,})")
    return name


_DNS_NAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))+$")


def _check_domain(domain: Any) -> str:
    if not isinstance(domain, str) or len(domain) > MAX_DOMAIN or not _DNS_NAME.match(domain):
        raise DirectoryError(f"domain {_shown(domain)} is not a DNS name")
    return domain


def _check_redirect_uris(uris: Any) -> tuple[str, ...]:
    if not isinstance(uris, list | tuple) or not all(isinstance(u, str) and u for u in uris):
        raise DirectoryError("redirectUris must be a list of URIs")
    if len(uris) > MAX_REDIRECT_URIS:
        raise DirectoryError(f"an app can have at most {MAX_REDIRECT_URIS} redirect URIs (got {len(uris):,})")
    for uri in uris:
        if len(uri) > MAX_REDIRECT_URI:
            raise DirectoryError(
                f"redirect URIs must be at most {MAX_REDIRECT_URI} characters: {_shown(uri)}"
            )
    return tuple(uris)


def _parse_permissions(items: list[Any] | tuple[Any, ...]) -> list[Permission]:
    if len(items) > MAX_PERMISSIONS:
        raise DirectoryError(f"at most {MAX_PERMISSIONS} permissions per request (got {len(items):,})")
    return [parse_permission(p) for p in items]


def parse_permission(item: Any) -> Permission:
    """Parse one requested permission.

    Accepted forms: a bare role name such as ``"Alert.Read.All"`` (looked up in WindowsDefenderATP
    first, then the other built-in resources) or ``{"resource": "<name|appId|URI>", "role": "<name>"}``.

    Raises :class:`DirectoryError` naming the valid roles when the role is unknown.
    """
    if isinstance(item, dict):
        res_key, role = str(item.get("resource", "")), str(item.get("role", ""))
        res = resource_by_uri(res_key) or next(
            (r for r in RESOURCES if r.name.lower() == res_key.lower()), None
        )
        if res is None:
            names = ", ".join(r.name for r in RESOURCES)
            raise DirectoryError(f"unknown resource {_shown(res_key)}; built-in resources: {names}")
        if role not in res.roles:
            raise DirectoryError(
                f"unknown role {_shown(role)} for {res.name}; valid roles: {', '.join(res.roles)}"
            )
        return Permission(res, role)
    if not isinstance(item, str) or not item:
        raise DirectoryError("a permission must be a role name such as 'Alert.Read.All'")
    for res in RESOURCES:
        if item in res.roles:
            return Permission(res, item)
    near = [r for r in MDE.roles if r.lower() == item.lower()]
    extra = f" (did you mean {near[0]!r}?)" if near else ""
    raise DirectoryError(
        f"unknown application permission {_shown(item)}{extra}; "
        f"WindowsDefenderATP roles are: {', '.join(MDE.roles)}"
    )


# (sha256(value), salt) -> scrypt hash, in memory only: scrypt costs ~9 ms, which capped the token
# service at ~100 requests/s on one core (benchmarks/bench_token_service.py); now paid once per secret.
_HASHED: dict[tuple[bytes, bytes], bytes] = {}


def _hash_secret(value: str, salt: bytes) -> bytes:
    key = (hashlib.sha256(value.encode()).digest(), salt)
    found = _HASHED.get(key)
    if found is None:
        found = hashlib.scrypt(value.encode(), salt=salt, **_SCRYPT)
        if len(_HASHED) >= 4096:  # bounded: wrong guesses must not grow it without limit
            _HASHED.clear()
        _HASHED[key] = found
    return found


def new_secret_value() -> str:
    """A secret shaped like the portal's: 3 chars, ``8Q~``, then 34 chars (40 in all)."""
    body = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(37))
    return f"{body[:3]}8Q~{body[3:]}"


def _load_certificate(pem: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise DirectoryError("certificatePem must be a PEM-encoded X.509 certificate") from None


class DirectoryStore(UsersMixin, AppObjectsMixin, DeviceCodesMixin):
    """Tenants, users, app registrations, credentials, service principals and app-role grants."""

    def __init__(self, db: Database, clock: VirtualClock) -> None:
        self.db = db
        self.clock = clock
        db.script(_SCHEMA + USERS_SCHEMA + APP_OBJECTS_SCHEMA + DEVICE_CODES_SCHEMA)
        self._cache = ReadCache(db)
        self.backfill_admins()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that also drops every cached read (even if it fails midway)."""
        try:
            with self.db.tx() as c:
                yield c
        finally:
            self._cache.invalidate()

    def snapshot(self) -> AbstractContextManager[None]:
        """A block of reads that sees one state of the directory (checked for changes once)."""
        return self._cache.consistent()

    def reset(self) -> None:
        """Delete every directory object."""
        with self._write() as c:
            for table in _TABLES:
                c.execute(f"DELETE FROM {table}")
            self._reset_device_code_settings(c)

    # ---- tenants -------------------------------------------------------------------------

    def create_tenant(
        self, display_name: str, domain: str | None = None, tenant_id: str | None = None
    ) -> TenantInfo:
        """Add a tenant; its domain defaults to ``<name>.onmicrosoft.com`` (made unique)."""
        display_name = _display_name(display_name)
        if tenant_id is not None and not (isinstance(tenant_id, str) and is_guid(tenant_id)):
            raise DirectoryError("tenantId must be a GUID")
        tid = (tenant_id or str(uuid.uuid4())).lower()
        if domain is None:
            label = re.sub(r"[^a-z0-9]", "", display_name.lower())[:40] or "tenant"
            domain = self._free_domain(label)
        else:
            domain = _check_domain(domain)
        if self.db.query_one("SELECT 1 FROM dir_tenants WHERE id = ? OR domain = ?", (tid, domain)):
            raise DirectoryError(f"a tenant with id {tid} or domain {domain} exists already")
        info = TenantInfo(tid, display_name, domain)
        with self._write() as c:
            c.execute(
                "INSERT INTO dir_tenants VALUES (?, ?, ?, ?)", (tid, display_name, domain, self.clock.time())
            )
            self._admin_of(c, info)  # every new tenant has admin@<domain>, a Global Administrator
        return info

    def _free_domain(self, name: str) -> str:
        n = 0
        while True:
            domain = f"{name}{n or ''}.onmicrosoft.com"
            if not self.db.query_one("SELECT 1 FROM dir_tenants WHERE domain = ?", (domain,)):
                return domain
            n += 1

    def find_tenant(self, key: str) -> TenantInfo | None:
        """The tenant whose GUID or domain is *key* (case-insensitive), or ``None``."""
        if len(key) > _CACHED_KEY_MAX:  # hostile input must not fill the cache with huge keys
            return self._load_tenant(key)
        return self._cache.get(("tenant", key), lambda: self._load_tenant(key))

    def _load_tenant(self, key: str) -> TenantInfo | None:
        row = self.db.query_one(
            "SELECT id, display_name, domain FROM dir_tenants WHERE id = ? OR domain = ?", (key.lower(), key)
        )
        return TenantInfo(row["id"], row["display_name"], row["domain"]) if row else None

    def tenant(self, key: str) -> TenantInfo:
        """Like :meth:`find_tenant` but raises ``DirectoryError(kind="not_found")``."""
        info = self.find_tenant(key)
        if info is None:
            raise DirectoryError(f"tenant {key!r} not found", "not_found")
        return info

    def tenants(self) -> list[TenantInfo]:
        """Every tenant, oldest first."""
        rows = self.db.query("SELECT id, display_name, domain FROM dir_tenants ORDER BY created, id")
        return [TenantInfo(r["id"], r["display_name"], r["domain"]) for r in rows]

    def tenant_exists(self, tid: str) -> bool:
        """True if *tid* (GUID or domain) names a tenant."""
        return self.find_tenant(tid) is not None

    # ---- applications --------------------------------------------------------------------

    def create_application(
        self,
        tenant: str,
        display_name: str,
        *,
        multi_tenant: bool = False,
        permissions: list[Any] | tuple[Any, ...] = (),
        redirect_uris: tuple[str, ...] = ("https://portal.azure.com",),
        public_client: bool = False,
        service_principal: bool = True,
        owner: str | None = None,
    ) -> AppInfo:
        """Register an app in *tenant* (GUID or domain) and create its SP there (no grants yet).

        *public_client* allows public client flows (device code) without a credential;
        *service_principal* False leaves the SP to be created later (as Graph's ``POST
        /applications`` does); *owner* is the object id of the user who registered it.
        """
        home = self.tenant(tenant)
        display_name = _display_name(display_name)
        perms = _parse_permissions(permissions)
        redirect_uris = _check_redirect_uris(redirect_uris)
        app = AppInfo(
            str(uuid.uuid4()), str(uuid.uuid4()), display_name, multi_tenant, home.id, tuple(redirect_uris)
        )
        now = self.clock.time()
        with self._write() as c:
            c.execute(
                "INSERT INTO dir_apps VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    app.app_id,
                    app.object_id,
                    display_name,
                    int(multi_tenant),
                    home.id,
                    "\n".join(redirect_uris),
                    now,
                ),
            )
            c.executemany(
                "INSERT OR IGNORE INTO dir_app_permissions VALUES (?, ?, ?)",
                [(app.app_id, p.resource.app_id, p.role) for p in perms],
            )
            if service_principal:
                c.execute(
                    "INSERT INTO dir_service_principals VALUES (?, ?, ?, ?)",
                    (home.id, app.app_id, str(uuid.uuid4()), now),
                )
            if public_client:
                c.execute("INSERT INTO dir_app_props VALUES (?, 1, '{}')", (app.app_id,))
            if owner:
                c.execute("INSERT INTO dir_app_owners VALUES (?, ?)", (app.app_id, owner.lower()))
        return app

    def find_application(self, app_id: str) -> AppInfo | None:
        """The app registration with client id *app_id*, or ``None``."""
        app_id = app_id.lower()
        if len(app_id) > _CACHED_KEY_MAX:
            return self._load_application(app_id)
        return self._cache.get(("app", app_id), lambda: self._load_application(app_id))

    def _load_application(self, app_id: str) -> AppInfo | None:
        row = self.db.query_one("SELECT * FROM dir_apps WHERE app_id = ?", (app_id,))
        if row is None:
            return None
        uris = tuple(u for u in row["redirect_uris"].split("\n") if u)
        return AppInfo(
            row["app_id"],
            row["object_id"],
            row["display_name"],
            bool(row["multi_tenant"]),
            row["home_tenant"],
            uris,
        )

    def application(self, tenant: str, app_id: str) -> AppInfo:
        """The app *app_id* registered in *tenant*; ``DirectoryError(kind="not_found")`` otherwise."""
        home = self.tenant(tenant)
        app = self.find_application(app_id)
        if app is None or app.home_tenant != home.id:
            raise DirectoryError(
                f"application {app_id!r} is not registered in tenant {home.domain}", "not_found"
            )
        return app

    def applications(self, tenant: str) -> list[AppInfo]:
        """Apps registered in *tenant*."""
        home = self.tenant(tenant)
        rows = self.db.query("SELECT app_id FROM dir_apps WHERE home_tenant = ? ORDER BY created", (home.id,))
        return [a for r in rows if (a := self.find_application(r["app_id"])) is not None]

    def delete_application(self, tenant: str, app_id: str) -> None:
        """Delete an app registration with its credentials and every SP and grant it has."""
        app = self.application(tenant, app_id)
        with self._write() as c:
            c.execute(
                "DELETE FROM dir_key_names WHERE key_id IN (SELECT key_id FROM dir_secrets WHERE app_id = ? "
                "UNION SELECT key_id FROM dir_certificates WHERE app_id = ?)",
                (app.app_id, app.app_id),
            )
            c.execute("DELETE FROM dir_delegated_grants WHERE client_id = ?", (app.app_id,))
            for table in (
                "dir_grant_times",
                "dir_app_scopes",
                "dir_app_props",
                "dir_app_owners",
                "dir_grants",
                "dir_service_principals",
                "dir_secrets",
                "dir_certificates",
                "dir_app_permissions",
                "dir_apps",
            ):
                c.execute(f"DELETE FROM {table} WHERE app_id = ?", (app.app_id,))

    def requested_permissions(self, app_id: str) -> list[Permission]:
        """The app's requested (not necessarily granted) application permissions."""
        rows = self.db.query(
            "SELECT resource_app_id, role FROM dir_app_permissions WHERE app_id = ? "
            "ORDER BY resource_app_id, role",
            (app_id.lower(),),
        )
        by_id = {r.app_id: r for r in RESOURCES}
        return [
            Permission(by_id[r["resource_app_id"]], r["role"]) for r in rows if r["resource_app_id"] in by_id
        ]

    def update_permissions(self, tenant: str, app_id: str, add: list[Any], remove: list[Any]) -> list[str]:
        """Change the requested permissions (grants are untouched until consent); returns the new list."""
        app = self.application(tenant, app_id)
        adds, removes = _parse_permissions(add), _parse_permissions(remove)
        with self._write() as c:
            c.executemany(
                "INSERT OR IGNORE INTO dir_app_permissions VALUES (?, ?, ?)",
                [(app.app_id, p.resource.app_id, p.role) for p in adds],
            )
            c.executemany(
                "DELETE FROM dir_app_permissions WHERE app_id = ? AND resource_app_id = ? AND role = ?",
                [(app.app_id, p.resource.app_id, p.role) for p in removes],
            )
        return [p.role for p in self.requested_permissions(app.app_id)]

    # ---- service principals and consent ----------------------------------------------------

    def service_principal_id(self, tid: str, app_id: str) -> str | None:
        """The object id of *app_id*'s SP in tenant *tid* (GUID or domain), or ``None``."""
        tenant = self.find_tenant(tid)
        if tenant is None:
            return None
        key = (tenant.id, app_id.lower())
        builtin = self.builtin_sp_id(tenant.id, key[1])
        if builtin is not None:  # Microsoft's own apps have a service principal in every tenant
            return builtin

        def load() -> str | None:
            row = self.db.query_one(
                "SELECT object_id FROM dir_service_principals WHERE tenant_id = ? AND app_id = ?", key
            )
            return str(row["object_id"]) if row else None

        return self._cache.get(("sp", key), load)

    def service_principal_active(self, tid: str, appid: str) -> bool:
        """True while *appid* has a service principal in *tid* (false after deletion or revoked consent)."""
        return self.service_principal_id(tid, appid) is not None

    def display_name(self, tid: str, appid: str) -> str | None:
        """The app's display name (used as ``requestor`` of machine actions), if it is known."""
        app = self.find_application(appid)
        return app.display_name if app else builtin_app_name(appid)

    def consent(self, tenant: str, app_id: str) -> list[str]:
        """Admin consent in *tenant*: create the SP if needed and grant every requested role.

        Single-tenant apps can be consented only in their home tenant. Returns the granted roles.
        """
        target = self.tenant(tenant)
        app = self.find_application(app_id)
        if app is None:
            raise DirectoryError(f"application {app_id!r} was not found", "not_found")
        if not app.multi_tenant and app.home_tenant != target.id:
            raise DirectoryError(
                f"application {app_id!r} is single-tenant (registered in another tenant); "
                "make it multi-tenant to consent in this tenant"
            )
        perms = self.requested_permissions(app.app_id)
        with self._write() as c:
            c.execute(
                "INSERT OR IGNORE INTO dir_service_principals VALUES (?, ?, ?, ?)",
                (target.id, app.app_id, str(uuid.uuid4()), self.clock.time()),
            )
            # Consent grants exactly what is requested now: removed permissions lose their grant.
            c.execute("DELETE FROM dir_grants WHERE tenant_id = ? AND app_id = ?", (target.id, app.app_id))
            c.executemany(
                "INSERT OR IGNORE INTO dir_grants VALUES (?, ?, ?, ?)",
                [(target.id, app.app_id, p.resource.app_id, p.role) for p in perms],
            )
            c.execute(
                "DELETE FROM dir_grant_times WHERE tenant_id = ? AND app_id = ? AND NOT EXISTS (SELECT 1 "
                "FROM dir_grants g WHERE g.tenant_id = dir_grant_times.tenant_id AND g.app_id = "
                "dir_grant_times.app_id AND g.resource_app_id = dir_grant_times.resource_app_id "
                "AND g.role = dir_grant_times.role)",
                (target.id, app.app_id),
            )
            self.stamp_grants(c, target.id, app.app_id, [(p.resource.app_id, p.role) for p in perms])
        return [p.role for p in perms]

    def revoke_consent(self, tenant: str, app_id: str) -> None:
        """Delete *app_id*'s SP (and its grants) in *tenant*, as deleting the enterprise app does."""
        target = self.tenant(tenant)
        with self._write() as c:
            cur = c.execute(
                "DELETE FROM dir_service_principals WHERE tenant_id = ? AND app_id = ?",
                (target.id, app_id.lower()),
            )
            for table in ("dir_grants", "dir_grant_times"):
                c.execute(
                    f"DELETE FROM {table} WHERE tenant_id = ? AND app_id = ?", (target.id, app_id.lower())
                )
        if cur.rowcount == 0:
            raise DirectoryError(
                f"application {app_id!r} has no service principal in {target.domain}", "not_found"
            )

    def granted_roles(self, tid: str, app_id: str, resource_app_id: str | None = None) -> list[str]:
        """Roles granted to *app_id*'s SP in *tid* (for one resource app, or all)."""
        tenant = self.find_tenant(tid)
        if tenant is None:
            return []
        sql = "SELECT role FROM dir_grants WHERE tenant_id = ? AND app_id = ?"
        params: tuple[str, ...] = (tenant.id, app_id.lower())
        if resource_app_id is not None:
            sql, params = sql + " AND resource_app_id = ?", (*params, resource_app_id)
        roles = self._cache.get(
            ("roles", params), lambda: tuple(r["role"] for r in self.db.query(sql + " ORDER BY role", params))
        )
        return list(roles)

    # ---- credentials ---------------------------------------------------------------------

    def add_secret(self, tenant: str, app_id: str, end_time: float | None = None) -> dict[str, Any]:
        """Create a client secret; the returned dict is the only place its value ever appears.

        Returns ``{"value", "keyId", "hint", "startTime", "endTime"}`` (times as epoch seconds).
        """
        app = self.application(tenant, app_id)
        now = self.clock.time()
        end = now + DEFAULT_SECRET_SECONDS if end_time is None else float(end_time)
        value, salt, key_id = new_secret_value(), secrets.token_bytes(16), str(uuid.uuid4())
        with self._write() as c:
            c.execute(
                "INSERT INTO dir_secrets VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key_id, app.app_id, salt, _hash_secret(value, salt), value[:3], now, end),
            )
        return {"value": value, "keyId": key_id, "hint": value[:3], "startTime": now, "endTime": end}

    def secrets_of(self, app_id: str) -> list[dict[str, Any]]:
        """Secret metadata (never the value): keyId, hint, start and end times."""
        rows = self.db.query(
            "SELECT key_id, hint, start_time, end_time FROM dir_secrets WHERE app_id = ?", (app_id.lower(),)
        )
        return [
            {"keyId": r["key_id"], "hint": r["hint"], "startTime": r["start_time"], "endTime": r["end_time"]}
            for r in rows
        ]

    def check_secret(self, app_id: str, value: str) -> str:
        """Compare *value* with the app's secrets: :class:`SecretCheck` ``OK``, ``EXPIRED`` or ``WRONG``."""
        return match_secret(self.secret_hashes(app_id), value, self.clock.time())

    def secret_hashes(self, app_id: str) -> SecretHashes:
        """The app's stored secret hashes, for :func:`match_secret` (read inside a snapshot, compared
        outside it: a secret seen for the first time costs a ~9 ms scrypt hash, not worth holding
        the database lock for)."""
        app_id = app_id.lower()

        def load() -> SecretHashes:
            rows = self.db.query(
                "SELECT salt, hash, start_time, end_time FROM dir_secrets WHERE app_id = ?", (app_id,)
            )
            return tuple((r["salt"], r["hash"], r["start_time"], r["end_time"]) for r in rows)

        return self._cache.get(("secrets", app_id), load)

    def token_subject(self, tid: str, app_id: str, resource_app_id: str) -> TokenSubject:
        """What an app-only token for *app_id* in tenant *tid* says about it (one cached read
        instead of three per token request)."""

        def load() -> TokenSubject:
            return TokenSubject(
                self.display_name(tid, app_id) or "",
                self.service_principal_id(tid, app_id) or "",
                tuple(self.granted_roles(tid, app_id, resource_app_id)),
            )

        return self._cache.get(("subject", tid, app_id.lower(), resource_app_id), load)

    def add_certificate(self, tenant: str, app_id: str, pem: str) -> CertificateInfo:
        """Register a public certificate; its end time is the certificate's ``notAfter``."""
        app = self.application(tenant, app_id)
        cert = _load_certificate(pem)
        der = cert.public_bytes(serialization.Encoding.DER)
        info = CertificateInfo(
            str(uuid.uuid4()),
            app.app_id,
            cert.public_bytes(serialization.Encoding.PEM).decode(),
            hashlib.sha1(der).hexdigest().upper(),
            hashlib.sha256(der).hexdigest().upper(),
            cert.not_valid_after_utc.timestamp(),
            cert.not_valid_before_utc.timestamp(),
        )
        with self._write() as c:
            c.execute(
                "INSERT INTO dir_certificates VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    info.key_id,
                    info.app_id,
                    info.pem,
                    info.sha1,
                    info.sha256,
                    info.start_time,
                    info.end_time,
                ),
            )
        return info

    def certificates_of(self, app_id: str) -> list[CertificateInfo]:
        """The app's registered certificates."""
        app_id = app_id.lower()

        def load() -> tuple[CertificateInfo, ...]:
            rows = self.db.query("SELECT * FROM dir_certificates WHERE app_id = ?", (app_id,))
            return tuple(
                CertificateInfo(
                    r["key_id"], r["app_id"], r["pem"], r["sha1"], r["sha256"], r["end_time"], r["start_time"]
                )
                for r in rows
            )

        return list(self._cache.get(("certs", app_id), load))
