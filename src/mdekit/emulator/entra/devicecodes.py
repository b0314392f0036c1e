"""Pending device-code sign-ins (RFC 8628 as Entra serves it), kept in the directory's database.

A flow starts at ``/devicecode`` (``device_code`` for the client, a short ``user_code`` for the
person), waits while the client polls, and ends approved (a user signed in), declined, or expired
(``expires_in`` after it started, on the virtual clock). The device code itself is stored only as
its SHA-256. Approval and decline come from the sign-in page or the control plane; the token
endpoint (:mod:`mdekit.emulator.entra.delegated`) reads and redeems flows here.

``interval`` and ``expires_in`` default to Entra's 5 s and 900 s ([ED:v2-oauth2-device-code]);
tests may shorten them (``POST /_emulator/devicecode/settings``), persisted with the data file.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mdekit.emulator.clock import VirtualClock
    from mdekit.emulator.db import Database

__all__ = [
    "DEVICE_CODES_SCHEMA",
    "DEVICE_CODES_TABLES",
    "DeviceCodesMixin",
    "DeviceFlow",
    "FlowStatus",
    "RefreshGrant",
    "normalize_user_code",
]

DEVICE_CODES_SCHEMA = """
CREATE TABLE IF NOT EXISTS dir_device_codes (
  code_hash TEXT PRIMARY KEY, user_code TEXT NOT NULL UNIQUE, tenant_id TEXT NOT NULL,
  client_id TEXT NOT NULL, scope TEXT NOT NULL, resource TEXT NOT NULL, version TEXT NOT NULL,
  created REAL NOT NULL, expires REAL NOT NULL, interval INTEGER NOT NULL, last_poll REAL,
  status TEXT NOT NULL, user_id TEXT);
CREATE TABLE IF NOT EXISTS dir_refresh_tokens (
  token_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
  created REAL NOT NULL, expires REAL NOT NULL);
"""
DEVICE_CODES_TABLES = ("dir_refresh_tokens", "dir_device_codes")
#: A refresh token's lifetime: 90 days ("Refresh tokens ... 90 days", configurable-token-lifetimes).
REFRESH_SECONDS = 90 * 86400
#: Finished or expired flows are kept this long after their expiry, then deleted.
_KEEP_SECONDS = 86400

DEFAULT_INTERVAL = 5
DEFAULT_EXPIRES_IN = 900
# Real user codes are 9 upper-case letters and digits ("FRWQDE7YL"); 0/O and 1/I are left out
# here so a code read aloud cannot be mistyped.
_USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_SETTINGS = "devicecode_settings"


class FlowStatus:
    """Where a device-code flow is."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    CONSENT_REQUIRED = "consent_required"
    REDEEMED = "redeemed"


@dataclass(frozen=True)
class DeviceFlow:
    """One device-code sign-in. ``tenant_id`` is empty when started at ``organizations``/``common``."""

    code_hash: str
    user_code: str
    tenant_id: str
    client_id: str
    scope: str
    resource: str
    version: str
    created: float
    expires: float
    interval: int
    last_poll: float | None
    status: str
    user_id: str | None


@dataclass(frozen=True)
class RefreshGrant:
    """What a refresh token stands for: a user's sign-in to a client in a tenant."""

    tenant_id: str
    client_id: str
    user_id: str
    expires: float


def _hash(device_code: str) -> str:
    return hashlib.sha256(device_code.encode()).hexdigest()


def normalize_user_code(text: str) -> str:
    """A user code as typed: case and separators do not matter."""
    return "".join(ch for ch in text.upper() if ch.isalnum())[:32]


def _flow(row: sqlite3.Row) -> DeviceFlow:
    return DeviceFlow(
        row["code_hash"],
        row["user_code"],
        row["tenant_id"],
        row["client_id"],
        row["scope"],
        row["resource"],
        row["version"],
        row["created"],
        row["expires"],
        row["interval"],
        row["last_poll"],
        row["status"],
        row["user_id"],
    )


