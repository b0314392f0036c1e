"""Microsoft Graph's JSON for applications, service principals, credentials and grants.

Shapes and key order follow the Graph v1.0 pages' examples (application-post-applications,
serviceprincipal-post-serviceprincipals, application-addpassword,
serviceprincipal-post-approleassignedto; service-facts-2 §4.1); properties the emulator does not
model are left out rather than invented. Times are ISO 8601 in UTC with a ``Z``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mdekit.catalog import RESOURCES, ResourceApp, resource_by_uri
from mdekit.emulator.entra.appobjects import RoleGrant, ServicePrincipal, assignment_id
from mdekit.emulator.entra.directory import AppInfo, CertificateInfo, DirectoryStore, TenantInfo

__all__ = [
    "MICROSOFT_TENANT",
    "application_json",
    "assignment_json",
    "iso",
    "key_credential_json",
    "password_json",
    "service_principal_json",
]

#: The tenant Microsoft's first-party apps belong to (``appOwnerOrganizationId`` of their service
#: principals; the "Microsoft Services" tenant id - UNVERIFIED beyond common knowledge).
MICROSOFT_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"


def iso(epoch: float) -> str:
    """Graph's timestamp: ``2024-01-01T10:00:00Z`` (whole seconds, UTC)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def password_json(secret: dict[str, Any], name: str | None, text: str | None = None) -> dict[str, Any]:
    """A ``passwordCredential`` (``secretText`` only in addPassword's answer)."""
    return {"customKeyIdentifier": None, "displayName": name, "endDateTime": iso(secret["endTime"]),
            "hint": secret["hint"], "keyId": secret["keyId"], "secretText": text,
            "startDateTime": iso(secret["startTime"])}  # fmt: skip


def _subject(pem: str) -> str:
    cert = x509.load_pem_x509_certificate(pem.encode())
    return cert.subject.rfc4514_string()


def key_credential_json(cert: CertificateInfo, name: str | None) -> dict[str, Any]:
    """A ``keyCredential``: the public key is never returned (``key`` is null), as in Graph."""
    return {"customKeyIdentifier": cert.sha1, "displayName": name or _subject(cert.pem),
            "endDateTime": iso(cert.end_time), "key": None, "keyId": cert.key_id,
            "startDateTime": iso(cert.start_time), "type": "AsymmetricX509Cert",
            "usage": "Verify"}  # fmt: skip


def certificate_der(cert: CertificateInfo) -> str:
    """Base64 DER of a registered certificate (what a ``keyCredential``'s ``key`` carries)."""
    loaded = x509.load_pem_x509_certificate(cert.pem.encode())
    return base64.b64encode(loaded.public_bytes(serialization.Encoding.DER)).decode()


def required_access_json(d: DirectoryStore, app_id: str) -> list[dict[str, Any]]:
    """``requiredResourceAccess``: requested app roles (``Role``) and scopes (``Scope``) by resource."""
    by_resource: dict[str, list[dict[str, str]]] = {}
    for perm in d.requested_permissions(app_id):
        role_id = perm.resource.role_ids.get(perm.role)
        if role_id:
            by_resource.setdefault(perm.resource.app_id, []).append({"id": role_id, "type": "Role"})
    for resource, scope in d.requested_scopes(app_id):
        by_resource.setdefault(resource.app_id, []).append({"id": resource.scopes[scope], "type": "Scope"})
    return [{"resourceAppId": r, "resourceAccess": access} for r, access in by_resource.items()]


