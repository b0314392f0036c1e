"""Threat & vulnerability management: vulnerabilities, software, recommendations, remediation, scores.

::

    for cve in mde.vulnerabilities.list(severity="Critical", min_cvss=9):
        exposed = mde.vulnerabilities.machines(cve.id).all() # machines exposed to the CVE
    mde.software.missing_kbs_by_machine(machine_id).count()   # how many KBs one machine misses
    mde.scores.exposure().score

Each method names one catalogue operation (``vulnerabilities.*``, ``software.*``,
``recommendations.*``, ``remediation.*``, ``scores.*``), which gives its path, its roles
(``Vulnerability.Read.All``, ``Software.Read.All``, ``SecurityRecommendation.Read.All``,
``RemediationTasks.Read.All``, ``Score.Read.All``: checked before sending) and its rate limit.
Every list, the per-item ones (``machines(id)``, ``by_machine(machine)``...) included, is a lazy
pager taking ``select=``, ``order_by=`` and ``limit=``, with ``.all()`` and ``.count()``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from mdekit.client.base import (
    C,
    Family,
    ListCall,
    Walk,
    endpoint,
    listing,
    make_list,
    procedure,
    sub_list,
    values,
)
from mdekit.client.core import Call, make_call
from mdekit.client.exports import KINDS
from mdekit.client.flow import Flow
from mdekit.client.odata import Names, TimeLike, and_, eq, ge, literal
from mdekit.errors import ConfigurationError
from mdekit.models import (
    AssetSoftware,
    AssetVulnerability,
    ConfigurationScore,
    ExposureScore,
    MachineReference,
    MachineVulnerability,
    MissingKb,
    Recommendation,
    RemediationTask,
    Software,
    SoftwareDistribution,
    Vulnerability,
)

__all__ = [
    "Recommendations",
    "Remediation",
    "Scores",
    "SoftwareFamily",
    "Vulnerabilities",
    "version_key",
]


def _raw(filter: str | None) -> str | None:
    return f"({filter})" if filter else None


# ---- vulnerabilities ----------------------------------------------------------------------------


def _vulns(
    *,
    severity: str | Sequence[str] | None = None,
    min_cvss: float | None = None,
    updated_since: TimeLike | None = None,
    published_since: TimeLike | None = None,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[Vulnerability]:
    """Vulnerabilities (CVEs) known to TVM; friendly filters are ANDed with a raw OData ``filter``."""
    flt = and_(
        [
            eq("severity", severity),
            None if min_cvss is None else f"cvssV3 ge {literal(float(min_cvss))}",
            ge("updatedOn", updated_since),
            ge("publishedOn", published_since),
            _raw(filter),
        ]
    )
    return make_list(
        "vulnerabilities.list",
        Vulnerability,
        {"$filter": flt},
        page_size=page_size,
        limit=limit,
        select=select,
        order_by=order_by,
    )


def _vuln(cve_id: str) -> Call[Vulnerability]:
    """One vulnerability by CVE id (``CVE-2024-38063``)."""
    return make_call("vulnerabilities.get", Vulnerability.model_validate, id=cve_id)


def _by_machine_and_software(
    *,
    cve_id: str | Sequence[str] | None = None,
    machine_id: str | Sequence[str] | None = None,
    product_name: str | None = None,
    product_vendor: str | None = None,
    severity: str | Sequence[str] | None = None,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[MachineVulnerability]:
    """Every (machine, product version, CVE) of the organization."""
    flt = and_(
        [
            eq("cveId", cve_id),
            eq("machineId", machine_id),
            eq("productName", product_name),
            eq("productVendor", product_vendor),
            eq("severity", severity),
            _raw(filter),
        ]
    )
    params = {"$filter": flt}
    name = "vulnerabilities.by_machine_and_software"
    return make_list(
        name, MachineVulnerability, params, page_size=page_size, limit=limit, select=select, order_by=order_by
    )


class Vulnerabilities(Family[C]):
    """``client.vulnerabilities``."""

    list = listing(_vulns)
    get = endpoint(_vuln)
    machines = listing(
        sub_list("vulnerabilities.machine_references", MachineReference, "The machines exposed to a CVE.")
    )
    by_machine = listing(
        sub_list(
            "vulnerabilities.by_machine",
            Vulnerability,
            "The vulnerabilities found on one machine (device id or computer name).",
        )
    )
    by_machine_and_software = listing(_by_machine_and_software)


# ---- software -----------------------------------------------------------------------------------


def _software_list(
    *,
    name: str | Sequence[str] | None = None,
    vendor: str | Sequence[str] | None = None,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[Software]:
    """The organization's software inventory (products, not versions)."""
    flt = and_([eq("name", name), eq("vendor", vendor), _raw(filter)])
    return make_list(
        "software.list",
        Software,
        {"$filter": flt},
        page_size=page_size,
        limit=limit,
        select=select,
        order_by=order_by,
    )


