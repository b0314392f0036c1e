"""Sign-ins of users: the device code flow, refresh tokens and delegated (user) tokens. No HTTP.

* :func:`start_flow` serves ``/{tenant}/oauth2/v2.0/devicecode`` (``scope=``) and the v1
  ``/{tenant}/oauth2/devicecode`` (``resource=``; numbers as strings, ``verification_url``);
* :func:`approve` / :func:`decline` are the person's answer (sign-in page or control plane);
* :func:`check_grant` answers ``grant_type=urn:ietf:params:oauth:grant-type:device_code`` (v1:
  ``device_code``) and ``refresh_token`` at the token endpoints: ``authorization_pending`` until the
  flow is approved, ``slow_down`` when polled faster than ``interval`` (RFC 8628 §3.5: the interval
  then grows by 5 s), ``expired_token`` (v1: ``code_expired``) after ``expires_in``,
  ``authorization_declined``, ``bad_verification_code``, and ``invalid_grant`` AADSTS65001 when the
  user may not consent to what the client asks for - all on the virtual clock.

Consent rule (simplified from Entra's): delegated permissions marked admin-only in the catalogue
need a user with a role that may consent for the tenant (Global, Privileged Role, Cloud Application
or Application Administrator); Microsoft's first-party clients are pre-authorized for every scope
of the catalogue, a tenant's own public client for what it requests.

Access tokens for the built-in resources are v1 tokens whichever endpoint issued them, with the
claims a real delegated token carries (access-token claims reference; service-facts-2 §5).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mdekit.catalog import APP_ADMIN_ROLES, FIRST_PARTY_CLIENTS, GRAPH, ResourceApp, resource_by_uri
from mdekit.emulator.entra.devicecodes import DeviceFlow, FlowStatus
from mdekit.emulator.entra.directory import TenantInfo, is_guid
from mdekit.emulator.entra.errors import EntraError
from mdekit.emulator.entra.keys import b64url
from mdekit.emulator.entra.token_service import TokenRequest, _rh, resolve_tenant
from mdekit.emulator.entra.users import UserInfo
from mdekit.emulator.state import EmulatorState

__all__ = [
    "DEVICE_GRANT",
    "GRANTS",
    "ApprovalError",
    "Issue",
    "approve",
    "check_grant",
    "decline",
    "start_flow",
]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: Grant types answered here (v1 clients such as ADAL send ``device_code`` with ``code=``).
GRANTS = frozenset({DEVICE_GRANT, "device_code", "refresh_token"})
RESERVED = ("openid", "profile", "email", "offline_access")
#: Who may consent to admin-only delegated permissions for the whole tenant.
CONSENT_ROLES = ("Privileged Role Administrator", *APP_ADMIN_ROLES)
#: The default member role's template id: real user tokens list it in ``wids`` beside the admin
#: roles (seen in captures; not documented - UNVERIFIED).
_MEMBER_ROLE = "b79fbf4d-3ef9-4689-8143-76b194e85509"
VERIFICATION_PATH = "/devicelogin"


# ---- which resource and scopes a request names ---------------------------------------------------


@dataclass(frozen=True)
class ScopeRequest:
    """The resource a request names, how the client named it, the scopes and the OIDC extras."""

    resource: ResourceApp
    aud: str
    scopes: tuple[str, ...]
    reserved: frozenset[str] = frozenset()
    prefix: str = ""

    def scope_text(self) -> str:
        """The ``scope`` field of the answer: resource scopes as asked for, then OIDC ones."""
        items = [f"{self.prefix}{s}" for s in self.scopes]
        return " ".join(items + [r for r in ("openid", "profile", "email") if r in self.reserved])


def _client_scopes(state: EmulatorState, client_id: str, resource: ResourceApp) -> tuple[str, ...]:
    """What ``.default`` (and a v1 request) means: the client's static permissions on *resource*."""
    if client_id in FIRST_PARTY_CLIENTS:
        return tuple(resource.scopes)  # pre-authorized for the catalogue's scopes (UNVERIFIED list)
    return tuple(s for r, s in state.directory.requested_scopes(client_id) if r == resource)


def _split(item: str) -> tuple[str, str]:
    """``https://graph.microsoft.com/User.Read`` -> (resource part, scope); bare names are Graph's."""
    if "/" not in item:
        return "", item
    base, _, name = item.rpartition("/")
    return base, name


