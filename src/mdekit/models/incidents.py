"""Defender XDR incidents (``/api/incidents``) with their embedded alerts (service-facts-2 §3.1)."""

from __future__ import annotations

from pydantic import Field

from mdekit.models.base import MdeModel, Timestamp

__all__ = ["Incident", "IncidentAlert", "IncidentComment", "IncidentDevice", "IncidentEntity"]


class IncidentComment(MdeModel):
    """An entry of an incident's ``comments``."""

    comment: str | None = None
    created_by: str | None = None
    created_time: Timestamp = None


class IncidentDevice(MdeModel):
    """A device of an incident alert (the docs' example names the MDE id ``mdatpDeviceId``)."""

    mdatp_device_id: str | None = None
    aad_device_id: str | None = None
    device_dns_name: str | None = None
    os_platform: str | None = None
    version: str | None = None
    os_processor: str | None = None
    os_build: int | None = None
    health_status: str | None = None
    risk_score: str | None = None
    rbac_group_name: str | None = None
    rbac_group_id: int | None = None
    first_seen: Timestamp = None


class IncidentEntity(MdeModel):
    """An entity of an incident alert; which fields are set depends on ``entity_type``."""

    entity_type: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    file_name: str | None = None
    file_path: str | None = None
    process_id: int | None = None
    process_command_line: str | None = None
    process_creation_time: Timestamp = None
    parent_process_id: int | None = None
    parent_process_creation_time: Timestamp = None
    ip_address: str | None = None
    url: str | None = None
    account_name: str | None = None
    domain_name: str | None = None
    user_sid: str | None = None
    aad_user_id: str | None = None
    user_principal_name: str | None = None
    registry_hive: str | None = None
    registry_key: str | None = None
    registry_value_type: str | None = None
    registry_value: str | None = None
    device_id: str | None = None


class IncidentAlert(MdeModel):
    """An alert as embedded in an XDR incident."""

    alert_id: str
    incident_id: int | None = None
    service_source: str | None = None
    creation_time: Timestamp = None
    last_updated_time: Timestamp = None
    resolved_time: Timestamp = None
    first_activity: Timestamp = None
    last_activity: Timestamp = None
    title: str | None = None
    description: str | None = None
    category: str | None = None
    status: str | None = None
    severity: str | None = None
    investigation_id: int | None = None
    investigation_state: str | None = None
    classification: str | None = None
    determination: str | None = None
    detection_source: str | None = None
    assigned_to: str | None = None
    actor_name: str | None = None
    threat_family_name: str | None = None
    mitre_techniques: list[str] = Field(default_factory=list)
    devices: list[IncidentDevice] = Field(default_factory=list)
    entities: list[IncidentEntity] = Field(default_factory=list)


class Incident(MdeModel):
    """A Defender XDR incident: its triage fields and its alerts.

    ``classification`` reads ``Unknown`` and ``determination`` ``NotAvailable`` until set;
    ``status`` is ``Active``, ``InProgress``, ``Resolved`` or ``Redirected`` (merged into
    ``redirect_incident_id``).
    """

    incident_id: int
    redirect_incident_id: int | None = None
    incident_name: str | None = None
    created_time: Timestamp = None
    last_update_time: Timestamp = None
    assigned_to: str | None = None
    classification: str | None = None
    determination: str | None = None
    status: str | None = None
    severity: str | None = None
    tags: list[str] = Field(default_factory=list)
    comments: list[IncidentComment] = Field(default_factory=list)
    alerts: list[IncidentAlert] = Field(default_factory=list)
