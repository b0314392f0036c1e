"""The portal's app-registration steps as Microsoft Graph calls, each one done only if needed.

:func:`run_setup` registers (or finds) the app, requests the permissions, creates its service
principal, grants admin consent role by role (``appRoleAssignedTo`` on the resource's service
principal, role GUIDs read from its ``appRoles`` at run time), adds a credential and saves a
profile. Run again, it adds what is missing and changes nothing else; every step reports ``+``
(done now) or ``=`` (already so). :func:`rotate_credential` replaces the profile's credential,
:func:`remove_app` deletes the app and what this machine kept for it. :func:`plan_calls` lists the
calls a first run makes, for ``--dry-run``.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdekit.errors import ConfigurationError
from mdekit.provisioning.graph import GraphCall, GraphSession
from mdekit.provisioning.localcreds import certificate_file, in_cert_store, new_certificate, write_private
from mdekit.provisioning.permissions import Wanted, grant_roles_needed

__all__ = [
    "Connection",
    "SetupOptions",
    "SetupResult",
    "plan_calls",
    "remove_app",
    "rotate_credential",
    "run_setup",
]

Say = Callable[[str, str], None]  # (mark, text): "+" done now, "=" already so, "!" a warning, "-" removed
SECRET_DAYS = 180  # the portal's recommended secret lifetime


@dataclass
class Connection:
    """Where the tenant lives: login authority, Graph and the Defender API (the emulator's URL for all
    three in tests), the CA to trust, and the cloud."""

    graph_url: str = "https://graph.microsoft.com"
    authority: str = ""
    base_url: str = ""
    ca: str = ""
    cloud: str = "commercial"


@dataclass
class SetupOptions:
    """What to set up: app name, permissions, audience, credential kind, profile."""

    name: str
    wanted: list[Wanted]
    profile: str
    multi_tenant: bool = False
    credential: str | None = None  # None: certificate for a new profile, else keep the profile's kind
    secret_days: int = SECRET_DAYS
    insist_plaintext: bool = False


@dataclass
class SetupResult:
    """What the run produced (the secret only when one was made; never printed unless asked)."""

    app_id: str = ""
    tenant_id: str = ""
    profile: str = ""
    secret: str | None = field(default=None, repr=False)
    consent_link: str | None = None


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _access(wanted: list[Wanted]) -> list[dict[str, Any]]:
    by_resource: dict[str, list[dict[str, str]]] = {}
    for w in wanted:
        by_resource.setdefault(w.resource.app_id, []).append({"id": w.role_id, "type": "Role"})
    return [{"resourceAppId": r, "resourceAccess": a} for r, a in by_resource.items()]


def plan_calls(opts: SetupOptions) -> list[GraphCall]:
    """The Graph calls a first run makes (``{...}`` marks ids known only then), for ``--dry-run``."""
    audience = "AzureADMultipleOrgs" if opts.multi_tenant else "AzureADMyOrg"
    body: dict[str, Any] = {
        "displayName": opts.name,
        "signInAudience": audience,
        "requiredResourceAccess": _access(opts.wanted),
    }
    if opts.multi_tenant:
        body["web"] = {"redirectUris": [_REDIRECT]}
    calls = [
        GraphCall("GET", f"/applications?$filter=displayName eq '{_quote(opts.name)}'"),
        GraphCall("POST", "/applications", body),
        GraphCall("POST", "/servicePrincipals", {"appId": "{appId}"}),
    ]
    for resource in sorted({w.resource.app_id for w in opts.wanted}):
        calls.append(GraphCall("GET", f"/servicePrincipals?$filter=appId eq '{resource}'"))
    calls.append(GraphCall("GET", "/servicePrincipals/{servicePrincipalId}/appRoleAssignments"))
    for w in opts.wanted:
        grant = {
            "principalId": "{servicePrincipalId}",
            "resourceId": f"{{{w.resource.name} id}}",
            "appRoleId": w.role_id,
        }
        calls.append(
            GraphCall("POST", f"/servicePrincipals/{{{w.resource.name} id}}/appRoleAssignedTo", grant)
        )
    if (opts.credential or "certificate") == "certificate":
        key = {"type": "AsymmetricX509Cert", "usage": "Verify", "key": "{public certificate, base64}"}
        calls.append(GraphCall("PATCH", "/applications/{id}", {"keyCredentials": [key]}))
    else:
        end = f"{{now + {opts.secret_days} days}}"
        cred = {"passwordCredential": {"displayName": f"mdekit {opts.profile}", "endDateTime": end}}
        calls.append(GraphCall("POST", "/applications/{id}/addPassword", cred))
    return calls


# Multi-tenant apps get a redirect URI so the customer's admin-consent link has somewhere to return
# to (the portal's consent pages ask for one); the Azure portal is a harmless landing page.
_REDIRECT = "https://portal.azure.com"


# ---- the steps ---------------------------------------------------------------------------------------


def _find_app(graph: GraphSession, opts: SetupOptions, known_app_id: str) -> dict[str, Any] | None:
    from mdekit.errors import NotFoundError

    if known_app_id:
        try:
            return dict(graph.get(f"/applications(appId='{known_app_id}')"))
        except NotFoundError:
            pass
    found = graph.list("/applications", **{"$filter": f"displayName eq '{_quote(opts.name)}'"})
    if len(found) > 1:
        raise ConfigurationError(
            f"{len(found)} applications are called {opts.name!r} in this tenant: choose another --name, "
            "or remove the extra ones"
        )
    return dict(found[0]) if found else None


def _ensure_app(graph: GraphSession, opts: SetupOptions, known_app_id: str, say: Say) -> dict[str, Any]:
    app = _find_app(graph, opts, known_app_id)
    if app is None:
        body: dict[str, Any] = {
            "displayName": opts.name,
            "signInAudience": "AzureADMultipleOrgs" if opts.multi_tenant else "AzureADMyOrg",
            "requiredResourceAccess": _access(opts.wanted),
        }
        if opts.multi_tenant:
            body["web"] = {"redirectUris": [_REDIRECT]}
        app = dict(graph.post("/applications", body))
        say("+", f"registered the application {opts.name!r} (client id {app['appId']})")
        say("+", f"requested {len(opts.wanted)} permission(s): {', '.join(map(str, opts.wanted))}")
        return app
    say("=", f"application {app['displayName']!r} exists (client id {app['appId']})")
    _ensure_access(graph, app, opts, say)
    if opts.multi_tenant and app.get("signInAudience") != "AzureADMultipleOrgs":
        uris = sorted({*app.get("web", {}).get("redirectUris", []), _REDIRECT})
        graph.patch(
            f"/applications/{app['id']}",
            {"signInAudience": "AzureADMultipleOrgs", "web": {"redirectUris": uris}},
        )
        say("+", "made the application multi-tenant (as --multi-tenant asks)")
    return app


def _ensure_access(graph: GraphSession, app: dict[str, Any], opts: SetupOptions, say: Say) -> None:
    entries = [dict(e) for e in app.get("requiredResourceAccess", [])]
    have = {(e["resourceAppId"], a["id"]) for e in entries for a in e.get("resourceAccess", [])}
    missing = [w for w in opts.wanted if (w.resource.app_id, w.role_id) not in have]
    if not missing:
        say("=", "every permission is requested already")
        return
    for w in missing:
        entry = next((e for e in entries if e["resourceAppId"] == w.resource.app_id), None)
        if entry is None:
            entry = {"resourceAppId": w.resource.app_id, "resourceAccess": []}
            entries.append(entry)
        entry["resourceAccess"] = [*entry["resourceAccess"], {"id": w.role_id, "type": "Role"}]
    graph.patch(f"/applications/{app['id']}", {"requiredResourceAccess": entries})
    say("+", f"requested {', '.join(map(str, missing))}")


def _ensure_sp(graph: GraphSession, app: dict[str, Any], say: Say) -> dict[str, Any]:
    found = graph.list("/servicePrincipals", **{"$filter": f"appId eq '{app['appId']}'"})
    if found:
        say("=", "its service principal exists")
        return dict(found[0])
    sp = dict(graph.post("/servicePrincipals", {"appId": app["appId"]}))
    say("+", "created its service principal (the 'enterprise application')")
    return sp


def _ensure_grants(graph: GraphSession, sp: dict[str, Any], opts: SetupOptions, say: Say) -> None:
    held = {
        (a["resourceId"], a["appRoleId"])
        for a in graph.list(f"/servicePrincipals/{sp['id']}/appRoleAssignments")
    }
    done: list[str] = []
    resources: dict[str, dict[str, Any]] = {}
    graph.grant_roles = grant_roles_needed(opts.wanted)
    for w in opts.wanted:
        if w.resource.app_id not in resources:
            (resources[w.resource.app_id],) = graph.list(
                "/servicePrincipals", **{"$filter": f"appId eq '{w.resource.app_id}'"}
            )
        resource = resources[w.resource.app_id]
        ids = {r["value"]: r["id"] for r in resource.get("appRoles", [])}
        role_id = ids.get(w.role)
        if role_id is None:
            raise ConfigurationError(
                f"{w.resource.name} in this tenant has no application permission {w.role}"
            )
        if (resource["id"], role_id) in held:
            continue
        body = {"principalId": sp["id"], "resourceId": resource["id"], "appRoleId": role_id}
        graph.post(f"/servicePrincipals/{resource['id']}/appRoleAssignedTo", body)
        done.append(str(w))
    if done:
        say("+", f"granted admin consent for {', '.join(done)}")
    else:
        say("=", "admin consent is granted for every permission")


# ---- credentials -------------------------------------------------------------------------------------


def _parse_time(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _cert_matches(app: dict[str, Any], sha1: str) -> dict[str, Any] | None:
    """The app's key credential for the certificate with thumbprint *sha1*, if still valid.

    Graph returns a certificate's thumbprint as ``customKeyIdentifier`` (hex here; real tenants
    may show it base64-encoded - UNVERIFIED, so both are accepted).
    """
    b64 = base64.b64encode(bytes.fromhex(sha1)).decode()
    for cred in app.get("keyCredentials", []):
        ident = str(cred.get("customKeyIdentifier") or "")
        valid = _parse_time(cred["endDateTime"]) > time.time()
        if valid and (ident.upper() == sha1.upper() or ident == b64):
            return dict(cred)
    return None


def _secret_matches(app: dict[str, Any], secret: str) -> dict[str, Any] | None:
    """The app's password credential *secret* may be (same hint, not expired), if exactly one."""
    found = [
        dict(c)
        for c in app.get("passwordCredentials", [])
        if c.get("hint") == secret[:3] and _parse_time(c["endDateTime"]) > time.time()
    ]
    return found[0] if len(found) == 1 else None


