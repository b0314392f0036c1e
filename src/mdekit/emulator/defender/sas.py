"""Signed, expiring download links like Azure Storage SAS URLs (no bearer token needed).

The real service hands out SAS URLs on blob storage (TVM export files, live response results)
and ``safedownload`` links (investigation packages): whoever holds the link may download until it
expires. The emulator serves them itself; a link carries ``st``/``se`` (start, expiry) and an
HMAC over (resource, start, expiry) with a key kept in the data file, so links survive a restart
and cannot be forged or extended. A refused link answers as blob storage does (:class:`SasError`:
403 ``AuthenticationFailed`` with the detail Azure gives, 404 ``BlobNotFound``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Mapping
from urllib.parse import quote

from mdekit.emulator.clock import VirtualClock, parse_time
from mdekit.emulator.db import Database

__all__ = ["AUTH_FAILED", "NO_BLOB", "SasError", "SasSigner", "blob_not_found", "sas_time", "signing_key"]

AUTH_FAILED = (
    "Server failed to authenticate the request. Make sure the value of Authorization header is formed "
    "correctly including the signature."
)
NO_BLOB = "The specified blob does not exist."
#: Azure accepts a start up to 15 minutes in the future (clock skew).
_SKEW = 900


class SasError(Exception):
    """A refused download: HTTP status, Azure Storage error code, message and detail."""

    def __init__(self, status: int, code: str, message: str, detail: str = "") -> None:
        super().__init__(f"{status} {code}")
        self.status, self.code, self.message, self.detail = status, code, message, detail


def blob_not_found() -> SasError:
    """404 ``BlobNotFound``."""
    return SasError(404, "BlobNotFound", NO_BLOB)


def _refused(detail: str) -> SasError:
    return SasError(403, "AuthenticationFailed", AUTH_FAILED, detail)


def sas_time(ts: float) -> str:
    """``2021-02-04T16:13:50Z`` (the form of ``st``/``se``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _http_date(ts: float) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(ts))


def signing_key(db: Database, meta_key: str) -> bytes:
    """A 256-bit HMAC key kept in the data file's ``meta`` (made on first use), so what it signs
    stays valid across restarts."""
    key = db.get_meta(meta_key)
    if key is None:
        key = base64.b64encode(os.urandom(32)).decode()
        db.set_meta(meta_key, key)
    return base64.b64decode(key)


class SasSigner:
    """Signs and checks links for *resource* strings (usually the URL path) with one key."""

    def __init__(self, db: Database, clock: VirtualClock, meta_key: str) -> None:
        self.clock = clock
        self._key = signing_key(db, meta_key)

    def sign(self, resource: str, start: str, expiry: str) -> str:
        """The ``sig`` of *resource* valid from *start* to *expiry* (``sas_time`` strings)."""
        mac = hmac.new(self._key, f"r\n{start}\n{expiry}\n{resource}".encode(), hashlib.sha256).digest()
        return base64.b64encode(mac).decode()

    def query(self, resource: str, seconds: float, *, start: float | None = None) -> str:
        """``sv=...&st=...&se=...&sr=b&sp=r&sig=...`` for *resource*, valid *seconds* from the virtual now."""
        now = self.clock.time() if start is None else start
        st, se = sas_time(now), sas_time(now + seconds)
        sig = quote(self.sign(resource, st, se), safe="")
        return f"sv=2019-12-12&st={quote(st, safe='')}&se={quote(se, safe='')}&sr=b&sp=r&sig={sig}"

    def check(self, resource: str, params: Mapping[str, str]) -> None:
        """Raise :class:`SasError` unless *params* sign *resource* and the virtual now is in their window."""
        start, expiry, sig = params.get("st", ""), params.get("se", ""), params.get("sig", "")
        if not (start and expiry and sig) or params.get("sp") != "r":
            raise _refused("Signature fields not well formed.")
        if not hmac.compare_digest(self.sign(resource, start, expiry), sig):
            raise _refused("Signature did not match.")
        try:
            t0, t1 = parse_time(start).timestamp(), parse_time(expiry).timestamp()
        except ValueError:
            raise _refused("Signature fields not well formed.") from None
        now = self.clock.time()
        if not t0 - _SKEW <= now <= t1:
            raise _refused(
                f"Signature not valid in the specified time frame: Start [{_http_date(t0)}] - "
                f"Expiry [{_http_date(t1)}] - Current [{_http_date(now)}]"
            )