def application_json(d: DirectoryStore, app: AppInfo, tenant: TenantInfo) -> dict[str, Any]:
    """An ``application`` as Graph returns it."""
    props = d.app_props(app.app_id)
    data = props.data
    secrets = d.secrets_of(app.app_id)
    certs = d.certificates_of(app.app_id)
    names = d.key_names([s["keyId"] for s in secrets] + [c.key_id for c in certs])
    created = d.db.query_one("SELECT created FROM dir_apps WHERE app_id = ?", (app.app_id,))
    return {
        "id": app.object_id,
        "deletedDateTime": None,
        "appId": app.app_id,
        "createdDateTime": iso(created["created"] if created else 0),
        "description": data.get("description"),
        "displayName": app.display_name,
        "identifierUris": data.get("identifierUris", []),
        "isFallbackPublicClient": props.public_client or None,
        "notes": data.get("notes"),
        "publisherDomain": tenant.domain,
        "signInAudience": "AzureADMultipleOrgs" if app.multi_tenant else "AzureADMyOrg",
        "tags": data.get("tags", []),
        "keyCredentials": [key_credential_json(c, names.get(c.key_id)) for c in certs],
        "passwordCredentials": [password_json(s, names.get(s["keyId"])) for s in secrets],
        "publicClient": {"redirectUris": data.get("publicClientRedirectUris", [])},
        "requiredResourceAccess": required_access_json(d, app.app_id),
        "web": {"homePageUrl": None, "logoutUrl": None, "redirectUris": list(app.redirect_uris)},
    }


def _app_roles(resource: ResourceApp) -> list[dict[str, Any]]:
    return [
        {
            "allowedMemberTypes": ["Application"],
            "description": resource.role_descriptions.get(role, role),
            "displayName": resource.role_descriptions.get(role, role),
            "id": role_id,
            "isEnabled": True,
            "origin": "Application",
            "value": role,
        }
        for role, role_id in resource.role_ids.items()
    ]


def _scopes(resource: ResourceApp) -> list[dict[str, Any]]:
    return [
        {
            "adminConsentDescription": scope,
            "adminConsentDisplayName": scope,
            "id": scope_id,
            "isEnabled": True,
            "type": "Admin" if scope in resource.admin_scopes else "User",
            "userConsentDescription": None,
            "userConsentDisplayName": None,
            "value": scope,
        }
        for scope, scope_id in resource.scopes.items()
    ]


def service_principal_json(d: DirectoryStore, sp: ServicePrincipal) -> dict[str, Any]:
    """A ``servicePrincipal``: built-in resources carry their app roles and delegated scopes."""
    resource = resource_by_uri(sp.app_id)
    app = None if sp.builtin else d.find_application(sp.app_id)
    owner = MICROSOFT_TENANT if sp.builtin else (app.home_tenant if app else None)
    names = [sp.app_id, *(resource.identifier_uris if resource else ())]
    audience = "AzureADMultipleOrgs" if sp.builtin or (app and app.multi_tenant) else "AzureADMyOrg"
    return {
        "id": sp.object_id,
        "deletedDateTime": None,
        "accountEnabled": True,
        "appDisplayName": sp.display_name,
        "appId": sp.app_id,
        "appOwnerOrganizationId": owner,
        "appRoleAssignmentRequired": False,
        "createdDateTime": iso(sp.created) if sp.created else None,
        "displayName": sp.display_name,
        "servicePrincipalNames": names,
        "servicePrincipalType": "Application",
        "signInAudience": audience,
        "tags": [],
        "appRoles": _app_roles(resource) if resource else [],
        "keyCredentials": [],
        "oauth2PermissionScopes": _scopes(resource) if resource else [],
        "passwordCredentials": [],
    }


def assignment_json(d: DirectoryStore, grant: RoleGrant, principal: ServicePrincipal) -> dict[str, Any]:
    """An ``appRoleAssignment`` of a resource's app role to a client service principal."""
    resource_sp = d.builtin_sp_id(grant.tenant_id, grant.resource.app_id) or ""
    return {
        "id": assignment_id(principal.object_id, grant.resource.app_id, grant.role),
        "deletedDateTime": None,
        "appRoleId": grant.resource.role_ids.get(grant.role),
        "createdDateTime": iso(grant.created),
        "principalDisplayName": principal.display_name,
        "principalId": principal.object_id,
        "principalType": "ServicePrincipal",
        "resourceDisplayName": grant.resource.name,
        "resourceId": resource_sp,
    }


#: Resource apps by app id (the ones whose app roles can be granted).
RESOURCE_APPS = {r.app_id: r for r in RESOURCES}