def _current_credential(app: dict[str, Any], prof: Any) -> dict[str, Any] | None:
    """The app's credential this machine holds for profile *prof*, if it is still valid there."""
    from mdekit import profiles
    from mdekit.auth.credentials import load_certificate

    if prof is None or prof.client_id.lower() != app["appId"].lower():
        return None
    try:
        if prof.credential == "certificate":
            return _cert_matches(app, load_certificate(prof.certificate_path).sha1_thumbprint)
        secret = profiles.read_secret(prof)
    except Exception:  # a missing file or keyring entry: a new credential is made
        return None
    return _secret_matches(app, secret) if secret else None


def _add_certificate(
    graph: GraphSession, app: dict[str, Any], profile: str, keep: list[str]
) -> tuple[str, str]:
    """Upload a new certificate (keeping the key ids in *keep*); returns its file and key id."""
    cert = new_certificate(f"mdekit {profile}")
    path = write_private(certificate_file(profile, cert.sha1), cert.pem)
    creds = [{"keyId": k} for k in keep]
    creds.append(
        {
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
            "key": cert.der_base64,
            "displayName": f"CN=mdekit {profile}",
        }
    )
    graph.patch(f"/applications/{app['id']}", {"keyCredentials": creds})
    fresh = graph.get(f"/applications/{app['id']}")
    match = _cert_matches(fresh, cert.sha1)
    return str(path), str(match["keyId"]) if match else ""


