"""Request bodies of Graph application management: checked, converted, or a 400 that says why.

Writable ``application`` properties (application-update): ``displayName``, ``description``,
``notes``, ``tags``, ``identifierUris``, ``signInAudience``, ``isFallbackPublicClient``,
``publicClient``, ``web``, ``requiredResourceAccess``, ``keyCredentials``. ``passwordCredentials``
cannot be set this way (application-post-applications, application-update: use addPassword).
Properties Graph has but this emulator does not model (``api``, ``appRoles``, ``spa``...) are
refused with a 400 that says so, rather than silently dropped.

``requiredResourceAccess`` may name the built-in resource apps only, with their real app-role
(``Role``) and scope (``Scope``) ids: an unknown id is a 400 here (real Graph may store it and fail
at consent - UNVERIFIED), which catches the wrong GUID lists that circulate (service-facts-2 §4.2).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mdekit.catalog import ResourceApp
from mdekit.emulator.appmgmt.access import bad
from mdekit.emulator.appmgmt.views import RESOURCE_APPS
from mdekit.emulator.clock import parse_time
from mdekit.emulator.entra.directory import is_guid

__all__ = [
    "APPLICATION_SCHEMA",
    "AppChanges",
    "KeyChange",
    "parse_application",
    "parse_password",
]

_AUDIENCES = ("AzureADMyOrg", "AzureADMultipleOrgs")
_NOT_EMULATED = (
    "api", "appRoles", "info", "optionalClaims", "parentalControlSettings", "spa", "groupMembershipClaims",
    "tokenEncryptionKeyId", "logo", "addIns", "serviceManagementReference", "samlMetadataUrl",
    "defaultRedirectUri", "isDeviceOnlyAuthSupported", "certification", "verifiedPublisher",
)  # fmt: skip
_READ_ONLY = ("id", "appId", "createdDateTime", "deletedDateTime", "publisherDomain")
_TYPE = "microsoft.graph.application"


@dataclass
class KeyChange:
    """``keyCredentials`` as sent: the key ids to keep and the new certificates (PEM)."""

    keep: list[str] = field(default_factory=list)
    add: list[tuple[str, str | None]] = field(default_factory=list)  # (pem, displayName)


@dataclass
class AppChanges:
    """The properties a POST or PATCH sets (``None``: not given)."""

    display_name: str | None = None
    multi_tenant: bool | None = None
    public_client: bool | None = None
    redirect_uris: tuple[str, ...] | None = None
    roles: list[tuple[ResourceApp, str]] | None = None
    scopes: list[tuple[ResourceApp, str]] | None = None
    keys: KeyChange | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _string(name: str, value: Any, *, nullable: bool = True, limit: int = 1024) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise bad(f"Invalid value specified for property '{name}' of resource 'Application'.")
    return value


def _strings(name: str, value: Any, limit: int = 256) -> list[str]:
    if not isinstance(value, list) or len(value) > limit or not all(isinstance(v, str) for v in value):
        raise bad(f"Invalid value specified for property '{name}' of resource 'Application'.")
    return list(value)


def _uris(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, dict) or not set(value) <= {"redirectUris", "homePageUrl", "logoutUrl"}:
        raise bad(f"Invalid value specified for property '{name}' of resource 'Application'.")
    return tuple(_strings(f"{name}.redirectUris", value.get("redirectUris", [])))


def _access(value: Any) -> tuple[list[tuple[ResourceApp, str]], list[tuple[ResourceApp, str]]]:
    """``requiredResourceAccess`` -> (app roles, delegated scopes) of the built-in resources."""
    if not isinstance(value, list) or len(value) > 50:
        raise bad("Invalid value specified for property 'requiredResourceAccess' of resource 'Application'.")
    roles: list[tuple[ResourceApp, str]] = []
    scopes: list[tuple[ResourceApp, str]] = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("resourceAccess"), list):
            raise bad("Each requiredResourceAccess entry needs resourceAppId and resourceAccess.")
        app_id = str(entry.get("resourceAppId", "")).lower()
        resource = RESOURCE_APPS.get(app_id)
        if resource is None:
            raise bad(
                f"resourceAppId '{entry.get('resourceAppId')}' is not a resource this emulator knows "
                f"(WindowsDefenderATP, Microsoft Threat Protection, Microsoft Graph)."
            )
        for access in entry["resourceAccess"]:
            kind = access.get("type") if isinstance(access, dict) else None
            key = str(access.get("id", "")).lower() if isinstance(access, dict) else ""
            name = resource.role_named(key) if kind == "Role" else resource.scope_named(key)
            if kind not in ("Role", "Scope") or name is None:
                raise bad(f"Permission '{key}' of type '{kind}' is not defined by {resource.name}.")
            (roles if kind == "Role" else scopes).append((resource, name))
    return roles, scopes


def _certificate(key: Any) -> str:
    """A keyCredential's ``key`` (base64 of the certificate, DER or PEM) as PEM text."""
    if not isinstance(key, str) or len(key) > 65536:
        raise bad("Key credential key is invalid: give the certificate, base64 encoded.")
    try:
        raw = base64.b64decode(key, validate=False)
        cert = (
            x509.load_pem_x509_certificate(raw)
            if raw.lstrip().startswith(b"-----")
            else x509.load_der_x509_certificate(raw)
        )
    except (ValueError, binascii.Error):
        raise bad("Key credential key is invalid: give the certificate, base64 encoded.") from None
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _keys(value: Any) -> KeyChange:
    if not isinstance(value, list) or len(value) > 20:
        raise bad("Invalid value specified for property 'keyCredentials' of resource 'Application'.")
    change = KeyChange()
    for cred in value:
        if not isinstance(cred, dict):
            raise bad("Each keyCredential must be an object.")
        if cred.get("key") is None and is_guid(str(cred.get("keyId", ""))):
            change.keep.append(str(cred["keyId"]).lower())  # an existing credential, kept as it is
            continue
        if cred.get("type") != "AsymmetricX509Cert" or cred.get("usage") != "Verify":
            raise bad("Only keyCredentials of type 'AsymmetricX509Cert' with usage 'Verify' are emulated.")
        name = _string("keyCredentials.displayName", cred.get("displayName"), limit=256)
        change.add.append((_certificate(cred.get("key")), name))
    return change


