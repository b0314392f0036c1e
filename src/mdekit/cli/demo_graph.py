"""``mde demo --graph``: the portal's steps 1-4 done by ``mde setup`` through Microsoft Graph.

Two steps replace "register", "permissions", "consent" and "secret": an administrator signs in
with the device code flow (the demo plays the person at the browser through the emulator's
control plane), then :mod:`mdekit.provisioning` makes the Graph calls ``mde setup`` makes. The
later steps of the walkthrough then use the app exactly as they use the portal-made one, with the
certificate ``mde setup`` made instead of a secret.
"""

from __future__ import annotations

import threading
from typing import Any

from mdekit.cli.demo_steps import FIRST_ROLES, STEPS, DemoContext, Outcome, Step

__all__ = ["GRAPH_STEPS"]

_SETUP = "mde setup --name mdekit-demo --permissions Alert.Read.All,Machine.Read.All --multi-tenant"


def sign_in(ctx: DemoContext) -> Outcome:
    from mdekit import provisioning

    out = Outcome()
    tenant = ctx.post("/tenants", {"displayName": "Contoso"})
    ctx.tenant_id, ctx.domain = tenant["tenantId"], tenant["domain"]
    seeded = ctx.post(f"/tenants/{ctx.tenant_id}/seed", {"machines": 12, "alerts": 40, "seed": 7})
    ctx.post("/devicecode/settings", {"interval": 1})
    shown: list[Any] = []

    def prompt(p: Any) -> None:  # the person at the browser: approves on the sign-in page
        shown.append(p)
        admin = f"admin@{ctx.domain}"
        threading.Timer(
            0.2, ctx.post, ("/devicecode/approve", {"userCode": p.user_code, "userPrincipalName": admin})
        ).start()

    user = provisioning.sign_in(ctx.tenant_id, prompt=prompt, authority=ctx.authority(), verify=ctx.tls)
    ctx.tokens["graph-user"] = user.access_token
    out.lines += [
        f"tenant   Contoso  {ctx.tenant_id}  ({ctx.domain}), seeded with {seeded.get('alerts', '?')} alerts",
        f"prompt   open {shown[0].verification_uri} and enter the code {shown[0].user_code}",
        f"user     {user.user} signed in (Global Administrator)",
        f"scopes   {' '.join(user.scopes)} (delegated, Microsoft Graph)",
    ]
    out.details = {"user": user.user, "scopes": list(user.scopes), "userCode": shown[0].user_code}
    out.check("the device code was shown once", len(shown) == 1)
    out.check("the token is the admin's, for Microsoft Graph", user.user == f"admin@{ctx.domain}")
    out.check(
        "it carries the two app-management scopes", set(provisioning.SIGN_IN_SCOPES) <= set(user.scopes)
    )
    return out


def setup_through_graph(ctx: DemoContext) -> Outcome:
    import os
    import tempfile

    from mdekit import profiles, provisioning

    out = Outcome()
    before = len(ctx.journal())
    wanted = provisioning.resolve_permissions(FIRST_ROLES)
    opts = provisioning.SetupOptions("mdekit-demo", wanted, "mdekit-demo", multi_tenant=True)
    conn = provisioning.Connection(ctx.authority(), ctx.authority(), ctx.authority(), str(ctx.server.ca_cert))
    saved = os.environ.get("MDEKIT_CONFIG_DIR")
    with tempfile.TemporaryDirectory(prefix="mdekit-demo-config-") as home:
        os.environ["MDEKIT_CONFIG_DIR"] = home  # the demo never touches the user's profiles
        try:
            graph = provisioning.GraphSession(ctx.authority(), ctx.tokens["graph-user"], verify=ctx.tls)
            said: list[str] = []
            result = provisioning.run_setup(
                graph, ctx.tenant_id, opts, conn, lambda m, t: said.append(f"{m} {t}")
            )
            graph.close()
            prof = profiles.load().get("mdekit-demo")
            with open(prof.certificate_path, encoding="utf-8") as fh:
                ctx.certificate = fh.read()
        finally:
            if saved is None:
                os.environ.pop("MDEKIT_CONFIG_DIR", None)
            else:
                os.environ["MDEKIT_CONFIG_DIR"] = saved
    ctx.app_id = result.app_id
    graph_calls = [e for e in ctx.journal()[before:] if e["path"].startswith("/v1.0/")]
    writes = [f"{e['method']} {e['path']} -> {e['status']}" for e in graph_calls if e["method"] != "GET"]
    out.lines += [*said[:5], "calls    " + writes[0], *(f"         {w}" for w in writes[1:])]
    app = ctx.control.get(f"/_emulator/tenants/{ctx.tenant_id}/applications/{ctx.app_id}").json()
    ctx.roles = sorted(app.get("grantedRoles") or [])
    out.details = {"appId": ctx.app_id, "graphCalls": len(graph_calls), "roles": ctx.roles}
    out.check("the app was registered through Graph (POST /v1.0/applications 201)",
              any(w.startswith("POST /v1.0/applications -> 201") for w in writes))  # fmt: skip
    out.check("admin consent was granted role by role (appRoleAssignedTo)",
              sum("/appRoleAssignedTo" in w for w in writes) == len(FIRST_ROLES))  # fmt: skip
    out.check("the directory now grants exactly those roles", ctx.roles == sorted(FIRST_ROLES))
    out.check("a certificate, not a secret, is the credential",
              len(app.get("certificates") or []) == 1 and not app.get("secrets"))  # fmt: skip
    return out


_PORTAL = (
    "The portal's steps 1-4 (register, add permissions, grant admin consent, add a credential), "
    "done by one command after one sign-in"
)
GRAPH_STEPS: list[Step] = [
    Step(
        "sign-in",
        "An administrator signs in once (device code)",
        "(instead of opening the portal: a code to enter at the sign-in page)",
        "mde setup ...  ->  'To sign in, open https://microsoft.com/devicelogin and enter the code ...'",
        sign_in,
    ),
    Step(
        "setup",
        "mde setup: app, permissions, consent, certificate via Graph",
        _PORTAL,
        _SETUP,
        setup_through_graph,
    ),
    *STEPS[4:],
]
