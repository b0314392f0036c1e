"""Microsoft Graph security records: ``incident``, ``alert`` (alerts_v2) and polymorphic evidence.

Evidence items are typed by their ``@odata.type`` (``#microsoft.graph.security.deviceEvidence``,
``fileEvidence``, ...): :func:`evidence_from_wire` picks the class; an unknown type becomes the
base :class:`AlertEvidence` with every field kept in ``model_extra`` - never an error.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, SerializeAsAny

from mdekit.models.alerts import LoggedOnUser
from mdekit.models.base import MdeModel, Timestamp
from mdekit.models.machines import VmMetadata

__all__ = [
    "EVIDENCE_TYPES",
    "AlertEvidence",
    "DeviceEvidence",
    "FileDetails",
    "FileEvidence",
    "GraphAlert",
    "GraphAlertComment",
    "GraphIncident",
    "GraphModel",
    "IpEvidence",
    "ProcessEvidence",
    "RegistryKeyEvidence",
    "RegistryValueEvidence",
    "UrlEvidence",
    "UserAccount",
    "UserEvidence",
    "evidence_from_wire",
]


class GraphModel(MdeModel):
    """A Graph record: ``@odata.type`` kept as ``odata_type``."""

    odata_type: str | None = Field(None, alias="@odata.type")


class GraphAlertComment(MdeModel):
    """Graph's ``alertComment`` (on alerts and incidents)."""

    comment: str | None = None
    created_by_display_name: str | None = None
    created_date_time: Timestamp = None


class FileDetails(MdeModel):
    """``fileDetails`` / ``imageFile`` of file and process evidence."""

    sha1: str | None = None
    sha256: str | None = None
    file_name: str | None = None
    file_path: str | None = None
    file_size: int | None = None
    file_publisher: str | None = None
    signer: str | None = None
    issuer: str | None = None


class UserAccount(MdeModel):
    """``userAccount`` of user and process evidence."""

    account_name: str | None = None
    domain_name: str | None = None
    user_sid: str | None = None
    azure_ad_user_id: str | None = None
    user_principal_name: str | None = None
    display_name: str | None = None


class AlertEvidence(GraphModel):
    """The base of every evidence type (and what an unknown ``@odata.type`` is read as)."""

    created_date_time: Timestamp = None
    verdict: str | None = None
    remediation_status: str | None = None
    remediation_status_details: str | None = None
    roles: list[str] = Field(default_factory=list)
    detailed_roles: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class DeviceEvidence(AlertEvidence):
    """``#microsoft.graph.security.deviceEvidence``: the alert's device."""

    first_seen_date_time: Timestamp = None
    mde_device_id: str | None = None
    azure_ad_device_id: str | None = None
    device_dns_name: str | None = None
    os_platform: str | None = None
    os_build: int | None = None
    version: str | None = None
    health_status: str | None = None
    risk_score: str | None = None
    rbac_group_id: int | None = None
    rbac_group_name: str | None = None
    onboarding_status: str | None = None
    defender_av_status: str | None = None
    ip_interfaces: list[str] = Field(default_factory=list)
    logged_on_users: list[LoggedOnUser] = Field(default_factory=list)
    vm_metadata: VmMetadata | None = None


class FileEvidence(AlertEvidence):
    """``#microsoft.graph.security.fileEvidence``."""

    detection_status: str | None = None
    mde_device_id: str | None = None
    file_details: FileDetails | None = None


class ProcessEvidence(AlertEvidence):
    """``#microsoft.graph.security.processEvidence``."""

    process_id: int | None = None
    parent_process_id: int | None = None
    process_command_line: str | None = None
    process_creation_date_time: Timestamp = None
    parent_process_creation_date_time: Timestamp = None
    detection_status: str | None = None
    mde_device_id: str | None = None
    image_file: FileDetails | None = None
    parent_process_image_file: FileDetails | None = None
    user_account: UserAccount | None = None


class IpEvidence(AlertEvidence):
    """``#microsoft.graph.security.ipEvidence``."""

    ip_address: str | None = None
    country_letter_code: str | None = None


class UrlEvidence(AlertEvidence):
    """``#microsoft.graph.security.urlEvidence``."""

    url: str | None = None


class UserEvidence(AlertEvidence):
    """``#microsoft.graph.security.userEvidence``."""

    user_account: UserAccount | None = None


class RegistryKeyEvidence(AlertEvidence):
    """``#microsoft.graph.security.registryKeyEvidence``."""

    registry_key: str | None = None
    registry_hive: str | None = None


class RegistryValueEvidence(AlertEvidence):
    """``#microsoft.graph.security.registryValueEvidence``."""

    mde_device_id: str | None = None
    registry_key: str | None = None
    registry_hive: str | None = None
    registry_value: str | None = None
    registry_value_name: str | None = None
    registry_value_type: str | None = None


#: ``@odata.type`` -> evidence class.
EVIDENCE_TYPES: dict[str, type[AlertEvidence]] = {
    f"#microsoft.graph.security.{cls.__name__[0].lower()}{cls.__name__[1:]}": cls
    for cls in (
        DeviceEvidence,
        FileEvidence,
        ProcessEvidence,
        IpEvidence,
        UrlEvidence,
        UserEvidence,
        RegistryKeyEvidence,
        RegistryValueEvidence,
    )
}


def evidence_from_wire(data: Any) -> Any:
    """A wire evidence item as its typed class (the base class for an unknown ``@odata.type``)."""
    if not isinstance(data, dict):
        return data
    kind = str(data.get("@odata.type") or "")
    cls = EVIDENCE_TYPES.get(kind if kind.startswith("#") else f"#{kind}", AlertEvidence)
    return cls.model_validate(data)


Evidence = Annotated[SerializeAsAny[AlertEvidence], BeforeValidator(evidence_from_wire)]


class GraphAlert(GraphModel):
    """A Graph ``alert`` (alerts_v2). For MDE alerts ``id`` is the MDE alert id (``da…``)."""

    id: str
    provider_alert_id: str | None = None
    incident_id: str | None = None
    status: str | None = None
    severity: str | None = None
    classification: str | None = None
    determination: str | None = None
    service_source: str | None = None
    detection_source: str | None = None
    detector_id: str | None = None
    tenant_id: str | None = None
    title: str | None = None
    description: str | None = None
    recommended_actions: str | None = None
    category: str | None = None
    assigned_to: str | None = None
    alert_web_url: str | None = None
    incident_web_url: str | None = None
    actor_display_name: str | None = None
    threat_display_name: str | None = None
    threat_family_name: str | None = None
    mitre_techniques: list[str] = Field(default_factory=list)
    created_date_time: Timestamp = None
    last_update_date_time: Timestamp = None
    resolved_date_time: Timestamp = None
    first_activity_date_time: Timestamp = None
    last_activity_date_time: Timestamp = None
    comments: list[GraphAlertComment] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    system_tags: list[str] = Field(default_factory=list)


class GraphIncident(GraphModel):
    """A Graph ``incident``; ``alerts`` is set only when asked with ``$expand=alerts``."""

    id: str
    incident_web_url: str | None = None
    redirect_incident_id: str | None = None
    tenant_id: str | None = None
    display_name: str | None = None
    created_date_time: Timestamp = None
    last_update_date_time: Timestamp = None
    assigned_to: str | None = None
    classification: str | None = None
    determination: str | None = None
    status: str | None = None
    severity: str | None = None
    custom_tags: list[str] = Field(default_factory=list)
    comments: list[GraphAlertComment] = Field(default_factory=list)
    system_tags: list[str] = Field(default_factory=list)
    description: str | None = None
    alerts: list[GraphAlert] | None = None
