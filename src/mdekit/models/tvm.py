"""Threat & vulnerability management records (service-facts-2 section 1.2-1.5).

Wire names are camelCase except where the service writes otherwise (``CveSupportability``);
unknown fields are kept, as for every :class:`~mdekit.models.base.MdeModel`. The assessment
export rows carry the service's non-ISO times (``2020-12-30 14:17:26``), parsed when possible.
"""

from __future__ import annotations

from pydantic import Field

from mdekit.models.base import MdeModel, Timestamp

__all__ = [
    "AssetConfiguration",
    "AssetSoftware",
    "AssetVulnerability",
    "ConfigurationScore",
    "DeltaAssetVulnerability",
    "DeviceAvInfo",
    "ExportFiles",
    "ExposureScore",
    "MachineReference",
    "MachineVulnerability",
    "MissingKb",
    "Recommendation",
    "RemediationTask",
    "Software",
    "SoftwareDistribution",
    "Vulnerability",
]


class Vulnerability(MdeModel):
    """A CVE as TVM describes it (``/api/vulnerabilities``; machine/software lists omit the vector)."""

    id: str
    name: str | None = None
    description: str | None = None
    severity: str | None = None
    cvss_v3: float | None = None
    cvss_vector: str | None = None
    exposed_machines: int | None = None
    published_on: Timestamp = None
    updated_on: Timestamp = None
    public_exploit: bool | None = None
    exploit_verified: bool | None = None
    exploit_in_kit: bool | None = None
    exploit_types: list[str] = Field(default_factory=list)
    exploit_uris: list[str] = Field(default_factory=list)
    cve_supportability: str | None = Field(default=None, alias="CveSupportability")
    epss: float | None = Field(default=None, alias="EPSS")  # UNVERIFIED casing (newer tenants)


class MachineReference(MdeModel):
    """A machine in a ``machineReferences`` list."""

    id: str
    computer_dns_name: str | None = None
    os_platform: str | None = None
    rbac_group_name: str | None = None


class MachineVulnerability(MdeModel):
    """One (machine, product version, CVE) of ``/api/vulnerabilities/machinesVulnerabilities``."""

    id: str
    cve_id: str | None = None
    machine_id: str | None = None
    fixing_kb_id: str | None = None
    product_name: str | None = None
    product_vendor: str | None = None
    product_version: str | None = None
    severity: str | None = None


class Software(MdeModel):
    """An installed product (``/api/Software``)."""

    id: str
    name: str | None = None
    vendor: str | None = None
    weaknesses: int | None = None
    public_exploit: bool | None = None
    active_alert: bool | None = None
    exposed_machines: int | None = None
    impact_score: float | None = None


class SoftwareDistribution(MdeModel):
    """One installed version of a product and how many machines run it."""

    version: str | None = None
    installations: int | None = None
    vulnerabilities: int | None = None


class MissingKb(MdeModel):
    """A missing security update (``getmissingkbs``); ``id`` is the KB number without "KB"."""

    id: str
    name: str | None = None
    products_names: list[str] = Field(default_factory=list)
    url: str | None = None
    machine_missed_on: int | None = None
    cve_addressed: int | None = None


class Recommendation(MdeModel):
    """A security recommendation (``va-_-vendor-_-product`` or ``sca-_-scid-n``)."""

    id: str
    product_name: str | None = None
    recommendation_name: str | None = None
    weaknesses: int | None = None
    vendor: str | None = None
    recommended_version: str | None = None
    recommendation_category: str | None = None
    sub_category: str | None = None
    severity_score: float | None = None
    public_exploit: bool | None = None
    active_alert: bool | None = None
    associated_threats: list[str] = Field(default_factory=list)
    remediation_type: str | None = None
    status: str | None = None
    config_score_impact: float | None = None
    exposure_impact: float | None = None
    total_machine_count: int | None = None
    exposed_machines_count: int | None = None
    non_productivity_impacted_assets: int | None = None
    related_component: str | None = None
    recommended_program: str | None = None
    recommended_vendor: str | None = None
    tags: list[str] = Field(default_factory=list)
    exposed_critical_devices: int | None = None


class RemediationTask(MdeModel):
    """A remediation activity (``/api/remediationTasks``)."""

    id: str
    title: str | None = None
    created_on: Timestamp = None
    requester_id: str | None = None
    requester_email: str | None = None
    status: str | None = None
    status_last_modified_on: Timestamp = None
    description: str | None = None
    related_component: str | None = None
    target_devices: int | None = None
    rbac_group_names: list[str] = Field(default_factory=list)
    fixed_devices: int | None = None
    requester_notes: str | None = None
    due_on: Timestamp = None
    category: str | None = None
    productivity_impact_remediation_type: str | None = None
    priority: str | None = None
    completion_method: str | None = None
    completer_id: str | None = None
    completer_email: str | None = None
    scid: str | None = None
    type: str | None = None
    product_id: str | None = None
    vendor_id: str | None = None
    name_id: str | None = None
    recommended_version: str | None = None
    recommended_vendor: str | None = None
    recommended_program: str | None = None


