"""Admin-consent links for a multi-tenant app, for any cloud's login host (service-facts.md §7).

* :func:`consent_url` - the MDE partner docs' v1 link,
  ``https://{login}/common/oauth2/authorize?prompt=consent&client_id=..&response_type=code&sso_reload=true``;
* :func:`admin_consent_url` - the v2 admin-consent endpoint,
  ``https://{login}/{tenant}/v2.0/adminconsent?client_id=..&scope=<resource>/.default&redirect_uri=..``.

Both are pure string building; ``authority`` overrides the cloud's login host (e.g. the emulator).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from mdekit.clouds import get_cloud
from mdekit.errors import ConfigurationError

__all__ = ["admin_consent_url", "consent_url"]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _base(cloud: str, authority: str | None) -> str:
    return (authority or get_cloud(cloud).authority).rstrip("/")


def _client(client_id: str) -> str:
    if not _GUID.match(client_id or ""):
        raise ConfigurationError(f"the client id must be the app's (client) id GUID, not {client_id!r}")
    return client_id


def consent_url(
    client_id: str,
    *,
    cloud: str = "commercial",
    authority: str | None = None,
    tenant: str = "common",
    redirect_uri: str | None = None,
    state: str | None = None,
) -> str:
    """The v1 consent link a customer admin opens to install the app in their tenant."""
    params = {
        "prompt": "consent",
        "client_id": _client(client_id),
        "response_type": "code",
        "sso_reload": "true",
    }
    if redirect_uri:
        params["redirect_uri"] = redirect_uri
    if state:
        params["state"] = state
    return f"{_base(cloud, authority)}/{tenant}/oauth2/authorize?{urlencode(params)}"


def admin_consent_url(
    client_id: str,
    tenant: str,
    *,
    redirect_uri: str,
    cloud: str = "commercial",
    authority: str | None = None,
    scope: str | None = None,
    state: str | None = None,
) -> str:
    """The v2 admin-consent link (*tenant*: the customer's id/domain, or ``organizations``).

    *scope* defaults to the cloud's MDE resource ``/.default``. ``common`` is refused (the docs
    say not to use it here), as is a missing redirect URI (it must match a registered one).
    """
    if not tenant or tenant.lower() in ("common", "consumers"):
        raise ConfigurationError(
            "v2 admin consent needs the customer's tenant id or domain, or 'organizations'"
        )
    if not redirect_uri:
        raise ConfigurationError("v2 admin consent needs --redirect-uri (one registered on the app)")
    params = {
        "client_id": _client(client_id),
        "scope": scope or get_cloud(cloud).scope,
        "redirect_uri": redirect_uri,
    }
    if state:
        params["state"] = state
    return f"{_base(cloud, authority)}/{tenant}/v2.0/adminconsent?{urlencode(params)}"
