"""TVM entities in the service's shapes and key order, computed from one tenant's current state.

:class:`OrgView` reads a tenant's version distribution once (one index-only query) and builds
vulnerabilities, software, distributions, recommendations, missing KBs and scores from it and
the shipped records, so every entity of one answer comes from the same snapshot. Key orders
follow the documentation examples (service-facts-2 section 1.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mdekit.emulator.defender.tvm.assess import cves_for, version_weight
from mdekit.emulator.defender.tvm.configs import CONFIG_BY_ID, CONFIGS, Config
from mdekit.emulator.defender.tvm.cves import CVE_BY_ID, CVES, WINDOWS_UPDATES, Cve, WindowsUpdate
from mdekit.emulator.defender.tvm.products import OS_PRODUCT, product
from mdekit.emulator.defender.tvm.store import TvmStore, Version

__all__ = ["KB_URL", "OrgView", "config_category", "vulnerability_dto"]

KB_URL = "https://catalog.update.microsoft.com/v7/site/Search.aspx?q=KB{kb}"
_OS_NAMES = {name for _, name in OS_PRODUCT.values()}
_CATEGORY = {"Security controls": "SecurityControls"}
_KB_CVES: dict[str, set[str]] = {}
for _cve in CVES:
    for _hit in _cve.affected:
        if _hit.kb:
            _KB_CVES.setdefault(_hit.kb, set()).add(_cve.id)
_UPDATES = {u.kb: u for u in WINDOWS_UPDATES}


def config_category(config: Config) -> str:
    """A configuration's recommendation category (``Security controls`` -> ``SecurityControls``)."""
    return _CATEGORY.get(config.category, config.category)


def vulnerability_dto(cve: Cve, exposed: int) -> dict[str, Any]:
    """The ``PublicVulnerabilityDto`` of machine, software and recommendation lists."""
    return {
        "id": cve.id,
        "name": cve.id,
        "description": cve.description,
        "severity": cve.severity,
        "cvssV3": cve.cvss,
        "exposedMachines": exposed,
        "publishedOn": cve.published,
        "updatedOn": cve.updated,
        "publicExploit": cve.exploit in ("poc", "active"),
        "exploitVerified": cve.exploit == "active",
        "exploitInKit": False,  # UNVERIFIED: which CVEs TVM marks as in an exploit kit
        "exploitTypes": list(cve.exploit_types),
        "exploitUris": [],
    }


