"""``mde demo --graph``: the portal's steps 1-4 done by ``mde setup`` through Microsoft Graph.

Two steps replace "register", "permissions", "consent" and "secret": an administrator signs in
with the device code flow (the demo plays the person at the browser through the emulator's
control plane), then :mod:`mdekit.provisioning` makes the Graph calls ``mde setup`` makes. The
later steps of the walkthrough then use the app exactly as they use the portal-made one, with the
certificate ``mde setup`` made instead of a secret; the least-privilege step grants
Machine.Isolate by running ``mde setup`` again with it added (it sends only what is missing).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import tempfile
import threading
from typing import Any

from mdekit.cli.demo_steps import FIRST_ROLES, STEPS, DemoContext, Outcome, Step, least_privilege

__all__ = ["GRAPH_STEPS"]

_SETUP = "mde setup --name mdekit-demo --permissions Alert.Read.All,Machine.Read.All --multi-tenant"


class _ConfigHome:
    """A temporary ``MDEKIT_CONFIG_DIR`` for the demo's profile and key, for the whole run (the
    user's own profiles are never read or written); ``close()`` restores the variable."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="mdekit-demo-config-")
        self._saved = os.environ.get("MDEKIT_CONFIG_DIR")
        os.environ["MDEKIT_CONFIG_DIR"] = self._dir.name

    def close(self) -> None:
        if self._saved is None:
            os.environ.pop("MDEKIT_CONFIG_DIR", None)
        else:
            os.environ["MDEKIT_CONFIG_DIR"] = self._saved
        self._dir.cleanup()


@dataclasses.dataclass
class _SetupState:
    """What ``mde setup`` runs need: the administrator's Graph token, the options and connection."""

    token: str
    opts: Any = None
    conn: Any = None


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
    ctx.graph_setup = _SetupState(user.access_token)
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


def _run_setup(ctx: DemoContext, opts: Any) -> tuple[list[str], list[str]]:
    """Run ``mde setup``'s Graph steps as the signed-in admin: (what it said, Graph writes sent)."""
    from mdekit import provisioning

    before = len(ctx.journal())
    graph = provisioning.GraphSession(ctx.authority(), ctx.graph_setup.token, verify=ctx.tls)
    said: list[str] = []
    try:
        provisioning.run_setup(
            graph, ctx.tenant_id, opts, ctx.graph_setup.conn, lambda m, t: said.append(f"{m} {t}")
        )
    finally:
        graph.close()
    calls = [e for e in ctx.journal()[before:] if e["path"].startswith("/v1.0/")]
    return said, [f"{e['method']} {e['path']} -> {e['status']}" for e in calls if e["method"] != "GET"]


def _app(ctx: DemoContext) -> dict[str, Any]:
    return dict(ctx.control.get(f"/_emulator/tenants/{ctx.tenant_id}/applications/{ctx.app_id}").json())


def setup_through_graph(ctx: DemoContext) -> Outcome:
    from mdekit import profiles, provisioning

    out = Outcome()
    ctx.opened.append(_ConfigHome())  # removed when the demo ends
    wanted = provisioning.resolve_permissions(FIRST_ROLES)
    opts = provisioning.SetupOptions("mdekit-demo", wanted, "mdekit-demo", multi_tenant=True)
    url = ctx.authority()  # the emulator serves login, Graph and the API on one address
    ctx.graph_setup.opts = opts
    ctx.graph_setup.conn = provisioning.Connection(url, url, url, str(ctx.server.ca_cert))
    said, writes = _run_setup(ctx, opts)
    prof = profiles.load().get("mdekit-demo")
    with open(prof.certificate_path, encoding="utf-8") as fh:
        ctx.certificate = fh.read()
    ctx.app_id = prof.client_id
    out.lines += [*said[:5], "calls    " + writes[0], *(f"         {w}" for w in writes[1:])]
    app = _app(ctx)
    ctx.roles = sorted(app.get("grantedRoles") or [])
    out.details = {"appId": ctx.app_id, "graphWrites": writes, "roles": ctx.roles}
    out.check("the app was registered through Graph (POST /v1.0/applications 201)",
              any(w.startswith("POST /v1.0/applications -> 201") for w in writes))  # fmt: skip
    out.check("admin consent was granted role by role (appRoleAssignedTo)",
              sum("/appRoleAssignedTo" in w for w in writes) == len(FIRST_ROLES))  # fmt: skip
    out.check("the directory now grants exactly those roles", ctx.roles == sorted(FIRST_ROLES))
    out.check("a certificate, not a secret, is the credential",
              len(app.get("certificates") or []) == 1 and not app.get("secrets"))  # fmt: skip
    return out