def _software(software_id: str) -> Call[Software]:
    """One product by id (``microsoft-_-edge``: vendor and name)."""
    return make_call("software.get", Software.model_validate, id=software_id)


_PART = re.compile(r"\d+|[a-z]+")


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key for product versions: numeric parts compare as numbers (``1.10`` > ``1.9``),
    letters as text and after numbers; ``"24.09"`` < ``"24.9.1"`` < ``"124.0"``."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _PART.findall(version.lower()))


def _export(kind: str, row: type[Any]) -> ListCall[Any]:
    return make_list(KINDS[kind][0], row, {}, page_size=None, limit=None, link_only=True)


class SoftwareFamily(Family[C]):
    """``client.software``."""

    def _machines_below(self, software_id: str, version: str) -> Flow[list[AssetSoftware]]:
        """Machines running a product (``vendor-_-name``) at a version below *version*: one software
        inventory row each (machine, installed version), read from the inventory export."""
        vendor, _, name = software_id.lower().partition("-_-")
        if not vendor or not name:
            raise ConfigurationError(
                f"software id {software_id!r} is not vendor-_-name (e.g. microsoft-_-edge)"
            )
        below, found = version_key(version), []
        walk = Walk(_export("software", AssetSoftware), None, self._client.options)
        while (page := walk.next()) is not None:
            rows = (yield from page).items
            found += [
                r
                for r in rows
                if (r.software_vendor or "").lower() == vendor
                and (r.software_name or "").lower() == name
                and version_key(r.software_version or "") < below
            ]
        return found

    def _missing_kbs_per_machine(self) -> Flow[dict[str, list[str]]]:
        """The missing security updates of every machine that misses one: device id -> KB numbers
        (as ``missing_kbs_by_machine`` names them), read from the vulnerabilities export."""
        found: dict[str, set[str]] = {}
        walk = Walk(_export("vulnerabilities", AssetVulnerability), None, self._client.options)
        while (page := walk.next()) is not None:
            for r in (yield from page).items:
                kb = (r.recommended_security_update_id or "").upper().removeprefix("KB")
                if kb and r.device_id:
                    found.setdefault(r.device_id, set()).add(kb)
        return {device: sorted(kbs) for device, kbs in sorted(found.items())}

    machines_below = procedure(_machines_below)
    missing_kbs_per_machine = procedure(_missing_kbs_per_machine)

    list = listing(_software_list)
    get = endpoint(_software)
    vulnerabilities = listing(
        sub_list(
            "software.vulnerabilities",
            Vulnerability,
            "The vulnerabilities of a product's installed versions.",
        )
    )
    machines = listing(
        sub_list(
            "software.machine_references", MachineReference, "The machines that have a product installed."
        )
    )
    distributions = listing(
        sub_list(
            "software.distributions",
            SoftwareDistribution,
            "A product's installed versions and how many machines run each.",
        )
    )
    missing_kbs = listing(
        sub_list("software.missing_kbs", MissingKb, "Security updates missing for a product.")
    )
    by_machine = listing(sub_list("software.by_machine", Software, "The software installed on one machine."))
    missing_kbs_by_machine = listing(
        sub_list("software.missing_kbs_by_machine", MissingKb, "The security updates missing on one machine.")
    )