def parse_application(body: dict[str, Any], *, create: bool) -> AppChanges:
    """Check an application POST (*create*) or PATCH body; raise 400 ``Request_BadRequest``."""
    out = AppChanges()
    for name, value in body.items():
        _apply(out, name, value)
    if create and not out.display_name:
        raise bad("The property 'displayName' is required when creating an application.")
    return out


def _apply(out: AppChanges, name: str, value: Any) -> None:
    if name == "@odata.type":
        if not isinstance(value, str) or value.lstrip("#") != _TYPE:
            raise bad(f"The @odata.type '{value}' does not match the type '{_TYPE}'.")
    elif name == "displayName":
        text = _string(name, value, nullable=False, limit=256)
        if not text or not text.strip():
            raise bad("The property 'displayName' must not be empty.")
        out.display_name = text.strip()
    elif name in ("description", "notes"):
        out.data[name] = _string(name, value)
    elif name in ("tags", "identifierUris"):
        out.data[name] = _strings(name, value)
    elif name == "signInAudience":
        if value not in _AUDIENCES:
            raise bad(f"signInAudience '{value}' is not emulated: use AzureADMyOrg or AzureADMultipleOrgs.")
        out.multi_tenant = value == "AzureADMultipleOrgs"
    elif name == "isFallbackPublicClient":
        if value is not None and not isinstance(value, bool):
            raise bad(
                "Invalid value specified for property 'isFallbackPublicClient' of resource 'Application'."
            )
        out.public_client = bool(value)
    elif name == "publicClient":
        out.data["publicClientRedirectUris"] = list(_uris(name, value))
    elif name == "web":
        out.redirect_uris = _uris(name, value)
    elif name == "requiredResourceAccess":
        out.roles, out.scopes = _access(value)
    elif name == "keyCredentials":
        out.keys = _keys(value)
    elif name == "passwordCredentials":
        raise bad("passwordCredentials cannot be set here: use addPassword and removePassword.")
    elif name in _READ_ONLY:
        raise bad(f"Property '{name}' is read-only and cannot be set.")
    elif name in _NOT_EMULATED:
        raise bad(f"Property '{name}' of the application is not emulated by mdekit.")
    else:
        raise bad(f"Property '{name}' does not exist on type '{_TYPE}'.")


def parse_password(body: dict[str, Any], now: float) -> tuple[str | None, float]:
    """addPassword's optional ``passwordCredential``: its displayName and end time (default 2 years)."""
    cred = body.get("passwordCredential", {})
    if cred is None:
        cred = {}
    if set(body) - {"passwordCredential"} or not isinstance(cred, dict):
        raise bad("The request body may hold only 'passwordCredential'.")
    unknown = set(cred) - {"displayName", "endDateTime", "startDateTime"}
    if unknown:
        raise bad(f"Property '{sorted(unknown)[0]}' cannot be set on a new password credential.")
    name = _string("displayName", cred.get("displayName"), limit=256)
    end = now + 2 * 365 * 86400  # application-addpassword: "default ... 2 years"
    if cred.get("endDateTime") is not None:
        try:
            end = parse_time(str(cred["endDateTime"])).timestamp()
        except ValueError:
            raise bad("endDateTime must be an ISO 8601 date and time.") from None
    if end <= now:
        raise bad("endDateTime must be in the future.")
    return name, end


#: What the OpenAPI description says an application body may hold (the fuzzers read it).
APPLICATION_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "displayName": {"type": "string"},
                        "description": {"type": "string", "nullable": True},
                        "notes": {"type": "string", "nullable": True},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "identifierUris": {"type": "array", "items": {"type": "string"}},
                        "signInAudience": {"type": "string", "enum": list(_AUDIENCES)},
                        "isFallbackPublicClient": {"type": "boolean", "nullable": True},
                        "requiredResourceAccess": {"type": "array", "items": {"type": "object"}},
                        "keyCredentials": {"type": "array", "items": {"type": "object"}},
                    },
                    "additionalProperties": False,
                }
            }
        },
    }
}