def parse_scope(state: EmulatorState, client_id: str, scope: str) -> ScopeRequest:
    """The one resource and its scopes in a v2 ``scope`` (70011 unknown scope, 700022 two resources,
    500011 unknown resource)."""
    reserved = frozenset(i.lower() for i in scope.split() if i.lower() in RESERVED)
    items = [i for i in scope.split() if i.lower() not in RESERVED]
    if not items:  # only OpenID scopes: a token for Microsoft Graph to read the user's profile
        return ScopeRequest(GRAPH, GRAPH.app_id, ("User.Read",), reserved)
    named = {_split(i)[0] for i in items}
    if len(named) > 1:
        raise EntraError(700022, scope=scope)
    base = named.pop()
    resource = GRAPH if base == "" else resource_by_uri(base)
    if resource is None:
        raise EntraError(500011, resource=base, tenant="the tenant")
    wanted: list[str] = []
    for item in items:
        name = _split(item)[1]
        if name == ".default":
            wanted += _client_scopes(state, client_id, resource)
            continue
        found = next((s for s in resource.scopes if s.lower() == name.lower()), None)
        if found is None:
            raise EntraError(70011, scope=item)
        wanted.append(found)
    if not wanted:
        raise EntraError(70011, scope=scope)
    aud = resource.app_id if base == "" or is_guid(base) else base.rstrip("/")
    prefix = "" if base == "" else base.rstrip("/") + "/"
    return ScopeRequest(resource, aud, tuple(dict.fromkeys(wanted)), reserved, prefix)


def parse_resource(state: EmulatorState, client_id: str, resource: str) -> ScopeRequest:
    """A v1 request's ``resource``: every permission the client has there (500011 if unknown)."""
    found = resource_by_uri(resource)
    if found is None:
        raise EntraError(500011, resource=resource, tenant="the tenant")
    scopes = _client_scopes(state, client_id, found)
    return ScopeRequest(found, resource.strip().rstrip("/"), scopes, frozenset({"openid"}))


def _request_of(
    state: EmulatorState, flow_client: str, version: str, scope: str, resource: str
) -> ScopeRequest:
    return (
        parse_scope(state, flow_client, scope)
        if version == "v2"
        else parse_resource(state, flow_client, resource)
    )


# ---- the client --------------------------------------------------------------------------------


def _client_known(state: EmulatorState, client_id: str, tenant: TenantInfo | None) -> bool:
    if client_id in FIRST_PARTY_CLIENTS:
        return True
    app = state.directory.find_application(client_id)
    if app is None:
        return False
    return tenant is None or app.multi_tenant or app.home_tenant == tenant.id


def _client_name(state: EmulatorState, client_id: str) -> str:
    return state.directory.display_name("", client_id) or client_id


def _check_client(state: EmulatorState, req: TokenRequest, tenant: TenantInfo | None) -> str:
    """The client id of a device-code or refresh request; public clients send no credential."""
    client_id = (req.form.get("client_id") or "").strip().lower()
    if not client_id:
        raise EntraError(900144, name="client_id")
    req.app_id = client_id
    if not is_guid(client_id) or not _client_known(state, client_id, tenant):
        raise EntraError(700016, app=client_id, tenant=tenant.display_name if tenant else "common")
    credential = req.form.get("client_secret") or req.form.get("client_assertion") or req.basic
    public = state.directory.is_public_client(client_id)
    if public and credential:
        raise EntraError(700025)
    if not public and not credential:
        raise EntraError(7000218)
    if not public and state.directory.check_secret(client_id, req.form.get("client_secret", "")) != "ok":
        raise EntraError(7000215, app=client_id)
    return client_id


# ---- device authorization ------------------------------------------------------------------------


def start_flow(state: EmulatorState, req: TokenRequest) -> dict[str, Any]:
    """The device authorization answer (v2 shape, or v1 with string numbers); raises EntraError."""
    tenant = resolve_tenant(state, req.tenant, allow_multi=True)
    req.tenant_id = tenant.id if tenant else None
    client_id = (req.form.get("client_id") or "").strip().lower()
    if not client_id:
        raise EntraError(900144, name="client_id")
    req.app_id = client_id
    if not is_guid(client_id) or not _client_known(state, client_id, tenant):
        raise EntraError(700016, app=client_id, tenant=tenant.display_name if tenant else req.tenant)
    field_name = "scope" if req.version == "v2" else "resource"
    value = (req.form.get(field_name) or "").strip()
    if not value:
        raise EntraError(900144, name=field_name)
    _request_of(state, client_id, req.version, value, value)  # refuse bad scopes now, as Entra does
    device_code, flow = state.directory.start_device_flow(
        tenant.id if tenant else "",
        client_id,
        scope=value if req.version == "v2" else "",
        resource=value if req.version == "v1" else "",
        version=req.version,
    )
    uri = f"https://{req.host}{VERIFICATION_PATH}"
    message = (
        f"To sign in, use a web browser to open the page {uri} and enter the code {flow.user_code} "
        "to authenticate."
    )
    expires_in = int(flow.expires - flow.created)
    if req.version == "v1":
        return {"user_code": flow.user_code, "device_code": device_code, "verification_url": uri,
                "expires_in": str(expires_in), "interval": str(flow.interval),
                "message": message}  # fmt: skip
    return {"user_code": flow.user_code, "device_code": device_code, "verification_uri": uri,
            "expires_in": expires_in, "interval": flow.interval, "message": message}  # fmt: skip