class DeviceCodesMixin:
    """Device-code flows; mixed into :class:`~mdekit.emulator.entra.directory.DirectoryStore`."""

    db: Database
    clock: VirtualClock

    if TYPE_CHECKING:

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def device_code_settings(self) -> tuple[int, int]:
        """``(interval, expires_in)`` that new flows get, in seconds."""
        saved = self.db.get_meta(_SETTINGS) or {}
        return int(saved.get("interval", DEFAULT_INTERVAL)), int(saved.get("expiresIn", DEFAULT_EXPIRES_IN))

    def set_device_code_settings(
        self, interval: int | None = None, expires_in: int | None = None
    ) -> tuple[int, int]:
        """Change the interval and lifetime of flows started from now on."""
        current_interval, current_expiry = self.device_code_settings()
        interval = current_interval if interval is None else interval
        expires_in = current_expiry if expires_in is None else expires_in
        self.db.set_meta(_SETTINGS, {"interval": interval, "expiresIn": expires_in})
        return interval, expires_in

    def _reset_device_code_settings(self, c: sqlite3.Connection) -> None:
        """Back to Entra's interval and lifetime (part of the directory's reset)."""
        c.execute("DELETE FROM meta WHERE key = ?", (_SETTINGS,))

    def start_device_flow(
        self, tenant_id: str, client_id: str, *, scope: str = "", resource: str = "", version: str = "v2"
    ) -> tuple[str, DeviceFlow]:
        """A new pending flow; returns the device code (known only to the caller) and the flow."""
        interval, expires_in = self.device_code_settings()
        now = self.clock.time()
        device_code = "DAQABIQEAAAD" + secrets.token_urlsafe(120)
        with self._write() as c:
            c.execute("DELETE FROM dir_device_codes WHERE expires < ?", (now - _KEEP_SECONDS,))
            while True:  # user codes are short: draw again on the rare collision
                user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(9))
                if not c.execute(
                    "SELECT 1 FROM dir_device_codes WHERE user_code = ?", (user_code,)
                ).fetchone():
                    break
            c.execute(
                "INSERT INTO dir_device_codes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL)",
                (
                    _hash(device_code),
                    user_code,
                    tenant_id,
                    client_id.lower(),
                    scope,
                    resource,
                    version,
                    now,
                    now + expires_in,
                    interval,
                    FlowStatus.PENDING,
                ),
            )
        return device_code, self._flow_by("code_hash", _hash(device_code))  # type: ignore[return-value]

    def _flow_by(self, column: str, value: str) -> DeviceFlow | None:
        row = self.db.query_one(f"SELECT * FROM dir_device_codes WHERE {column} = ?", (value,))
        return _flow(row) if row else None

    def device_flow(self, device_code: str) -> DeviceFlow | None:
        """The flow of a device code, or ``None``."""
        if not device_code or len(device_code) > 4096:
            return None
        return self._flow_by("code_hash", _hash(device_code))

    def device_flow_by_user_code(self, user_code: str) -> DeviceFlow | None:
        """The flow a person's code names (any case, separators ignored), or ``None``."""
        code = normalize_user_code(user_code)
        return self._flow_by("user_code", code) if code else None

    def decide_device_flow(self, flow: DeviceFlow, status: str, user_id: str | None = None) -> None:
        """Record the person's decision (approved, declined, or consent refused by policy)."""
        with self._write() as c:
            c.execute(
                "UPDATE dir_device_codes SET status = ?, user_id = ? WHERE code_hash = ?",
                (status, user_id, flow.code_hash),
            )

    def record_poll(self, flow: DeviceFlow, *, interval: int | None = None, redeemed: bool = False) -> None:
        """Note a poll (and a new interval after ``slow_down``, or the redemption)."""
        with self._write() as c:
            c.execute(
                "UPDATE dir_device_codes SET last_poll = ?, interval = ?, status = ? WHERE code_hash = ?",
                (
                    self.clock.time(),
                    flow.interval if interval is None else interval,
                    FlowStatus.REDEEMED if redeemed else flow.status,
                    flow.code_hash,
                ),
            )

    # ---- refresh tokens ------------------------------------------------------------------------

    def issue_refresh_token(self, tenant_id: str, client_id: str, user_id: str) -> str:
        """A new opaque refresh token for the user's sign-in to *client_id* (stored hashed)."""
        token = "1.AQAB" + secrets.token_urlsafe(160)
        now = self.clock.time()
        with self._write() as c:
            c.execute("DELETE FROM dir_refresh_tokens WHERE expires < ?", (now,))
            c.execute(
                "INSERT INTO dir_refresh_tokens VALUES (?, ?, ?, ?, ?, ?)",
                (_hash(token), tenant_id, client_id.lower(), user_id, now, now + REFRESH_SECONDS),
            )
        return token

    def redeem_refresh_token(self, token: str) -> RefreshGrant | None:
        """The sign-in behind a refresh token, or ``None`` when unknown or expired.

        A new refresh token comes with every answer; the old one stays valid until it expires
        (Entra does not invalidate a refresh token on use; how long an old one lasts is UNVERIFIED).
        """
        if not token or len(token) > 4096:
            return None
        row = self.db.query_one("SELECT * FROM dir_refresh_tokens WHERE token_hash = ?", (_hash(token),))
        if row is None or row["expires"] <= self.clock.time():
            return None
        return RefreshGrant(row["tenant_id"], row["client_id"], row["user_id"], row["expires"])
