"""Short-lived download links, signed and expiring on the virtual clock (no bearer token needed).

The real service hands out Azure Storage SAS URLs (live response results) and ``safedownload``
links (investigation packages): anyone holding the link may download until it expires. The
emulator serves both itself; a link carries its expiry and an HMAC over (path, expiry) with a key
kept in the data file, so links survive a restart and cannot be forged or extended.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from mdekit.emulator.clock import VirtualClock
from mdekit.emulator.db import Database

__all__ = ["LinkRefused", "LinkSigner", "iso_z", "parse_iso_z"]

_KEY = "defender_link_key"


class LinkRefused(Exception):
    """A link that is not valid: ``reason`` is ``signature`` or ``expired``."""

    def __init__(self, reason: str, expiry: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expiry = expiry


class LinkSigner:
    """Signs and checks (path, expiry) pairs."""

    def __init__(self, db: Database, clock: VirtualClock) -> None:
        self.db = db
        self.clock = clock

    def _key(self) -> bytes:
        key = self.db.get_meta(_KEY)
        if not key:
            key = secrets.token_hex(32)
            self.db.set_meta(_KEY, key)
        return bytes.fromhex(str(key))

    def _mac(self, path: str, expiry: int) -> str:
        digest = hmac.new(self._key(), f"{path}\n{expiry}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, path: str, seconds: float) -> tuple[int, str]:
        """``(expiry epoch, signature)`` for *path*, valid *seconds* from the virtual now."""
        expiry = int(self.clock.time() + seconds)
        return expiry, self._mac(path, expiry)

    def check(self, path: str, expiry: int, signature: str) -> None:
        """Raise :class:`LinkRefused` unless *signature* is this path's and *expiry* is still ahead."""
        if not hmac.compare_digest(self._mac(path, expiry), signature):
            raise LinkRefused("signature", expiry)
        if self.clock.time() >= expiry:
            raise LinkRefused("expired", expiry)


def iso_z(epoch: float) -> str:
    """``2021-02-04T16:13:50Z`` (the form of a SAS ``se`` parameter)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso_z(text: str) -> int | None:
    """The epoch of a ``se`` value, or ``None`` if it is not one."""
    try:
        return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
    except ValueError:
        return None