# ---- the person's answer -------------------------------------------------------------------------


class ApprovalError(Exception):
    """Why a device code cannot be approved or declined (``status``: 400 or 404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _open_flow(state: EmulatorState, user_code: str) -> DeviceFlow:
    flow = state.directory.device_flow_by_user_code(user_code or "")
    if flow is None:
        raise ApprovalError(f"no sign-in is waiting for the code {user_code!r}", 404)
    if state.clock.time() >= flow.expires:
        raise ApprovalError(f"the code {flow.user_code} has expired; start the sign-in again")
    if flow.status != FlowStatus.PENDING:
        raise ApprovalError(
            f"the code {flow.user_code} was already used: the request was authorized or declined"
        )
    return flow


def _signing_user(state: EmulatorState, flow: DeviceFlow, upn: str) -> UserInfo:
    """The user signing in as *upn*: in the flow's tenant, or found by the UPN's domain."""
    domain = upn.rsplit("@", 1)[-1] if "@" in upn else ""
    tenant = state.directory.find_tenant(flow.tenant_id or domain)
    user = state.directory.find_user(tenant.id, upn) if tenant and upn else None
    if user is None:
        where = tenant.domain if tenant else "any tenant"
        raise ApprovalError(
            f"no user {upn!r} in {where} (add one with POST /_emulator/tenants/{{tenant}}/users)", 404
        )
    if not _client_known(state, flow.client_id, tenant):
        raise ApprovalError(
            f"AADSTS700016: application {flow.client_id} is not registered in {user.upn.split('@')[1]} "
            "and is not multi-tenant"
        )
    return user


def may_consent(state: EmulatorState, user: UserInfo, client_id: str, request: ScopeRequest) -> bool:
    """Whether *user* may use *request*'s scopes with *client_id*: admin-only ones need an admin
    role, unless an administrator consented to them for the whole tenant before."""
    needs_admin = set(request.scopes) & request.resource.admin_scopes
    if not needs_admin or user.has_role(*CONSENT_ROLES):
        return True
    return needs_admin <= state.directory.delegated_consented(user.tenant_id, client_id, request.resource)


def approve(
    state: EmulatorState, user_code: str, upn: str, *, for_organization: bool = False
) -> dict[str, Any]:
    """*upn* signs in with *user_code*; consent is checked now and answered at the next poll.

    *for_organization*: an administrator ticks "Consent on behalf of your organization", so every
    user of the tenant may use these scopes with this client from now on.
    """
    flow = _open_flow(state, user_code)
    user = _signing_user(state, flow, (upn or "").strip())
    request = _request_of(state, flow.client_id, flow.version, flow.scope, flow.resource)
    allowed = may_consent(state, user, flow.client_id, request)
    if for_organization and not user.has_role(*CONSENT_ROLES):
        raise ApprovalError(f"{user.upn} is not an administrator and cannot consent for the organization")
    if for_organization:
        state.directory.consent_delegated(user.tenant_id, flow.client_id, request.resource, request.scopes)
    status = FlowStatus.APPROVED if allowed else FlowStatus.CONSENT_REQUIRED
    state.directory.decide_device_flow(flow, status, user.object_id)
    return {"userCode": flow.user_code, "status": status, "tenantId": user.tenant_id,
            "userPrincipalName": user.upn, "clientId": flow.client_id}  # fmt: skip


def decline(state: EmulatorState, user_code: str) -> dict[str, Any]:
    """The person cancels the sign-in: the next poll answers ``authorization_declined``."""
    flow = _open_flow(state, user_code)
    state.directory.decide_device_flow(flow, FlowStatus.DECLINED)
    return {"userCode": flow.user_code, "status": FlowStatus.DECLINED}


# ---- the token endpoint ----------------------------------------------------------------------------


@dataclass
class Issue:
    """Tokens to sign for a user (access, id) and how to shape the answer once signed."""

    access: dict[str, Any]
    id_claims: dict[str, Any] | None
    shape: Callable[[str, str | None], dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)

    def sign(self, mint: Callable[[dict[str, Any]], str]) -> tuple[str, str | None]:
        """Sign the access token (and the id token); runs off the event loop."""
        return mint(self.access), mint(self.id_claims) if self.id_claims else None


def check_grant(state: EmulatorState, req: TokenRequest) -> Issue:
    """A device-code poll or a refresh-token redemption: the tokens to issue, or ``EntraError``."""
    tenant = resolve_tenant(state, req.tenant, allow_multi=True)
    req.tenant_id = tenant.id if tenant else None
    grant = req.form.get("grant_type", "")
    if req.version == "v2" and grant == "device_code":  # v2 takes the RFC 8628 URN only
        raise EntraError(70003, grant=grant)
    client_id = _check_client(state, req, tenant)
    if grant == "refresh_token":
        return _refresh(state, req, tenant, client_id)
    return _poll(state, req, tenant, client_id)


def _poll(state: EmulatorState, req: TokenRequest, tenant: TenantInfo | None, client_id: str) -> Issue:
    code = req.form.get("device_code") or req.form.get("code") or ""
    if not code:
        raise EntraError(900144, name="device_code")
    flow = state.directory.device_flow(code)
    if flow is None or flow.client_id != client_id or (tenant and flow.tenant_id not in ("", tenant.id)):
        raise EntraError(70018)
    now = state.clock.time()
    if flow.status == FlowStatus.REDEEMED:
        raise EntraError(70000, name="device_code", problem="has already been used.")
    if now >= flow.expires:
        exc = EntraError(70019)
        exc.error = "code_expired" if req.version == "v1" else "expired_token"  # ADAL's v1 name
        raise exc
    if flow.status == FlowStatus.DECLINED:
        exc = EntraError(65004)  # the AADSTS code of a declined device sign-in is UNVERIFIED
        exc.error = "authorization_declined"
        raise exc
    if flow.status == FlowStatus.PENDING:
        # 0.2 s of slack: a client that sleeps `interval` between polls is never told to slow down.
        too_fast = flow.last_poll is not None and now - flow.last_poll + 0.2 < flow.interval
        state.directory.record_poll(flow, interval=flow.interval + 5 if too_fast else None)
        if too_fast:
            exc = EntraError(70016)
            exc.error = "slow_down"  # RFC 8628 §3.5; whether Entra sends it is UNVERIFIED
            raise exc
        raise EntraError(70016)
    user = state.directory.user_by_id(flow.user_id or "")
    request = _request_of(state, client_id, flow.version, flow.scope, flow.resource)
    if flow.status == FlowStatus.CONSENT_REQUIRED or user is None:
        state.directory.record_poll(flow, redeemed=True)
        raise _consent_required(state, client_id)
    state.directory.record_poll(flow, redeemed=True)
    return _issue(state, req, user, client_id, request)


def _consent_required(state: EmulatorState, client_id: str) -> EntraError:
    exc = EntraError(65001, app=client_id, name=_client_name(state, client_id))
    exc.extra = {"suberror": "consent_required"}
    return exc


def _refresh(state: EmulatorState, req: TokenRequest, tenant: TenantInfo | None, client_id: str) -> Issue:
    token = req.form.get("refresh_token") or ""
    if not token:
        raise EntraError(900144, name="refresh_token")
    grant = state.directory.redeem_refresh_token(token)
    if grant is None or grant.client_id != client_id or (tenant and tenant.id != grant.tenant_id):
        raise EntraError(70000, name="refresh_token", problem="is not valid (unknown, expired or revoked).")
    user = state.directory.user_by_id(grant.user_id)
    if user is None:  # the user was deleted since
        raise EntraError(70000, name="refresh_token", problem="is not valid (unknown, expired or revoked).")
    field_name = "scope" if req.version == "v2" else "resource"
    value = (req.form.get(field_name) or "").strip()
    if not value:
        raise EntraError(900144, name=field_name)
    request = _request_of(state, client_id, req.version, value, value)
    if not may_consent(state, user, client_id, request):
        raise _consent_required(state, client_id)
    return _issue(state, req, user, client_id, request)


# ---- tokens for a user ----------------------------------------------------------------------------


def _names(display: str) -> dict[str, str]:
    parts = display.split()
    return {"family_name": parts[-1], "given_name": " ".join(parts[:-1])} if len(parts) > 1 else {}


def access_claims(
    state: EmulatorState, user: UserInfo, client_id: str, request: ScopeRequest
) -> dict[str, Any]:
    """A v1 delegated access token's claims (lifetime 60-90 min, as Entra's default varies)."""
    tid = user.tenant_id
    iat = int(state.clock.time()) - 300
    lifetime = 3600 + secrets.randbelow(1801)
    issuer = f"https://sts.windows.net/{tid}/"
    sub = b64url(hashlib.sha256(f"{user.object_id}:{client_id}".encode()).digest())
    return {
        "aud": request.aud, "iss": issuer, "iat": iat, "nbf": iat, "exp": iat + 300 + lifetime,
        "acct": 0, "acr": "1", "aio": b64url(secrets.token_bytes(48)), "amr": ["pwd"],
        "app_displayname": _client_name(state, client_id), "appid": client_id, "appidacr": "0",
        **_names(user.display_name), "idtyp": "user", "ipaddr": "127.0.0.1", "name": user.display_name,
        "oid": user.object_id, "puid": secrets.token_hex(8).upper(), "rh": _rh(tid, request.resource.app_id),
        "scp": " ".join(request.scopes), "sub": sub, "tenant_region_scope": "NA", "tid": tid,
        "unique_name": user.upn, "upn": user.upn, "uti": b64url(secrets.token_bytes(16)), "ver": "1.0",
        "wids": [*user.role_ids, _MEMBER_ROLE],
    }  # fmt: skip


def id_claims(req: TokenRequest, user: UserInfo, client_id: str, now: float) -> dict[str, Any]:
    """The id token's claims: v2 (issuer ``https://<host>/<tid>/v2.0``, as discovery says) or v1."""
    tid, iat = user.tenant_id, int(now) - 300
    sub = b64url(hashlib.sha256(f"{user.object_id}:{client_id}:id".encode()).digest())
    common = {"aud": client_id, "iat": iat, "nbf": iat, "exp": iat + 3900, "name": user.display_name,
              "oid": user.object_id, "sub": sub, "tid": tid}  # fmt: skip
    if req.version == "v2":
        return {**common, "iss": f"https://{req.host}/{tid}/v2.0", "preferred_username": user.upn,
                "uti": b64url(secrets.token_bytes(16)), "ver": "2.0"}  # fmt: skip
    return {**common, "iss": f"https://sts.windows.net/{tid}/", "amr": ["pwd"], "unique_name": user.upn,
            "upn": user.upn, "ver": "1.0", **_names(user.display_name)}  # fmt: skip