def _grant_isolate_through_graph(ctx: DemoContext, out: Outcome) -> None:
    """``mde setup`` again with Machine.Isolate added: one permission and one grant, nothing else."""
    from mdekit import provisioning

    wanted = provisioning.resolve_permissions([*FIRST_ROLES, "Machine.Isolate"])
    opts = dataclasses.replace(ctx.graph_setup.opts, wanted=wanted)
    certificates = _app(ctx).get("certificates")
    said, writes = _run_setup(ctx, opts)
    app = _app(ctx)
    ctx.roles = sorted(app.get("grantedRoles") or [])
    out.lines += ["again     " + said[0], *(f"          {s}" for s in said[1:] if s[0] == "+")]
    out.lines += [f"calls     {writes[0] if writes else '(none)'}", *(f"          {w}" for w in writes[1:])]
    out.lines.append(f"granted   roles {', '.join(ctx.roles)}")
    out.details["graphWrites"] = writes
    out.check("Machine.Isolate is granted after consent", "Machine.Isolate" in ctx.roles)
    out.check(
        "the re-run sent only what was missing: one PATCH (permission) and one grant",
        len(writes) == 2
        and writes[0].startswith("PATCH /v1.0/applications/")
        and writes[1].endswith("/appRoleAssignedTo -> 201"),
    )
    out.check("the certificate was kept", app.get("certificates") == certificates)


_PORTAL = (
    "The portal's steps 1-4 (register, add permissions, grant admin consent, add a credential), "
    "done by one command after one sign-in"
)
_BY_NAME = {s.name: s for s in STEPS}
GRAPH_STEPS: list[Step] = [
    Step(
        "sign-in",
        "An administrator signs in once (device code)",
        "(instead of opening the portal: a code to enter at the sign-in page)",
        "mde setup --name mdekit-demo\n"
        "# To sign in, use a web browser to open the page https://microsoft.com/devicelogin\n"
        "# and enter the code ... to authenticate.",
        sign_in,
    ),
    Step(
        "setup",
        "mde setup: app, permissions, consent, certificate via Graph",
        _PORTAL,
        _SETUP,
        setup_through_graph,
    ),
    dataclasses.replace(
        _BY_NAME["ids"],
        code="# in profile 'mdekit-demo', saved by mde setup; or in the environment:\n"
        "export AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_CERTIFICATE_PATH=...",
    ),
    dataclasses.replace(
        _BY_NAME["token"],
        code="POST https://login.microsoftonline.com/$TENANT/oauth2/v2.0/token\n"
        "  grant_type=client_credentials&client_id=...\n"
        "  &client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer\n"
        "  &client_assertion=<JWT signed with the certificate's private key>\n"
        "  &scope=https://api.securitycenter.microsoft.com/.default",
    ),
    _BY_NAME["verify"],
    _BY_NAME["alerts"],
    dataclasses.replace(
        _BY_NAME["least-privilege"],
        portal="(no portal: `mde setup` again with Machine.Isolate added; it sends only what is missing)",
        code=_SETUP.replace("Machine.Read.All", "Machine.Read.All,Machine.Isolate")
        + "\naction = mde.actions.isolate(machine_id, 'contain')\nmde.actions.wait(action)",
        run=functools.partial(least_privilege, grant=_grant_isolate_through_graph),
    ),
    _BY_NAME["multi-tenant"],
]
