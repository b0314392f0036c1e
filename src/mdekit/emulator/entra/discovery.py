"""OpenID discovery documents and instance discovery, built from the Host the client used.

Shapes follow real captures (service-facts.md §1.6-1.8). Endpoint URLs name the tenant by its
GUID (as Entra does even when asked by domain) and use ``https://<Host header>``, so a client
that connects as ``localhost`` sees ``localhost`` URLs and its assertion ``aud`` stays valid.
"""

from __future__ import annotations

from typing import Any

__all__ = ["instance_metadata", "openid_configuration_v1", "openid_configuration_v2"]

_CLAIMS_V2 = [
    "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
    "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name",
    "tid", "ver", "at_hash", "c_hash", "email",
]  # fmt: skip
_CLAIMS_V1 = [
    "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
    "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name",
    "family_name", "nickname",
]  # fmt: skip
_AUTH_METHODS = ["client_secret_post", "private_key_jwt", "client_secret_basic"]


def _common(base: str, tenant: str, region: str | None) -> dict[str, Any]:
    return {
        "token_endpoint_auth_methods_supported": _AUTH_METHODS,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "kerberos_endpoint": f"{base}/{tenant}/kerberos",
        "tenant_region_scope": region,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


def openid_configuration_v2(base: str, tenant: str, *, specific: bool) -> dict[str, Any]:
    """``/{tenant}/v2.0/.well-known/openid-configuration``; *specific* False for ``common``-like."""
    issuer_tid = tenant if specific else "{tenantid}"
    return {
        "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
        "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/{issuer_tid}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
        "end_session_endpoint": f"{base}/{tenant}/oauth2/v2.0/logout",
        "claims_supported": _CLAIMS_V2,
        **_common(base, tenant, "NA" if specific else None),
    }


def openid_configuration_v1(base: str, tenant: str, *, specific: bool) -> dict[str, Any]:
    """``/{tenant}/.well-known/openid-configuration`` (v1: issuer ``https://sts.windows.net/{tid}/``)."""
    issuer_tid = tenant if specific else "{tenantid}"
    return {
        "token_endpoint": f"{base}/{tenant}/oauth2/token",
        "jwks_uri": f"{base}/common/discovery/keys",
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": f"https://sts.windows.net/{issuer_tid}/",
        "microsoft_multi_refresh_token": True,
        "authorization_endpoint": f"{base}/{tenant}/oauth2/authorize",
        "device_authorization_endpoint": f"{base}/{tenant}/oauth2/devicecode",
        "end_session_endpoint": f"{base}/{tenant}/oauth2/logout",
        "check_session_iframe": f"{base}/{tenant}/oauth2/checksession",
        "userinfo_endpoint": f"{base}/{tenant}/openid/userinfo",
        "claims_supported": _CLAIMS_V1,
        **_common(base, tenant, "NA" if specific else None),
    }


def instance_metadata(host: str, base: str) -> dict[str, Any]:
    """``/common/discovery/instance``: this host first, then the public cloud's alias groups."""
    return {
        "tenant_discovery_endpoint": f"{base}/common/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [
            {"preferred_network": host, "preferred_cache": host, "aliases": [host]},
            {
                "preferred_network": "login.microsoftonline.com",
                "preferred_cache": "login.windows.net",
                "aliases": [
                    "login.microsoftonline.com",
                    "login.windows.net",
                    "login.microsoft.com",
                    "sts.windows.net",
                ],
            },
            {
                "preferred_network": "login.microsoftonline.us",
                "preferred_cache": "login.microsoftonline.us",
                "aliases": ["login.microsoftonline.us", "login.usgovcloudapi.net"],
            },
        ],
    }
