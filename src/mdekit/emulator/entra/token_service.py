"""The client-credentials grant: validate a token request, mint a v1-format token, shape the answer.

No HTTP here: :func:`issue_token` takes the parsed form and returns the JSON body, or raises
:class:`EntraError`. Checks run in the service's order: tenant, grant type, client id, target
(``scope``/``resource``), app in tenant, credential, resource principal.

Tokens follow a real app-only MDE token (service-facts.md §2.3): v1 format whatever the endpoint,
``aud`` = the identifier URI requested, ``roles`` only when granted, ``iat`` back-dated 300 s and
``exp`` = ``iat`` + 3900.
"""

from __future__ import annotations

import base64
import functools
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from mdekit.catalog import MDE, ResourceApp, resource_by_uri
from mdekit.clouds import all_login_hosts
from mdekit.emulator.entra.assertions import ASSERTION_TYPE, verify_assertion
from mdekit.emulator.entra.directory import (
    CertificateInfo,
    SecretCheck,
    SecretHashes,
    TenantInfo,
    TokenSubject,
    is_guid,
    match_secret,
)
from mdekit.emulator.entra.errors import EntraError
from mdekit.emulator.entra.keys import b64url
from mdekit.emulator.state import EmulatorState

__all__ = [
    "TokenRequest",
    "basic_credentials",
    "check_request",
    "issue_token",
    "parse_scope",
    "resolve_tenant",
    "token_body",
]

_DNS = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")
_MULTI = ("common", "organizations", "consumers")
LIFETIME = 3900
BACKDATE = 300


@dataclass
class TokenRequest:
    """One token request as received: endpoint version, tenant path segment, Host, form fields."""

    version: str  # "v1" or "v2"
    tenant: str
    host: str
    form: dict[str, str]
    basic: tuple[str, str] | None = None
    #: Filled while processing, for the request journal (even when the request fails).
    tenant_id: str | None = field(default=None)
    app_id: str | None = field(default=None)


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``Authorization: Basic b64(urlenc(id):urlenc(secret))`` -> ``(id, secret)`` (RFC 6749 §2.3.1)."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    user, sep, password = raw.partition(":")
    return (unquote_plus(user), unquote_plus(password)) if sep else None


def resolve_tenant(state: EmulatorState, segment: str, *, allow_multi: bool = False) -> TenantInfo | None:
    """The tenant a path segment names; ``None`` for common/organizations when *allow_multi*.

    Raises 900023 for a malformed identifier, 90002 for an unknown one, 9001023 for ``common``.
    """
    if segment.lower() in _MULTI:
        if allow_multi:
            return None
        raise EntraError(9001023)
    if not is_guid(segment) and not _DNS.match(segment):
        raise EntraError(900023, tenant=segment)
    tenant = state.directory.find_tenant(segment)
    if tenant is None:
        raise EntraError(90002, tenant=segment)
    return tenant


def parse_scope(scope: str) -> str:
    """The one resource a v2 client-credentials ``scope`` names (70011, 700022, 1002012 otherwise)."""
    items = scope.split()
    if not items:
        raise EntraError(900144, name="scope")
    resources: list[str] = []
    for item in items:
        if "/" not in item and not is_guid(item):
            raise EntraError(70011, scope=scope)
        base = _scope_resource(item)
        if base not in resources:
            resources.append(base)
    if len(resources) > 1:
        raise EntraError(700022, scope=scope)
    if not all(i.endswith("/.default") for i in items):
        raise EntraError(1002012, scope=scope)
    return resources[0]


def _scope_resource(item: str) -> str:
    """``https://x/.default`` and ``https://x/Role`` both name resource ``https://x``."""
    if item.endswith("/.default"):
        return item[: -len("/.default")]
    _, _, rest = item.partition("://")
    return item.rsplit("/", 1)[0] if "/" in rest else item


def _target(req: TokenRequest) -> str:
    form = req.form
    if req.version == "v2":
        if "resource" in form:
            raise EntraError(901002)
        if not form.get("scope", "").strip():
            raise EntraError(900144, name="scope")
        return parse_scope(form["scope"])
    if not form.get("resource", "").strip():
        raise EntraError(900144, name="resource")
    return form["resource"].strip()


def _audiences(req: TokenRequest, tenant: TenantInfo) -> tuple[str, ...]:
    """Every token URL of the tenant a client may have used as the assertion ``aud``."""
    if len(req.host) + len(req.tenant) > 512:  # a hostile Host header is not worth caching
        return _token_urls.__wrapped__(req.host, req.tenant, tenant.id, tenant.domain)
    return _token_urls(req.host, req.tenant, tenant.id, tenant.domain)


@functools.lru_cache(maxsize=256)
def _token_urls(host: str, *tenants: str) -> tuple[str, ...]:
    # Pure function of its arguments (hosts, tenant names), so caching it is always correct.
    hosts = dict.fromkeys((host, *all_login_hosts()))
    paths = ("oauth2/v2.0/token", "oauth2/token")
    return tuple(f"https://{h}/{t}/{p}" for h in hosts for t in dict.fromkeys(tenants) for p in paths)


def _authenticate(
    req: TokenRequest, now: float, client_id: str, secret: str, credentials: _Credentials
) -> str:
    """Check the client's credential; returns ``appidacr`` ("1" secret, "2" certificate).

    *credentials* were read from the directory beforehand (:func:`_credentials`), so the checks
    here (a ~9 ms scrypt hash for a secret seen for the first time, an RSA verification) run
    without the database lock.
    """
    form = req.form
    if form.get("client_assertion"):
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise EntraError(900144, name="client_assertion_type")
        assert credentials.certificates is not None
        verify_assertion(
            form["client_assertion"],
            client_id=client_id,
            audiences=credentials.audiences,
            certificates=[c for c in credentials.certificates if c.end_time > now],
            now=(now, time.time()),
        )
        return "2"
    if not secret:
        raise EntraError(7000218)
    outcome = match_secret(credentials.secrets, secret, now)
    if outcome == SecretCheck.EXPIRED:
        raise EntraError(7000222, app=client_id)
    if outcome != SecretCheck.OK:
        raise EntraError(7000215, app=client_id)
    return "1"