class ExposureScore(MdeModel):
    """The exposure score of the organization or of a machine group (``rbacGroupName``)."""

    time: Timestamp = None
    score: float | None = None
    rbac_group_name: str | None = None


class ConfigurationScore(MdeModel):
    """The organization's configuration (secure) score."""

    time: Timestamp = None
    score: float | None = None


class DeviceAvInfo(MdeModel):
    """Microsoft Defender Antivirus health of a machine (``/api/deviceavinfo``).

    ``avMode`` is a string-typed number ("0" active, "1" passive, ...); the ``avIs*UpToDate``
    values are the strings "True", "False" or "Unknown", as the service sends them.
    """

    id: str
    machine_id: str | None = None
    computer_dns_name: str | None = None
    os_kind: str | None = None
    os_platform: str | None = None
    os_version: str | None = None
    av_mode: str | None = None
    av_signature_version: str | None = None
    av_engine_version: str | None = None
    av_platform_version: str | None = None
    last_seen_time: Timestamp = None
    quick_scan_result: str | None = None
    quick_scan_error: str | None = None
    quick_scan_time: Timestamp = None
    full_scan_result: str | None = None
    full_scan_error: str | None = None
    full_scan_time: Timestamp = None
    data_refresh_timestamp: Timestamp = None
    av_engine_update_time: Timestamp = None
    av_signature_update_time: Timestamp = None
    av_platform_update_time: Timestamp = None
    av_is_signature_up_to_date: str | None = None
    av_is_engine_up_to_date: str | None = None
    av_is_platform_up_to_date: str | None = None
    av_signature_publish_time: Timestamp = None
    rbac_group_name: str | None = None
    rbac_group_id: int | None = None


class AssetVulnerability(MdeModel):
    """A row of the software vulnerabilities export (``cve_id`` None: a version without CVEs)."""

    id: str | None = None
    device_id: str | None = None
    rbac_group_name: str | None = None
    device_name: str | None = None
    os_platform: str | None = None
    os_version: str | None = None
    os_architecture: str | None = None
    software_vendor: str | None = None
    software_name: str | None = None
    software_version: str | None = None
    cve_id: str | None = None
    vulnerability_severity_level: str | None = None
    recommended_security_update: str | None = None
    recommended_security_update_id: str | None = None
    recommended_security_update_url: str | None = None
    disk_paths: list[str] = Field(default_factory=list)
    registry_paths: list[str] = Field(default_factory=list)
    last_seen_timestamp: Timestamp = None
    first_seen_timestamp: Timestamp = None
    exploitability_level: str | None = None
    recommendation_reference: str | None = None
    security_update_available: bool | None = None
    cvss_score: float | None = None


class DeltaAssetVulnerability(AssetVulnerability):
    """A row of the vulnerability changes export: ``status`` New, Fixed or Updated."""

    status: str | None = None
    event_timestamp: Timestamp = None
    is_onboarded: bool | None = None


class AssetSoftware(MdeModel):
    """A row of the software inventory export."""

    device_id: str | None = None
    rbac_group_name: str | None = None
    device_name: str | None = None
    os_platform: str | None = None
    software_vendor: str | None = None
    software_name: str | None = None
    software_version: str | None = None
    number_of_weaknesses: int | None = None
    disk_paths: list[str] = Field(default_factory=list)
    registry_paths: list[str] = Field(default_factory=list)
    software_first_seen_timestamp: Timestamp = None
    end_of_support_status: str | None = None
    end_of_support_date: Timestamp = None


class AssetConfiguration(MdeModel):
    """A row of the secure configuration assessment export."""

    device_id: str | None = None
    rbac_group_name: str | None = None
    device_name: str | None = None
    os_platform: str | None = None
    os_version: str | None = None
    timestamp: Timestamp = None
    configuration_id: str | None = None
    configuration_category: str | None = None
    configuration_subcategory: str | None = None
    configuration_impact: float | None = None
    is_compliant: bool | None = None
    is_applicable: bool | None = None
    is_expected_user_impact: bool | None = None
    configuration_name: str | None = None
    recommendation_reference: str | None = None


class ExportFiles(MdeModel):
    """The answer of a "via files" export: download URLs (valid for a few hours) and their time."""

    export_files: list[str] = Field(default_factory=list)
    generated_time: Timestamp = None