def _issue(
    state: EmulatorState, req: TokenRequest, user: UserInfo, client_id: str, request: ScopeRequest
) -> Issue:
    req.tenant_id = user.tenant_id
    access = access_claims(state, user, client_id, request)
    wants_id = "openid" in request.reserved
    refresh = (
        state.directory.issue_refresh_token(user.tenant_id, client_id, user.object_id)
        if "offline_access" in request.reserved or req.version == "v1"
        else None
    )
    now = state.clock.time()
    client_info = req.form.get("client_info") == "1"

    def shape(token: str, id_token: str | None) -> dict[str, Any]:
        expires_in = access["exp"] - int(now) - 1
        if req.version == "v1":
            body: dict[str, Any] = {"token_type": "Bearer", "scope": " ".join(request.scopes),
                                    "expires_in": str(expires_in), "ext_expires_in": str(expires_in),
                                    "expires_on": str(access["exp"]), "not_before": str(access["nbf"]),
                                    "resource": request.aud, "access_token": token}  # fmt: skip
        else:
            body = {"token_type": "Bearer", "scope": request.scope_text(), "expires_in": expires_in,
                    "ext_expires_in": expires_in, "access_token": token}  # fmt: skip
        if refresh:
            body["refresh_token"] = refresh
        if id_token:
            body["id_token"] = id_token
        if client_info and req.version == "v2":
            info = json.dumps({"uid": user.object_id, "utid": user.tenant_id}, separators=(",", ":"))
            body["client_info"] = base64.urlsafe_b64encode(info.encode()).decode().rstrip("=")
        return body

    return Issue(access, id_claims(req, user, client_id, now) if wants_id else None, shape)
