"""The directory's value types and its error, shared by the store and its parts.

Kept apart from :mod:`.directory` so the parts mixed into the store (users, app objects,
device codes) can name them without importing the store itself; :mod:`.directory` re-exports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mdekit.catalog import ResourceApp

__all__ = ["AppInfo", "CertificateInfo", "DirectoryError", "Permission", "TenantInfo", "is_guid"]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class DirectoryError(Exception):
    """Bad input or a missing object; ``kind`` is ``"invalid"`` or ``"not_found"``."""

    def __init__(self, message: str, kind: str = "invalid") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class TenantInfo:
    """A tenant: GUID id, display name, initial ``<name>.onmicrosoft.com`` domain."""

    id: str
    display_name: str
    domain: str

    def to_json(self) -> dict[str, Any]:
        """The control plane's shape."""
        return {"tenantId": self.id, "displayName": self.display_name, "domain": self.domain}


@dataclass(frozen=True)
class AppInfo:
    """An app registration."""

    app_id: str
    object_id: str
    display_name: str
    multi_tenant: bool
    home_tenant: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class CertificateInfo:
    """A registered public certificate (key credential)."""

    key_id: str
    app_id: str
    pem: str
    sha1: str
    sha256: str
    end_time: float
    start_time: float = 0.0


@dataclass(frozen=True)
class Permission:
    """One application permission: an app role of a resource app."""

    resource: ResourceApp
    role: str


def is_guid(text: str) -> bool:
    """True for a GUID in the usual 8-4-4-4-12 form."""
    return bool(_GUID.match(text))