@dataclass(frozen=True)
class _Credentials:
    """What :func:`_authenticate` checks a request against, read in the request's snapshot."""

    secrets: SecretHashes = ()
    certificates: tuple[CertificateInfo, ...] | None = None
    audiences: tuple[str, ...] = ()


def _credentials(state: EmulatorState, req: TokenRequest, tenant: TenantInfo, client_id: str) -> _Credentials:
    """The app's certificates (assertion) or secret hashes (anything else), as stored now."""
    if req.form.get("client_assertion"):
        certs = tuple(state.directory.certificates_of(client_id))
        return _Credentials(certificates=certs, audiences=_audiences(req, tenant))
    return _Credentials(secrets=state.directory.secret_hashes(client_id))


@functools.lru_cache(maxsize=1024)
def _rh(tenant_id: str, resource_app_id: str) -> str:
    raw = b"\x01\x07\x00" + uuid.UUID(tenant_id).bytes_le + uuid.UUID(resource_app_id).bytes_le + b"\x00\x00"
    return f"0.{b64url(raw)}."


def _claims(
    now: float, tenant: TenantInfo, client_id: str, aud: str, res: ResourceApp, acr: str, who: TokenSubject
) -> dict[str, Any]:
    iat = int(now) - BACKDATE
    noise = secrets.token_bytes(64)  # one read of the system's randomness for aio and uti
    issuer = f"https://sts.windows.net/{tenant.id}/"
    claims: dict[str, Any] = {
        "aud": aud,
        "iss": issuer,
        "iat": iat,
        "nbf": iat,
        "exp": iat + LIFETIME,
        "aio": b64url(noise[:48]),
        "app_displayname": who.display_name,
        "appid": client_id,
        "appidacr": acr,
        "idp": issuer,
    }
    if res.app_id != MDE.app_id:
        # A real v1 app-only MDE token has no ``idtyp`` (service-facts §2.3); other resources get
        # the optional claim as Graph app-only tokens carry it (UNVERIFIED for the XDR resource).
        claims["idtyp"] = "app"
    claims["oid"] = who.sp_id
    claims["rh"] = _rh(tenant.id, res.app_id)
    if who.roles:
        claims["roles"] = list(who.roles)
    claims["sub"] = who.sp_id
    claims["tenant_region_scope"] = "NA"
    claims["tid"] = tenant.id
    claims["uti"] = b64url(noise[48:])
    claims["ver"] = "1.0"
    return claims


def _client_id(req: TokenRequest) -> str:
    """Grant type and client id checks (900144, 70003), in the service's order."""
    grant = req.form.get("grant_type", "")
    if not grant:
        raise EntraError(900144, name="grant_type")
    if grant != "client_credentials":
        raise EntraError(70003, grant=grant)
    client_id = (req.form.get("client_id") or (req.basic[0] if req.basic else "")).strip()
    if not client_id:
        raise EntraError(900144, name="client_id")
    req.app_id = client_id
    return client_id


def token_body(
    req: TokenRequest, claims: dict[str, Any], token: str, now: float, target: str
) -> dict[str, Any]:
    """The success answer: v2 numbers as integers; v1 as strings plus expires_on, not_before, resource."""
    expires_in = claims["exp"] - int(now) - 1
    if req.version == "v2":
        return {"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in,
                "access_token": token}  # fmt: skip
    return {
        "token_type": "Bearer",
        "expires_in": str(expires_in),
        "ext_expires_in": str(expires_in),
        "expires_on": str(claims["exp"]),
        "not_before": str(claims["nbf"]),
        "resource": target,
        "access_token": token,
    }


def check_request(state: EmulatorState, req: TokenRequest) -> tuple[dict[str, Any], str]:
    """Run every check of a client-credentials request; return the claims to sign and the target.

    Raises :class:`EntraError` for the first failed check. Signing is left to the caller so the
    HTTP layer can do it off the event loop.
    """
    # Every directory read in one snapshot (one change check, one lock); the credential check
    # after it runs without the database lock (a wrong secret costs a ~9 ms scrypt hash). Reads
    # raise nothing, so reading ahead keeps the service's order of errors.
    with state.directory.snapshot():
        tenant = resolve_tenant(state, req.tenant)
        assert tenant is not None
        req.tenant_id = tenant.id
        client_id = _client_id(req)
        target = _target(req)
        if not is_guid(client_id) or not state.directory.service_principal_active(tenant.id, client_id):
            raise EntraError(700016, app=client_id, tenant=tenant.display_name)
        client_id = client_id.lower()
        credentials = _credentials(state, req, tenant, client_id)
        res = resource_by_uri(target)
        who = state.directory.token_subject(tenant.id, client_id, res.app_id) if res is not None else None
        now = state.clock.time()
    secret = req.form.get("client_secret") or (req.basic[1] if req.basic else "")
    acr = _authenticate(req, now, client_id, secret, credentials)
    if res is None or who is None:
        raise EntraError(500011, resource=target, tenant=tenant.display_name)
    return _claims(now, tenant, client_id, target, res, acr, who), target


def issue_token(state: EmulatorState, req: TokenRequest) -> dict[str, Any]:
    """Process a client-credentials request; return the v1- or v2-shaped success body."""
    claims, target = check_request(state, req)
    return token_body(req, claims, state.signer.mint(claims), state.clock.time(), target)
