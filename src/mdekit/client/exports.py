"""Assessment exports: every machine's software vulnerabilities, software inventory and secure
configuration, as paged JSON or as files.

::

    for row in mde.exports.software_vulnerabilities():              # paged JSON (pageSize, nextLink)
        ...
    for row in mde.exports.download("vulnerabilities"):             # gzip files behind signed links
        print(row.device_name, row.cve_id)
    changes = mde.exports.software_vulnerability_changes(since=timedelta(days=1))

The JSON exports page by ``@odata.nextLink`` only (``pageSize`` rows a page, 50,000 by default,
at most 200,000). The file exports (5 calls a minute, 20 an hour) answer download links valid for
``sas_valid_hours`` (1 by default, at most 6); :meth:`Exports.download` streams their rows, one
chunk at a time (see :mod:`mdekit.client.downloads`).
"""

from __future__ import annotations

from typing import Any, Literal

from mdekit.client.base import C, Family, ListCall, downloading, endpoint, listing, make_list
from mdekit.client.core import Call, make_call
from mdekit.client.downloads import FilesCall
from mdekit.client.odata import TimeLike, to_time
from mdekit.errors import ConfigurationError
from mdekit.models import (
    AssetConfiguration,
    AssetSoftware,
    AssetVulnerability,
    DeltaAssetVulnerability,
    ExportFiles,
)

__all__ = ["KINDS", "ExportKind", "Exports"]

#: An export: software ``vulnerabilities``, ``software`` inventory or secure ``config``uration.
ExportKind = Literal["vulnerabilities", "software", "config"]
#: kind -> (JSON operation, files operation, row type).
KINDS: dict[str, tuple[str, str, Any]] = {
    "vulnerabilities": (
        "exports.software_vulnerabilities",
        "exports.software_vulnerabilities_files",
        AssetVulnerability,
    ),
    "software": ("exports.software_inventory", "exports.software_inventory_files", AssetSoftware),
    "config": ("exports.secure_config", "exports.secure_config_files", AssetConfiguration),
}
_MAX_PAGE = 200_000


def _kind(kind: str) -> tuple[str, str, Any]:
    found = KINDS.get(kind)
    if found is None:
        raise ConfigurationError(f"unknown export {kind!r}; choose one of: {', '.join(KINDS)}")
    return found


def _paged(name: str, row: Any, page_size: int | None, limit: int | None, **params: Any) -> ListCall[Any]:
    if page_size is not None and not 1 <= page_size <= _MAX_PAGE:
        raise ConfigurationError(f"page_size must be between 1 and {_MAX_PAGE}")
    query = {**params, "pageSize": page_size}
    return make_list(name, row, query, page_size=None, limit=limit, link_only=True)


def _vulnerabilities(
    *, page_size: int | None = None, limit: int | None = None
) -> ListCall[AssetVulnerability]:
    """Every (machine, software version, CVE) of the organization, as paged JSON."""
    return _paged("exports.software_vulnerabilities", AssetVulnerability, page_size, limit)


def _changes(
    since: TimeLike, *, page_size: int | None = None, limit: int | None = None
) -> ListCall[DeltaAssetVulnerability]:
    """Vulnerabilities found (``New``) or fixed (``Fixed``) since a time, at most 14 days back."""
    name = "exports.software_vulnerability_changes"
    return _paged(name, DeltaAssetVulnerability, page_size, limit, sinceTime=to_time(since))


def _inventory(*, page_size: int | None = None, limit: int | None = None) -> ListCall[AssetSoftware]:
    """Every (machine, software version) of the organization, as paged JSON."""
    return _paged("exports.software_inventory", AssetSoftware, page_size, limit)


def _secure_config(*, page_size: int | None = None, limit: int | None = None) -> ListCall[AssetConfiguration]:
    """Every (machine, configuration) assessment of the organization, as paged JSON."""
    return _paged("exports.secure_config", AssetConfiguration, page_size, limit)


def _files(kind: ExportKind, *, sas_valid_hours: float | None = None) -> Call[ExportFiles]:
    """Start a file export: the download links (``vulnerabilities``, ``software`` or ``config``)."""
    if sas_valid_hours is not None and not 0 < sas_valid_hours <= 6:
        raise ConfigurationError("sas_valid_hours must be more than 0 and at most 6")
    hours = None if sas_valid_hours is None else f"{sas_valid_hours:g}"
    return make_call(_kind(kind)[1], ExportFiles.model_validate, params={"sasValidHours": hours})


def _download(
    kind: ExportKind,
    *,
    files: ExportFiles | None = None,
    sas_valid_hours: float | None = None,
    limit: int | None = None,
) -> FilesCall[Any]:
    """The rows of a file export, streamed from its gzip files (one chunk in memory at a time);
    *files*: links from an earlier :meth:`Exports.files` of the same kind (no new export)."""
    source = files if files is not None else _files(kind, sas_valid_hours=sas_valid_hours)
    return FilesCall(source, _kind(kind)[2], limit)


class Exports(Family[C]):
    """``client.exports``."""

    software_vulnerabilities = listing(_vulnerabilities)
    software_vulnerability_changes = listing(_changes)
    software_inventory = listing(_inventory)
    secure_config = listing(_secure_config)
    files = endpoint(_files)
    download = downloading(_download)
