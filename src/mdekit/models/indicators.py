"""Threat indicators (service-facts §4.4)."""

from __future__ import annotations

from pydantic import AliasChoices, Field

from mdekit.models.base import MdeModel, Timestamp

__all__ = ["ImportResult", "Indicator"]


class Indicator(MdeModel):
    """A custom indicator (file hash, certificate, IP, domain or URL) and its action."""

    # In the order the service writes them (the fidelity fixtures), so a record prints as answered.
    id: str | None = None
    indicator_value: str | None = None
    indicator_type: str | None = None
    action: str | None = None
    created_by: str | None = None
    severity: str | None = None
    application: str | None = None
    educate_url: str | None = None
    title: str | None = None
    description: str | None = None
    recommended_actions: str | None = None
    creation_time_date_time_utc: Timestamp = None
    expiration_time: Timestamp = None
    last_update_time: Timestamp = None
    last_updated_by: str | None = None
    rbac_group_names: list[str] = Field(default_factory=list)
    rbac_group_ids: list[int] = Field(default_factory=list)
    generate_alert: bool | None = None
    created_by_display_name: str | None = None
    # Answers spell it ``externalId`` (a real capture); the docs table and request bodies ``externalID``.
    external_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("externalId", "externalID", "external_id"),
        serialization_alias="externalID",
    )
    created_by_source: str | None = None
    source: str | None = None
    source_type: str | None = None


class ImportResult(MdeModel):
    """One row of ``POST /api/indicators/import``'s answer."""

    id: str | None = None
    indicator: str | None = None
    is_failed: bool | None = None
    failure_reason: str | None = None