def _add_secret(graph: GraphSession, app: dict[str, Any], opts: SetupOptions) -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    end = (datetime.now(UTC) + timedelta(days=opts.secret_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"passwordCredential": {"displayName": f"mdekit {opts.profile}", "endDateTime": end}}
    return dict(graph.post(f"/applications/{app['id']}/addPassword", body))


def _store_credential(
    graph: GraphSession,
    app: dict[str, Any],
    opts: SetupOptions,
    kind: str,
    prof: Any,
    result: SetupResult,
    say: Say,
) -> Any:
    """Add a credential of *kind* to the app and keep it here; returns the profile to save."""
    from mdekit import profiles

    if kind == "certificate":
        keep = [str(c["keyId"]) for c in app.get("keyCredentials", [])]
        path, _ = _add_certificate(graph, app, opts.profile, keep)
        say("+", f"added a certificate credential; its private key stays in {path} (mode 0600)")
        return profiles.Profile(opts.profile, credential="certificate", certificate_path=path)
    storage = "keyring"
    if not opts.insist_plaintext:
        profiles.check_keyring(False)  # refuse before the secret exists when there is no OS keyring
    else:
        try:
            profiles.check_keyring(True)
        except ConfigurationError:
            storage = "file"
    secret = _add_secret(graph, app, opts)
    result.secret = str(secret["secretText"])
    target = profiles.Profile(opts.profile, client_id=app["appId"], credential=storage)
    where = profiles.store_secret(target, result.secret, insist_plaintext=opts.insist_plaintext)
    say("+", f"added a client secret ending {secret['endDateTime'][:10]}; it is kept in {where}")
    return target


# ---- the whole setup -----------------------------------------------------------------------------------


def _existing_profile(name: str) -> Any:
    from mdekit import profiles

    return profiles.load().profiles.get(name)


def _save_profile(prof: Any, conn: Connection, tenant_id: str, app_id: str, say: Say) -> str:
    import dataclasses

    from mdekit import profiles

    config = profiles.load()
    prof = dataclasses.replace(
        prof, tenant=tenant_id, client_id=app_id, cloud=conn.cloud, base_url=conn.base_url,
        authority=conn.authority, ca_cert=conn.ca,
    ).validate()  # fmt: skip
    changed = config.profiles.get(prof.name) != prof
    config.profiles[prof.name] = prof
    if not config.default:
        config.default = prof.name
    path = profiles.save(config)
    say(
        "+" if changed else "=",
        f"profile {prof.name!r} {'saved in' if changed else 'is up to date in'} {path}",
    )
    return str(path)


def run_setup(
    graph: GraphSession, tenant_id: str, opts: SetupOptions, conn: Connection, say: Say
) -> SetupResult:
    """Every step, each only if needed (see the module docstring); the profile is saved last."""
    prof = _existing_profile(opts.profile)
    if prof is not None and prof.tenant and prof.tenant.lower() != tenant_id.lower():
        raise ConfigurationError(
            f"profile {opts.profile!r} belongs to tenant {prof.tenant}, not to {tenant_id}: "
            "choose another --profile"
        )
    known = prof.client_id if prof is not None else ""
    app = _ensure_app(graph, opts, known, say)
    if prof is not None and prof.client_id and prof.client_id.lower() != app["appId"].lower():
        raise ConfigurationError(
            f"profile {opts.profile!r} is for another app ({prof.client_id}): choose another --profile"
        )
    sp = _ensure_sp(graph, app, say)
    _ensure_grants(graph, sp, opts, say)
    result = SetupResult(app["appId"], tenant_id, opts.profile)
    current = _current_credential(app, prof)
    kind = opts.credential or (
        prof.credential
        if prof is not None and prof.credential in ("certificate", "keyring", "file")
        else "certificate"
    )
    wants_kind = "certificate" if kind == "certificate" else "secret"
    has_kind = (
        prof is not None and ("certificate" if prof.credential == "certificate" else "secret") == wants_kind
    )
    if current is not None and has_kind:
        say("=", f"the profile's {wants_kind} is valid until {current['endDateTime'][:10]} (kept)")
        target = prof
    else:
        target = _store_credential(graph, app, opts, wants_kind, prof, result, say)
    _save_profile(target, conn, tenant_id, app["appId"], say)
    if app.get("signInAudience") == "AzureADMultipleOrgs" or opts.multi_tenant:
        from mdekit.auth.consent import consent_url

        result.consent_link = consent_url(
            app["appId"], cloud=conn.cloud, authority=conn.authority or None, redirect_uri=_REDIRECT
        )
    return result


# ---- rotation and removal ------------------------------------------------------------------------------


def _profile_app(graph: GraphSession, profile: str, tenant_id: str) -> tuple[Any, dict[str, Any]]:
    from mdekit import profiles

    prof = profiles.load().get(profile)
    if not prof.client_id:
        raise ConfigurationError(f"profile {profile!r} names no app (client id)")
    if prof.tenant and prof.tenant.lower() != tenant_id.lower():
        raise ConfigurationError(f"profile {profile!r} is for tenant {prof.tenant}; sign in to that tenant")
    return prof, dict(graph.get(f"/applications(appId='{prof.client_id}')"))


def rotate_credential(
    graph: GraphSession, tenant_id: str, opts: SetupOptions, conn: Connection, say: Say,
    verify: Callable[[Any], None] | None = None,
) -> SetupResult:  # fmt: skip
    """A new credential for the profile's app, the profile switched to it (checked with *verify*,
    e.g. by getting a token), then the credential the profile used before removed from the app."""
    prof, app = _profile_app(graph, opts.profile, tenant_id)
    old = _current_credential(app, prof)
    old_kind = "certificate" if prof.credential == "certificate" else "secret"
    kind = opts.credential or old_kind
    result = SetupResult(app["appId"], tenant_id, opts.profile)
    opts = SetupOptions(opts.name, opts.wanted, opts.profile, credential=kind, secret_days=opts.secret_days,
                        insist_plaintext=opts.insist_plaintext)  # fmt: skip
    target = _store_credential(
        graph, app, opts, "certificate" if kind == "certificate" else "secret", prof, result, say
    )
    _save_profile(target, conn, tenant_id, app["appId"], say)
    if verify is not None:
        from mdekit import profiles

        verify(profiles.load().get(opts.profile))
        say("+", "the new credential gets tokens")
    if old is None:
        say("!", "the profile's previous credential was not found on the app (nothing else was removed)")
        return result
    fresh = dict(graph.get(f"/applications/{app['id']}"))
    if old_kind == "certificate":
        keep = [str(c["keyId"]) for c in fresh.get("keyCredentials", []) if c["keyId"] != old["keyId"]]
        graph.patch(f"/applications/{app['id']}", {"keyCredentials": [{"keyId": k} for k in keep]})
        if in_cert_store(prof.certificate_path):
            Path(prof.certificate_path).unlink(missing_ok=True)
    else:
        graph.post(f"/applications/{app['id']}/removePassword", {"keyId": old["keyId"]})
    say("-", f"removed the previous {old_kind} (key id {old['keyId']}) from the app")
    return result


def remove_app(graph: GraphSession, tenant_id: str, profile: str, say: Say) -> str:
    """Delete the profile's app registration (with its service principal and grants), then the
    profile and what this machine kept for it (certificate file, stored secret)."""
    from mdekit import profiles

    prof, app = _profile_app(graph, profile, tenant_id)
    graph.delete(f"/applications/{app['id']}")
    say("-", f"deleted the application {app['displayName']!r} (client id {app['appId']}) and its consent")
    profiles.delete_secret(prof)
    if prof.credential == "certificate" and in_cert_store(prof.certificate_path):
        Path(prof.certificate_path).unlink(missing_ok=True)
        say("-", f"deleted {prof.certificate_path}")
    config = profiles.load()
    config.profiles.pop(profile, None)
    if config.default == profile:
        config.default = next(iter(sorted(config.profiles)), "")
    profiles.save(config)
    say("-", f"removed profile {profile!r}")
    return str(app["appId"])
