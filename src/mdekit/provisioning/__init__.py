"""``mde setup`` as a library: register the app for Defender access through Microsoft Graph.

An administrator signs in once with the device code flow (:func:`sign_in`); then :func:`run_setup`
does the portal's steps as Graph calls (register the app, request the permissions, create its
service principal, grant admin consent, add a certificate or secret, save a profile), each only
if needed, so running it again finishes what is missing and changes nothing else::

    from mdekit import provisioning as p

    user = p.sign_in("organizations", prompt=lambda d: print(d.message))
    graph = p.GraphSession("https://graph.microsoft.com", user.access_token)
    opts = p.SetupOptions("mde-reader", p.resolve_permissions(preset="reader"), profile="contoso")
    p.run_setup(graph, user.tenant_id, opts, p.Connection(), say=lambda mark, text: print(mark, text))

Layer: beside the client (it makes its own Graph calls over httpx and gets tokens from
:mod:`mdekit.auth`); it never imports the client or the emulator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mdekit.auth.device_code import (
    GRAPH_COMMAND_LINE_TOOLS,
    DevicePrompt,
    UserToken,
    sign_in_with_device_code,
)
from mdekit.provisioning.graph import GraphCall, GraphSession
from mdekit.provisioning.permissions import (
    PRESETS,
    Wanted,
    grant_roles_needed,
    missing_grant_roles,
    resolve_permissions,
)
from mdekit.provisioning.steps import (
    Connection,
    SetupOptions,
    SetupResult,
    plan_calls,
    remove_app,
    rotate_credential,
    run_setup,
)
from mdekit.provisioning.verify import missing_roles, token_roles, wait_for_roles

__all__ = [
    "GRAPH_COMMAND_LINE_TOOLS",
    "PRESETS",
    "SIGN_IN_SCOPES",
    "Connection",
    "DevicePrompt",
    "GraphCall",
    "GraphSession",
    "SetupOptions",
    "SetupResult",
    "UserToken",
    "Wanted",
    "grant_roles_needed",
    "missing_grant_roles",
    "missing_roles",
    "plan_calls",
    "remove_app",
    "resolve_permissions",
    "rotate_credential",
    "run_setup",
    "sign_in",
    "token_roles",
    "wait_for_roles",
]

#: The delegated Graph permissions the signed-in administrator's token needs (service-facts-2
#: §4.5): create apps, service principals and credentials; grant application permissions.
SIGN_IN_SCOPES = ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All")


def sign_in(
    tenant: str = "organizations",
    *,
    prompt: Callable[[DevicePrompt], None],
    client_id: str = GRAPH_COMMAND_LINE_TOOLS,
    cloud: str = "commercial",
    **kw: Any,
) -> UserToken:
    """An administrator's device-code sign-in for Graph application management (the cloud's Graph)."""
    from mdekit.clouds import get_cloud

    graph = f"https://{get_cloud(cloud).graph_host}"
    scopes = [f"{graph}/{s}" for s in SIGN_IN_SCOPES] + ["openid", "profile"]
    return sign_in_with_device_code(tenant, client_id, scopes, prompt=prompt, cloud=cloud, **kw)