@dataclass
class OrgView:
    """One tenant's TVM state, read once per request."""

    store: TvmStore
    tenant: str
    dist: dict[Version, int] = field(init=False)

    def __post_init__(self) -> None:
        self.dist = self.store.distribution(self.tenant)

    # -- basics ----------------------------------------------------------------------------------
    @cached_property
    def fleet(self) -> int:
        """Machines TVM assesses (with any installed software)."""
        return self.store.machine_count(self.tenant)

    @cached_property
    def exposure(self) -> dict[str, int]:
        """Exposed machines per CVE id."""
        return self.store.cve_exposure(self.tenant)

    @cached_property
    def products(self) -> dict[tuple[str, str], dict[str, int]]:
        """Installed products -> {version: machines}, by vendor and name."""
        out: dict[tuple[str, str], dict[str, int]] = {}
        for (vendor, name, version), count in sorted(self.dist.items()):
            out.setdefault((vendor, name), {})[version] = count
        return out

    def product_cves(self, vendor: str, name: str) -> list[Cve]:
        """CVEs of the installed versions of a product, by id."""
        found = {
            cve.id: cve for v in self.products.get((vendor, name), {}) for cve, _ in cves_for(vendor, name, v)
        }
        return [found[k] for k in sorted(found)]

    def vulnerable_count(self, vendor: str, name: str) -> int:
        """Machines with a vulnerable version of the product."""
        return sum(c for v, c in self.products.get((vendor, name), {}).items() if cves_for(vendor, name, v))

    def impact(self, vendor: str, name: str) -> float:
        """How much the exposure score falls if every machine updates the product."""
        if not self.fleet:
            return 0.0
        total = sum(
            count * version_weight(vendor, name, version)
            for version, count in self.products.get((vendor, name), {}).items()
        )
        return round(total / self.fleet, 8)

    # -- vulnerabilities ---------------------------------------------------------------------------
    def vulnerability(self, cve: Cve) -> dict[str, Any]:
        """The ``Vulnerability`` entity (list and get)."""
        dto = vulnerability_dto(cve, self.exposure.get(cve.id, 0))
        return {
            **{k: dto[k] for k in ("id", "name", "description", "severity", "cvssV3")},
            "cvssVector": cve.vector,
            **{k: v for k, v in dto.items() if k not in ("id", "name", "description", "severity", "cvssV3")},
            "CveSupportability": "supported",
        }

    def vulnerabilities(self) -> list[dict[str, Any]]:
        """Every vulnerability TVM knows (the shipped records), by id."""
        return [self.vulnerability(c) for c in sorted(CVES, key=lambda c: c.id)]

    def dtos(self, cves: Iterable[Cve]) -> list[dict[str, Any]]:
        """``PublicVulnerabilityDto`` items."""
        return [vulnerability_dto(c, self.exposure.get(c.id, 0)) for c in cves]

    def machine_cves(self, installs: Iterable[tuple[str, str, str, str]]) -> list[Cve]:
        """CVEs of a machine's installs, by id."""
        found = {
            cve.id: cve for vendor, name, version, _ in installs for cve, _ in cves_for(vendor, name, version)
        }
        return [found[k] for k in sorted(found)]

    # -- software ------------------------------------------------------------------------------------
    def software(self, vendor: str, name: str) -> dict[str, Any]:
        """The ``Software`` entity."""
        cves = self.product_cves(vendor, name)
        return {
            "id": f"{vendor}-_-{name}",
            "name": name,
            "vendor": vendor,
            "weaknesses": len(cves),
            "publicExploit": any(c.exploit in ("poc", "active") for c in cves),
            "activeAlert": False,
            "exposedMachines": self.vulnerable_count(vendor, name),
            "impactScore": self.impact(vendor, name),
        }

    def software_list(self) -> list[dict[str, Any]]:
        """Every installed product, by id."""
        return [self.software(v, n) for v, n in self.products]

    def find_product(self, software_id: str) -> tuple[str, str] | None:
        """``(vendor, name)`` of an installed product's id (``vendor-_-name``, case-insensitive)."""
        key = software_id.lower()
        for vendor, name in self.products:
            if f"{vendor}-_-{name}".lower() == key:
                return vendor, name
        return None

    def distributions(self, vendor: str, name: str) -> list[dict[str, Any]]:
        """Version distribution of a product."""
        return [
            {"version": v, "installations": c, "vulnerabilities": len(cves_for(vendor, name, v))}
            for v, c in self.products.get((vendor, name), {}).items()
        ]

    # -- missing KBs ----------------------------------------------------------------------------------
    @cached_property
    def kb_missed(self) -> dict[str, int]:
        """Machines missing each security update (one OS per machine: no double counting)."""
        out: dict[str, int] = {}
        for (vendor, name, version), count in self.dist.items():
            for kb in {hit.kb for _, hit in cves_for(vendor, name, version) if hit.kb}:
                out[kb] = out.get(kb, 0) + count
        return out

    def missing_kb(self, update: WindowsUpdate) -> dict[str, Any]:
        """The ``PublicProductFixDto`` of one security update."""
        return {
            "id": update.kb,
            "name": update.name,
            "productsNames": [update.product],
            "url": KB_URL.format(kb=update.kb),
            "machineMissedOn": self.kb_missed.get(update.kb, 0),
            "cveAddressed": len(_KB_CVES.get(update.kb, ())),
        }

    def missing_kbs(self, versions: Iterable[tuple[str, str, str]]) -> list[dict[str, Any]]:
        """Missing security updates of these product versions, by KB."""
        kbs = {
            hit.kb
            for vendor, name, version in versions
            for _, hit in cves_for(vendor, name, version)
            if hit.kb
        }
        return [self.missing_kb(_UPDATES[kb]) for kb in sorted(kbs)]

    # -- recommendations ------------------------------------------------------------------------------
    def software_recommendation(self, vendor: str, name: str) -> dict[str, Any]:
        """``va-_-vendor-_-name``: update a vulnerable product."""
        found = product(vendor, name)
        component = found.component if found else name
        cves = self.product_cves(vendor, name)
        is_os = name in _OS_NAMES
        target = "" if is_os or found is None else found.latest
        exposed = self.vulnerable_count(vendor, name)
        return {
            "id": f"va-_-{vendor}-_-{name}",
            "productName": name,
            "recommendationName": f"Update {component}" + (f" to version {target}" if target else ""),
            "weaknesses": len(cves),
            "vendor": vendor,
            "recommendedVersion": target,
            "recommendationCategory": "OS" if is_os else "Application",
            "subCategory": "",
            "severityScore": max((c.cvss for c in cves), default=0.0),
            "publicExploit": any(c.exploit in ("poc", "active") for c in cves),
            "activeAlert": False,
            "associatedThreats": [],
            "remediationType": "Update",
            "status": "Active",
            "configScoreImpact": 0,
            "exposureImpact": self.impact(vendor, name),
            "totalMachineCount": sum(self.products.get((vendor, name), {}).values()),
            "exposedMachinesCount": exposed,
            "nonProductivityImpactedAssets": 0,
            "relatedComponent": component,
            "tags": [],
            "exposedCriticalDevices": self.critical.get((vendor, name), 0),
        }

    @cached_property
    def critical(self) -> dict[tuple[str, str], int]:
        """Exposed high-value machines per product."""
        return self.store.critical_exposed(self.tenant)

    @cached_property
    def assessments(self) -> dict[str, dict[str, tuple[bool, bool]]]:
        """machine id -> config id -> (applicable, compliant)."""
        return self.store.config_assessment(self.tenant)

    @cached_property
    def _config_totals(self) -> dict[str, tuple[int, int]]:
        applicable = dict.fromkeys((c.id for c in CONFIGS), 0)
        failing = dict(applicable)
        for checks in self.assessments.values():
            for config_id, (is_applicable, compliant) in checks.items():
                if is_applicable:
                    applicable[config_id] += 1
                    failing[config_id] += 0 if compliant else 1
        return {k: (applicable[k], failing[k]) for k in applicable}

    def config_counts(self, config: Config) -> tuple[int, int]:
        """(applicable machines, non-compliant machines) of a configuration."""
        return self._config_totals[config.id]

    def config_recommendation(self, config: Config) -> dict[str, Any]:
        """``sca-_-scid-...``: fix a misconfiguration. The shape for configurations is UNVERIFIED."""
        applicable, failing = self.config_counts(config)
        total_impact = sum(c.impact for c in CONFIGS) or 1
        return {
            "id": config.recommendation_id,
            "productName": "",
            "recommendationName": config.name,
            "weaknesses": 0,
            "vendor": "",
            "recommendedVersion": "",
            "recommendationCategory": config_category(config),
            "subCategory": config.subcategory,
            "severityScore": float(config.impact),
            "publicExploit": False,
            "activeAlert": False,
            "associatedThreats": [],
            "remediationType": "ConfigurationChange",
            "status": "Active",
            "configScoreImpact": round(1000 * config.impact / total_impact * failing / max(applicable, 1), 2),
            "exposureImpact": 0,
            "totalMachineCount": applicable,
            "exposedMachinesCount": failing,
            "nonProductivityImpactedAssets": 0,
            "relatedComponent": config.subcategory or config.category,
            "tags": [],
            "exposedCriticalDevices": 0,
        }

    def recommendations(self) -> list[dict[str, Any]]:
        """Active recommendations: vulnerable products, then failing configurations."""
        software = [self.software_recommendation(v, n) for v, n in self.products if self.product_cves(v, n)]
        configs = [self.config_recommendation(c) for c in CONFIGS if self.config_counts(c)[1]]
        return software + configs

    def recommendation(self, rec_id: str) -> dict[str, Any] | None:
        """A recommendation by id (case-insensitive), if active."""
        key = rec_id.lower()
        if key.startswith("sca-_-"):
            config = CONFIG_BY_ID.get(key[len("sca-_-") :])
            return self.config_recommendation(config) if config and self.config_counts(config)[1] else None
        if key.startswith("va-_-"):
            found = self.find_product(key[len("va-_-") :])
            if found and self.product_cves(*found):
                return self.software_recommendation(*found)
        return None

    # -- scores --------------------------------------------------------------------------------------
    def exposure_score(self, dist: dict[Version, int] | None = None, fleet: int | None = None) -> float:
        """Mean machine exposure, at most 100 (the organization's, or a group's)."""
        dist = self.dist if dist is None else dist
        fleet = self.fleet if fleet is None else fleet
        if not fleet:
            return 0.0
        total = sum(count * version_weight(*version) for version, count in dist.items())
        return min(100.0, total / fleet)

    def configuration_score(self) -> int:
        """1,000 x compliant impact / applicable impact over every machine."""
        weights = {c.id: c.impact for c in CONFIGS}
        good = total = 0
        for by_config in self.assessments.values():
            for config_id, (applicable, compliant) in by_config.items():
                if applicable:
                    total += weights[config_id]
                    good += weights[config_id] if compliant else 0
        return round(1000 * good / total) if total else 0


def cve(cve_id: str) -> Cve | None:
    """A shipped CVE by id (case-insensitive)."""
    return CVE_BY_ID.get(cve_id.upper())
