"""Alerts and their evidence (service-facts §4.1)."""

from __future__ import annotations

from pydantic import Field

from mdekit.models.base import MdeModel, Timestamp

__all__ = ["Alert", "AlertComment", "Evidence", "LoggedOnUser", "RelatedUser"]


class RelatedUser(MdeModel):
    """``relatedUser`` of an alert."""

    user_name: str | None = None
    domain_name: str | None = None


class LoggedOnUser(MdeModel):
    """An entry of ``loggedOnUsers``."""

    account_name: str | None = None
    domain_name: str | None = None


class AlertComment(MdeModel):
    """An entry of ``comments``."""

    comment: str | None = None
    created_by: str | None = None
    created_time: Timestamp = None


class Evidence(MdeModel):
    """One evidence item (``$expand=evidence``); which fields are set depends on ``entity_type``."""

    entity_type: str | None = None
    evidence_creation_time: Timestamp = None
    sha1: str | None = None
    sha256: str | None = None
    file_name: str | None = None
    file_path: str | None = None
    process_id: int | None = None
    process_command_line: str | None = None
    ip_address: str | None = None
    url: str | None = None
    account_name: str | None = None
    domain_name: str | None = None
    user_sid: str | None = None
    user_principal_name: str | None = None
    detection_status: str | None = None


class Alert(MdeModel):
    """A Defender for Endpoint alert."""

    id: str
    incident_id: int | None = None
    investigation_id: int | None = None
    assigned_to: str | None = None
    severity: str | None = None
    status: str | None = None
    classification: str | None = None
    determination: str | None = None
    investigation_state: str | None = None
    detection_source: str | None = None
    detector_id: str | None = None
    category: str | None = None
    threat_family_name: str | None = None
    title: str | None = None
    description: str | None = None
    alert_creation_time: Timestamp = None
    first_event_time: Timestamp = None
    last_event_time: Timestamp = None
    last_update_time: Timestamp = None
    resolved_time: Timestamp = None
    machine_id: str | None = None
    computer_dns_name: str | None = None
    rbac_group_name: str | None = None
    aad_tenant_id: str | None = None
    threat_name: str | None = None
    mitre_techniques: list[str] = Field(default_factory=list)
    related_user: RelatedUser | None = None
    logged_on_users: list[LoggedOnUser] = Field(default_factory=list)
    comments: list[AlertComment] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    domains: list[dict[str, object]] = Field(default_factory=list)
