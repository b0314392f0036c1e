"""Files, IPs, domains and investigations (service-facts §4.5)."""

from __future__ import annotations

from pydantic import Field

from mdekit.models.base import MdeModel, Timestamp

__all__ = ["DomainStats", "File", "FileStats", "Investigation", "IpStats"]


class File(MdeModel):
    """A file's profile (``/api/files/{sha1|sha256}``, ``/api/alerts/{id}/files``)."""

    sha1: str | None = None
    sha256: str | None = None
    md5: str | None = None
    global_prevalence: int | None = None
    global_first_observed: Timestamp = None
    global_last_observed: Timestamp = None
    size: int | None = None
    file_type: str | None = None
    is_pe_file: bool | None = None
    file_publisher: str | None = None
    file_product_name: str | None = None
    signer: str | None = None
    issuer: str | None = None
    signer_hash: str | None = None
    is_valid_certificate: bool | None = None
    determination_type: str | None = None
    determination_value: str | None = None


class FileStats(MdeModel):
    """Prevalence of a file in the organization."""

    sha1: str | None = None
    organization_prevalence: int | None = None
    org_first_seen: Timestamp = None
    org_last_seen: Timestamp = None
    globally_prevalence: int | None = None
    global_first_observed: Timestamp = None
    global_last_observed: Timestamp = None
    top_file_names: list[str] = Field(default_factory=list)


class IpStats(MdeModel):
    """Prevalence of an IP address in the organization."""

    ip_address: str | None = None
    organization_prevalence: int | None = None
    org_first_seen: Timestamp = None
    org_last_seen: Timestamp = None


class DomainStats(MdeModel):
    """Prevalence of a domain in the organization."""

    host: str | None = None
    organization_prevalence: int | None = None
    org_first_seen: Timestamp = None
    org_last_seen: Timestamp = None


class Investigation(MdeModel):
    """An automated investigation."""

    id: str
    start_time: Timestamp = None
    end_time: Timestamp = None
    state: str | None = None
    cancelled_by: str | None = None
    status_details: str | None = None
    machine_id: str | None = None
    computer_dns_name: str | None = None
    triggering_alert_id: str | None = None