# ---- security recommendations -------------------------------------------------------------------


def _recommendations(
    *,
    status: str | None = None,
    remediation_type: str | Sequence[str] | None = None,
    category: str | Sequence[str] | None = None,
    vendor: str | Sequence[str] | None = None,
    min_severity_score: float | None = None,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[Recommendation]:
    """Security recommendations of the organization."""
    flt = and_(
        [
            eq("status", status),
            eq("remediationType", remediation_type),
            eq("recommendationCategory", category),
            eq("vendor", vendor),
            None if min_severity_score is None else f"severityScore ge {literal(float(min_severity_score))}",
            _raw(filter),
        ]
    )
    return make_list(
        "recommendations.list",
        Recommendation,
        {"$filter": flt},
        page_size=page_size,
        limit=limit,
        select=select,
        order_by=order_by,
    )


def _recommendation(recommendation_id: str) -> Call[Recommendation]:
    """One recommendation (``va-_-microsoft-_-edge``, ``sca-_-scid-2010``)."""
    return make_call("recommendations.get", Recommendation.model_validate, id=recommendation_id)


def _rec_software(recommendation_id: str) -> Call[Software]:
    """The software a recommendation is about (one product; software recommendations only)."""
    return make_call("recommendations.software", Software.model_validate, id=recommendation_id)


class Recommendations(Family[C]):
    """``client.recommendations``."""

    list = listing(_recommendations)
    get = endpoint(_recommendation)
    software = endpoint(_rec_software)
    machines = listing(
        sub_list(
            "recommendations.machine_references",
            MachineReference,
            "The machines a recommendation applies to.",
        )
    )
    vulnerabilities = listing(
        sub_list(
            "recommendations.vulnerabilities", Vulnerability, "The vulnerabilities a recommendation fixes."
        )
    )
    by_machine = listing(
        sub_list("recommendations.by_machine", Recommendation, "The recommendations for one machine.")
    )


# ---- remediation activities and scores ----------------------------------------------------------


def _tasks(
    *,
    status: str | None = None,
    created_since: TimeLike | None = None,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[RemediationTask]:
    """Remediation activities (``Active`` or ``Completed``)."""
    flt = and_([eq("status", status), ge("createdOn", created_since), _raw(filter)])
    return make_list(
        "remediation.list",
        RemediationTask,
        {"$filter": flt},
        page_size=page_size,
        limit=limit,
        select=select,
        order_by=order_by,
    )


def _task(task_id: str) -> Call[RemediationTask]:
    """One remediation activity."""
    return make_call("remediation.get", RemediationTask.model_validate, id=task_id)


class Remediation(Family[C]):
    """``client.remediation``."""

    list = listing(_tasks)
    get = endpoint(_task)
    machines = listing(
        sub_list(
            "remediation.machine_references", MachineReference, "The machines a remediation activity targets."
        )
    )


def _exposure() -> Call[ExposureScore]:
    """The organization's exposure score (0-100, lower is better)."""
    return make_call("scores.exposure", ExposureScore.model_validate)


def _exposure_by_groups() -> Call[list[ExposureScore]]:
    """The exposure score of each machine group (``rbac_group_name``)."""
    return make_call("scores.exposure_by_machine_groups", values(ExposureScore))


def _configuration() -> Call[ConfigurationScore]:
    """The organization's configuration (device secure) score (0-1000, higher is better)."""
    return make_call("scores.configuration", ConfigurationScore.model_validate)


class Scores(Family[C]):
    """``client.scores``."""

    exposure = endpoint(_exposure)
    exposure_by_machine_groups = endpoint(_exposure_by_groups)
    configuration = endpoint(_configuration)
