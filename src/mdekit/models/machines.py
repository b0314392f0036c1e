"""Machines (devices) and the users seen on them (service-facts §4.2, §4.5)."""

from __future__ import annotations

from pydantic import Field

from mdekit.models.base import MdeModel, Timestamp

__all__ = ["IpAddress", "Machine", "User", "VmMetadata"]


class IpAddress(MdeModel):
    """An entry of a machine's ``ipAddresses``."""

    ip_address: str | None = None
    mac_address: str | None = None
    type: str | None = None
    operational_status: str | None = None


class VmMetadata(MdeModel):
    """``vmMetadata`` of a cloud VM."""

    vm_id: str | None = None
    cloud_provider: str | None = None
    resource_id: str | None = None
    subscription_id: str | None = None


class Machine(MdeModel):
    """A device onboarded to Defender for Endpoint."""

    id: str
    merged_into_machine_id: str | None = None
    is_potential_duplication: bool | None = None
    is_excluded: bool | None = None
    exclusion_reason: str | None = None
    computer_dns_name: str | None = None
    first_seen: Timestamp = None
    last_seen: Timestamp = None
    os_platform: str | None = None
    os_version: str | None = None
    os_processor: str | None = None
    version: str | None = None
    last_ip_address: str | None = None
    last_external_ip_address: str | None = None
    agent_version: str | None = None
    os_build: int | None = None
    health_status: str | None = None
    device_value: str | None = None
    rbac_group_id: int | None = None
    rbac_group_name: str | None = None
    risk_score: str | None = None
    exposure_level: str | None = None
    is_aad_joined: bool | None = None
    aad_device_id: str | None = None
    machine_tags: list[str] = Field(default_factory=list)
    defender_av_status: str | None = None
    onboarding_status: str | None = None
    os_architecture: str | None = None
    managed_by: str | None = None
    managed_by_status: str | None = None
    ip_addresses: list[IpAddress] = Field(default_factory=list)
    vm_metadata: VmMetadata | None = None


class User(MdeModel):
    """A user seen on machines (``/logonusers``, ``/alerts/{id}/user``)."""

    id: str | None = None
    account_name: str | None = None
    account_domain: str | None = None
    account_sid: str | None = None
    first_seen: Timestamp = None
    last_seen: Timestamp = None
    most_prevalent_machine_id: str | None = None
    least_prevalent_machine_id: str | None = None
    logon_types: str | None = None
    log_on_machines_count: int | None = None
    is_domain_admin: bool | None = None
    is_only_network_user: bool | None = None
