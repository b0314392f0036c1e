"""Admin consent pages: the links a partner sends a customer admin, and the accept/decline answer.

Three entry points, as the real service has them (service-facts.md §7):

* v1 ``/{tenant|common}/oauth2/authorize?prompt=consent&client_id=..&response_type=code`` (the MDE
  partner docs' link) -> on accept ``redirect_uri?code=..&session_state=..&admin_consent=True``;
* v2 ``/{tenant|organizations}/v2.0/adminconsent?client_id=..&scope=..&redirect_uri=..`` -> on
  accept ``redirect_uri?admin_consent=True&tenant=<guid>&scope=..``; on decline it keeps
  ``admin_consent=True`` and adds ``error=consent_required`` (AADSTS65004);
* v1-style ``/{tenant}/adminconsent`` -> ``redirect_uri?tenant=<guid>&admin_consent=True``.

A small HTML page stands in for the sign-in: the administrator picks the tenant (unless the link
names one) and accepts or declines. Without a redirect URI the answer is an HTML result page.
"""

from __future__ import annotations

import html
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from mdekit.emulator.entra.directory import AppInfo, DirectoryError, TenantInfo
from mdekit.emulator.entra.errors import CODES
from mdekit.emulator.state import EmulatorState

__all__ = ["Outcome", "decide", "start"]

_MULTI = ("common", "organizations")


@dataclass
class Outcome:
    """Either a redirect URL or an HTML page (with its status)."""

    redirect: str | None = None
    html: str = ""
    status: int = 200
    tenant_id: str | None = None
    app_id: str | None = None


def _page(title: str, body: str, status: int = 200, app_id: str | None = None) -> Outcome:
    doc = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title>"
        "<style>body{font-family:sans-serif;max-width:40em;margin:3em auto}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Outcome(html=doc, status=status, app_id=app_id)


def _error(code: int, **fields: str) -> Outcome:
    message = f"AADSTS{code}: " + CODES[code][2].format(**fields)
    return _page("Sign in: something went wrong", f"<p id='error'>{html.escape(message)}</p>", 400)


def _redirect_uri(app: AppInfo, given: str) -> str | None:
    """The redirect URI to use; AADSTS50011 when *given* is not registered."""
    if given and given not in app.redirect_uris:
        raise _Refused(_error(50011, uri=given, app=app.app_id))
    return given or (app.redirect_uris[0] if app.redirect_uris else None)


class _Refused(Exception):
    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


def _lookup(state: EmulatorState, segment: str, client_id: str) -> tuple[AppInfo, TenantInfo | None]:
    if not client_id:
        raise _Refused(_error(900144, name="client_id"))
    app = state.directory.find_application(client_id)
    if app is None:
        raise _Refused(_error(700016, app=client_id, tenant=segment))
    if segment.lower() in _MULTI:
        return app, None
    tenant = state.directory.find_tenant(segment)
    if tenant is None:
        raise _Refused(_error(90002, tenant=segment))
    return app, tenant


def start(state: EmulatorState, segment: str, params: dict[str, str], flow: str) -> Outcome:
    """The consent page for ``client_id`` in *params*, reached through *flow* (v1, v2, v1-admin)."""
    try:
        app, tenant = _lookup(state, segment, params.get("client_id", ""))
        redirect = _redirect_uri(app, params.get("redirect_uri", ""))
        if flow == "v2" and not params.get("scope"):
            raise _Refused(_error(900144, name="scope"))
    except _Refused as refused:
        return refused.outcome
    tenants = [tenant] if tenant else state.directory.tenants()
    options = "".join(
        f"<option value='{t.id}'>{html.escape(t.display_name)} ({html.escape(t.domain)})</option>"
        for t in tenants
    )
    perms = "".join(
        f"<li>{html.escape(p.resource.name)}: {html.escape(p.role)}</li>"
        for p in state.directory.requested_permissions(app.app_id)
    )
    hidden = {
        "client_id": app.app_id,
        "flow": flow,
        "redirect_uri": redirect or "",
        "state": params.get("state", ""),
        "scope": params.get("scope", ""),
    }
    fields = "".join(
        f"<input type='hidden' name='{k}' value='{html.escape(v, quote=True)}'>" for k, v in hidden.items()
    )
    body = (
        f"<p><b>{html.escape(app.display_name)}</b> ({app.app_id}) asks for these application "
        f"permissions, for your whole organization:</p><ul>{perms or '<li>(none)</li>'}</ul>"
        "<form method='post' action='/common/oauth2/consent-decision'>"
        f"<label>Tenant <select name='tenant'>{options}</select></label>{fields}"
        "<p><button name='decision' value='accept'>Accept</button> "
        "<button name='decision' value='decline'>Cancel</button></p></form>"
    )
    return _page("Permissions requested - Accept for your organization", body, app_id=app.app_id)


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode({k: v for k, v in params.items() if v != ""})


def _accepted(flow: str, redirect: str, tenant: TenantInfo, form: dict[str, str]) -> str:
    state = form.get("state", "")
    if flow == "v2":
        return _with_query(
            redirect,
            {"admin_consent": "True", "tenant": tenant.id, "scope": form.get("scope", ""), "state": state},
        )
    if flow == "v1-admin":
        return _with_query(redirect, {"tenant": tenant.id, "state": state, "admin_consent": "True"})
    code = secrets.token_urlsafe(48)  # opaque: this emulator redeems no authorization codes
    return _with_query(
        redirect, {"code": code, "session_state": str(uuid.uuid4()), "state": state, "admin_consent": "True"}
    )


def _declined(flow: str, redirect: str, form: dict[str, str]) -> str:
    state = form.get("state", "")
    declined = "AADSTS65004: " + CODES[65004][2]
    if flow == "v2":
        return _with_query(
            redirect,
            {
                "admin_consent": "True",
                "error": "consent_required",
                "error_description": declined,
                "state": state,
            },
        )
    if flow == "v1-admin":
        return _with_query(
            redirect,
            {
                "error": "permission_denied",
                "error_description": "The admin canceled the request",
                "state": state,
            },
        )
    return _with_query(redirect, {"error": "access_denied", "error_description": declined, "state": state})


def decide(state: EmulatorState, form: dict[str, str]) -> Outcome:
    """Apply the administrator's choice from the consent page's form."""
    flow = form.get("flow", "v1")
    try:
        app, tenant = _lookup(state, form.get("tenant", ""), form.get("client_id", ""))
        redirect = _redirect_uri(app, form.get("redirect_uri", ""))
    except _Refused as refused:
        return refused.outcome
    assert tenant is not None
    outcome = _apply(state, flow, redirect, app, tenant, form)
    outcome.tenant_id, outcome.app_id = tenant.id, app.app_id
    return outcome


def _apply(
    state: EmulatorState,
    flow: str,
    redirect: str | None,
    app: AppInfo,
    tenant: TenantInfo,
    form: dict[str, str],
) -> Outcome:
    if form.get("decision") != "accept":
        if redirect:
            return Outcome(redirect=_declined(flow, redirect, form))
        return _page("Consent declined", "<p>Nothing was granted.</p>")
    try:
        roles = state.directory.consent(tenant.id, app.app_id)
    except DirectoryError:
        return _error(700016, app=app.app_id, tenant=tenant.display_name)
    if redirect:
        return Outcome(redirect=_accepted(flow, redirect, tenant, form))
    items = "".join(f"<li>{html.escape(r)}</li>" for r in roles) or "<li>(none)</li>"
    return _page("Consent granted", f"<p>Granted in {html.escape(tenant.domain)}:</p><ul>{items}</ul>")
