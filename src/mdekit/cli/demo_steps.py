"""The ten steps of ``mde demo``: each does one thing on the emulator and checks its own claim.

A step returns a :class:`Outcome`: lines for the reader, details for ``--json``, and checks
(claim, passed) that decide whether the step did what it says. The runner (``demo.py``) adds the
request-journal evidence and draws everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STEPS", "DemoContext", "Outcome", "Step"]

MDE_RESOURCE = "https://api.securitycenter.microsoft.com"
FIRST_ROLES = ["Alert.Read.All", "Machine.Read.All"]


@dataclass
class Outcome:
    """What a step did: human lines, machine details, and the checks of its claims."""

    lines: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    checks: list[tuple[str, bool]] = field(default_factory=list)
    table: list[dict[str, Any]] | None = None
    columns: list[str] | None = None

    def check(self, claim: str, passed: bool) -> bool:
        """Record whether *claim* held."""
        self.checks.append((claim, bool(passed)))
        return bool(passed)

    @property
    def ok(self) -> bool:
        """True when the step ran at least one check and all of them held."""
        return bool(self.checks) and all(p for _, p in self.checks)


@dataclass
class DemoContext:
    """What the steps share: the emulator, the control plane and what earlier steps created."""

    server: Any
    control: Any  # httpx.Client on the control plane (loopback only)
    show_secret: bool = False
    tenant_id: str = ""
    domain: str = ""
    app_id: str = ""
    secret: str = ""
    roles: list[str] = field(default_factory=list)
    second_tenant: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    client: Any = None
    opened: list[Any] = field(default_factory=list)
    tls: Any = None  # ssl.SSLContext trusting the emulator's CA (built from server.ca_cert if None)
    certificate: str = ""  # the app's certificate (PEM with key) instead of a secret (--graph path)
    graph_setup: Any = None  # (--graph) what a repeated `mde setup` run needs: its options, connection

    def __post_init__(self) -> None:
        if self.tls is None:
            from mdekit.auth.credentials import ssl_verify

            self.tls = ssl_verify(self.server.ca_cert)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST JSON to the control plane; raise ``EmulatorError`` on a failure."""
        from mdekit.errors import EmulatorError

        reply = self.control.post(f"/_emulator{path}", json=body)
        if reply.status_code >= 400:
            raise EmulatorError(f"control plane {path}: HTTP {reply.status_code}: {reply.text[:200]}")
        return reply.json() if reply.content else None

    def journal(self) -> list[dict[str, Any]]:
        """Every request the emulated services answered so far (control plane excluded)."""
        return list(self.server.state.journal.entries())

    def authority(self) -> str:
        """The emulator's login authority (stands in for https://login.microsoftonline.com)."""
        return str(self.server.url)

    def new_client(self, tenant: str | None = None) -> Any:
        """A fresh ``Defender`` client for the demo app (a fresh token on first use)."""
        from mdekit.client import Defender

        where = {"base_url": self.server.url, "authority": self.server.url, "verify": self.tls}
        if self.certificate:
            client = Defender.from_certificate(
                tenant or self.tenant_id, self.app_id, self.certificate, **where
            )
        else:
            client = Defender.from_secret(tenant or self.tenant_id, self.app_id, self.secret, **where)
        self.opened.append(client)
        return client

    def close(self) -> None:
        """Close every client and transport the steps opened."""
        for client in self.opened:
            client.close()

    def token(self, tenant: str, *, version: int) -> Any:
        """One raw client-credentials token request, v1 (``resource=``) or v2 (``scope=``)."""
        from mdekit.auth.credentials import request_token

        return request_token(
            tenant,
            self.app_id,
            None if self.certificate else self.secret,
            certificate=self.certificate or None,
            resource=MDE_RESOURCE if version == 1 else None,
            scope=None if version == 1 else f"{MDE_RESOURCE}/.default",
            version=version,
            authority=self.authority(),
            verify=self.tls,
        )

    def masked(self, value: str) -> str:
        """The secret as shown: in full only with ``--show-secret``, else the hint and dots."""
        return value if self.show_secret else value[:3] + "•" * 12


@dataclass(frozen=True)
class Step:
    """One demo step: title, what a user does in the portal and in code, and the action."""

    name: str
    title: str
    portal: str
    code: str
    run: Callable[[DemoContext], Outcome]


def _token_short(token: str) -> str:
    return f"{token[:12]}…{token[-4:]}  {len(token)} chars"


def _token_posts(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["method"] == "POST" and "/oauth2/" in e["path"] and "token" in e["path"]]


# -- 1 ------------------------------------------------------------------------------------------


def register_app(ctx: DemoContext) -> Outcome:
    out = Outcome()
    tenant = ctx.post("/tenants", {"displayName": "Contoso"})
    ctx.tenant_id, ctx.domain = tenant["tenantId"], tenant["domain"]
    seeded = ctx.post(f"/tenants/{ctx.tenant_id}/seed", {"machines": 12, "alerts": 40, "seed": 7})
    app = ctx.post(
        f"/tenants/{ctx.tenant_id}/applications",
        {
            "displayName": "mdekit-demo",
            "multiTenant": True,
            "permissions": [],
            "grantConsent": False,
            "secret": False,
        },
    )
    ctx.app_id = app["appId"]
    out.lines += [
        f"tenant   Contoso  {ctx.tenant_id}  ({ctx.domain})",
        f"         seeded with {_counts(seeded)}",
        f"app      mdekit-demo  appId {ctx.app_id}",
        "         multi-tenant; no permissions and no credential yet",
    ]
    out.details = {"tenantId": ctx.tenant_id, "domain": ctx.domain, "appId": ctx.app_id, "seeded": seeded}
    out.check("the app got an application (client) id", len(ctx.app_id) == 36)
    out.check("the app belongs to the tenant", app.get("tenantId") == ctx.tenant_id)
    out.check("no secret was created yet", app.get("secret") is None)
    return out


def _counts(seeded: Any) -> str:
    if isinstance(seeded, dict):
        parts = [f"{v} {k}" for k, v in seeded.items() if isinstance(v, int)]
        if parts:
            return ", ".join(parts)
    return "demo data"


# -- 2 ------------------------------------------------------------------------------------------


def add_permissions(ctx: DemoContext) -> Outcome:
    out = Outcome()
    before = len(ctx.journal())
    reply = ctx.post(f"/tenants/{ctx.tenant_id}/applications/{ctx.app_id}/permissions", {"add": FIRST_ROLES})
    requested = sorted((reply or {}).get("requested") or (reply or {}).get("permissions") or FIRST_ROLES)
    out.lines += [
        f"requested  {', '.join(requested)}",
        "granted    nothing yet: that needs admin consent (step 3)",
    ]
    out.details = {"requested": requested}
    out.check("both roles are requested", set(FIRST_ROLES) <= set(requested))
    out.check("nothing was sent to the token service or the API", len(ctx.journal()) == before)
    return out


# -- 3 ------------------------------------------------------------------------------------------


def grant_consent(ctx: DemoContext) -> Outcome:
    out = Outcome()
    reply = ctx.post(f"/tenants/{ctx.tenant_id}/consent", {"appId": ctx.app_id})
    ctx.roles = sorted(reply.get("roles") or [])
    out.lines += [
        f"granted    {', '.join(ctx.roles)}",
        "           (a service principal now holds these app roles)",
    ]
    out.details = {"roles": ctx.roles}
    out.check("exactly the requested roles were granted", ctx.roles == sorted(FIRST_ROLES))
    return out


# -- 4 ------------------------------------------------------------------------------------------


def add_secret(ctx: DemoContext) -> Outcome:
    out = Outcome()
    reply = ctx.post(f"/tenants/{ctx.tenant_id}/applications/{ctx.app_id}/secrets", {})
    secret = reply.get("secret", reply) if isinstance(reply, dict) else {}
    ctx.secret = str(secret.get("value") or "")
    shown = ctx.masked(ctx.secret)
    out.lines += [
        f"value      {shown}" + ("" if ctx.show_secret else "   (--show-secret to see it)"),
        f"secret ID  {secret.get('keyId')}   <- not the value: never paste this as the secret",
        f"expires    {secret.get('endDateTime')}",
        "note       shown ONCE: keep it in a vault or `mde profile add ... --credential keyring`",
    ]
    out.details = {
        "keyId": secret.get("keyId"),
        "hint": secret.get("hint"),
        "endDateTime": secret.get("endDateTime"),
        "shown": shown,
    }
    out.check("a secret value was issued", len(ctx.secret) >= 16)
    out.check("its hint is the first 3 characters", secret.get("hint") == ctx.secret[:3])
    return out


# -- 5 ------------------------------------------------------------------------------------------


def note_ids(ctx: DemoContext) -> Outcome:
    out = Outcome()
    base = ctx.authority()
    before = len(ctx.journal())
    reply = ctx.control.get(f"/{ctx.tenant_id}/v2.0/.well-known/openid-configuration")
    doc = reply.json() if reply.status_code == 200 else {}
    out.lines += [
        f"AZURE_TENANT_ID  {ctx.tenant_id}",
        f"AZURE_CLIENT_ID  {ctx.app_id}",
        f"v1 token URL     {base}/{ctx.tenant_id}/oauth2/token",
        f"v2 token URL     {base}/{ctx.tenant_id}/oauth2/v2.0/token",
        f"API              {base}/api  (really https://api.securitycenter.microsoft.com/api)",
    ]
    out.details = {"tenantId": ctx.tenant_id, "clientId": ctx.app_id, "issuer": doc.get("issuer")}
    out.check("the tenant's OpenID configuration answers", reply.status_code == 200)
    out.check(
        "its token endpoint is the v2 token URL",
        str(doc.get("token_endpoint", "")).endswith(f"/{ctx.tenant_id}/oauth2/v2.0/token"),
    )
    out.check("one discovery request, nothing else", len(ctx.journal()) == before + 1)
    return out


# -- 6 ------------------------------------------------------------------------------------------


def get_tokens(ctx: DemoContext) -> Outcome:
    out = Outcome()
    before = len(ctx.journal())
    v1 = ctx.token(ctx.tenant_id, version=1)
    v2 = ctx.token(ctx.tenant_id, version=2)
    posts = _token_posts(ctx.journal()[before:])
    ctx.tokens = {"v1": v1.access_token, "v2": v2.access_token}
    out.lines += [
        f"v1  resource={MDE_RESOURCE}",
        f"    {_token_short(v1.access_token)}, expires in {v1.expires_in} s",
        f"v2  scope={MDE_RESOURCE}/.default",
        f"    {_token_short(v2.access_token)}, expires in {v2.expires_in} s",
        "note  tokens are never printed in full",
        f"seen  {len(posts)} token requests at the emulator",
    ]
    out.details = {"tokensShown": 2, "tokenRequests": len(posts)}
    out.check("exactly one token request per token shown", len(posts) == 2)
    out.check("one went to the v1 endpoint", sum(e["path"].endswith("/oauth2/token") for e in posts) == 1)
    out.check(
        "one went to the v2 endpoint", sum(e["path"].endswith("/oauth2/v2.0/token") for e in posts) == 1
    )
    out.check("both succeeded", all(e["status"] == 200 for e in posts))
    return out


# -- 7 ------------------------------------------------------------------------------------------


def verify_token(ctx: DemoContext) -> Outcome:
    from mdekit.auth import inspect as token_inspect

    out = Outcome()
    token = ctx.tokens["v2"]
    header, claims = token_inspect.decode(token)
    verified = token_inspect.verify(
        token,
        jwks_url=f"{ctx.authority()}/{ctx.tenant_id}/discovery/v2.0/keys",
        verify=ctx.tls,
        audience=MDE_RESOURCE,
        required_roles=ctx.roles,
        now=ctx.server.state.clock.time(),  # the emulator's virtual clock issued it
    )
    roles = sorted(claims.get("roles") or [])
    out.lines += [
        f"header   alg {header.get('alg')}  kid {header.get('kid')}",
        f"aud      {claims.get('aud')}",
        f"iss      {claims.get('iss')}",
        f"appid    {claims.get('appid')}",
        f"tid      {claims.get('tid')}",
        f"roles    {', '.join(roles) or '(none)'}",
        "sig      RS256, verified with the tenant's published keys (JWKS)",
    ]
    out.details = {
        "alg": header.get("alg"),
        "aud": claims.get("aud"),
        "iss": claims.get("iss"),
        "roles": roles,
    }
    out.check("the RS256 signature verifies", bool(verified) and header.get("alg") == "RS256")
    out.check("aud is the Defender API", claims.get("aud") == MDE_RESOURCE)
    out.check("iss names the tenant", claims.get("iss") == f"https://sts.windows.net/{ctx.tenant_id}/")
    out.check("roles are exactly the consented ones", roles == ctx.roles)
    return out


# -- 8 ------------------------------------------------------------------------------------------


def list_alerts(ctx: DemoContext) -> Outcome:
    from mdekit.cli.output import as_dict

    out = Outcome()
    before = len(ctx.journal())
    ctx.client = ctx.new_client()
    alerts = [as_dict(a) for a in ctx.client.alerts.list(limit=5)]
    new = ctx.journal()[before:]
    api = [e for e in new if e["path"].lower().startswith("/api/")]
    out.table = alerts
    out.columns = ["severity", "status", "title", "computerDnsName"]
    tokens = len(_token_posts(new))
    out.lines.append(f"seen  {len(alerts)} alerts; {tokens} token request + {len(api)} API call")
    out.details = {"alerts": [a.get("id") for a in alerts], "apiRequests": len(api)}
    out.check("alerts came back", len(alerts) == 5)
    out.check("one GET /api/alerts answered 200", [(e["method"], e["status"]) for e in api] == [("GET", 200)])
    out.check("one token request for the client", len(_token_posts(new)) == 1)
    return out


# -- 9 ------------------------------------------------------------------------------------------


def least_privilege(ctx: DemoContext, grant: Callable[[DemoContext, Outcome], None] | None = None) -> Outcome:
    """Isolate refused for a missing role, the role granted (*grant*: the portal's way by default),
    then the isolate sent with a new token and followed to the end."""
    from mdekit.errors import PermissionMissingError

    out = Outcome()
    machine = _pick_machine(ctx)
    before = len(ctx.journal())
    refused: PermissionMissingError | None = None
    try:
        ctx.client.actions.isolate(machine["id"], "mdekit demo", isolation_type="Full")
    except PermissionMissingError as exc:
        refused = exc
    isolates = _isolates(ctx.journal()[before:])
    needs = ", ".join(refused.required) if refused else "?"
    out.lines.append(f"refused   isolate {machine.get('computerDnsName')}: not sent (needs {needs})")
    out.check(
        "the isolate was refused for a missing Machine.Isolate",
        refused is not None and "Machine.Isolate" in refused.required,
    )
    out.check("the refused isolate never reached the API", not isolates)
    (grant or _grant_isolate)(ctx, out)
    action = _isolate_for_real(ctx, out, machine)
    after = _isolates(ctx.journal()[before:])
    out.details |= {
        "machineId": machine["id"],
        "refusedSent": bool(refused and refused.sent),
        "actionId": action.get("id"),
        "finalStatus": action.get("status"),
    }
    out.check(
        "exactly one isolate reached the API, after the grant", len(after) == 1 and after[0]["status"] == 201
    )
    out.check("the action was followed to Succeeded", action.get("status") == "Succeeded")
    return out


def _pick_machine(ctx: DemoContext) -> dict[str, Any]:
    from mdekit.cli.output import as_dict

    machines = [as_dict(m) for m in ctx.client.machines.list(limit=50)]
    windows = [m for m in machines if str(m.get("osPlatform", "")).startswith("Windows")]
    return (windows or machines)[0]


def _isolates(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["method"] == "POST" and e["path"].lower().endswith("/isolate")]


def _grant_isolate(ctx: DemoContext, out: Outcome) -> None:
    ctx.post(f"/tenants/{ctx.tenant_id}/applications/{ctx.app_id}/permissions", {"add": ["Machine.Isolate"]})
    reply = ctx.post(f"/tenants/{ctx.tenant_id}/consent", {"appId": ctx.app_id})
    ctx.roles = sorted(reply.get("roles") or [])
    out.lines.append(f"granted   Machine.Isolate, consented again: roles {', '.join(ctx.roles)}")
    out.check("Machine.Isolate is granted after consent", "Machine.Isolate" in ctx.roles)


def _isolate_for_real(ctx: DemoContext, out: Outcome, machine: dict[str, Any]) -> dict[str, Any]:
    from mdekit.cli.output import as_dict

    # Roles are fixed when a token is issued: a new client means a new token with the new role.
    ctx.client = ctx.new_client()
    ctx.post(
        "/actions", {"type": "Isolate", "pendingSeconds": 0.2, "runSeconds": 0.3, "outcome": "Succeeded"}
    )
    action = ctx.client.actions.isolate(machine["id"], "mdekit demo", isolation_type="Full")
    out.lines.append(
        f"sent      new token; isolate -> action {as_dict(action).get('id')} {as_dict(action).get('status')}"
    )
    final = as_dict(ctx.client.actions.wait(action, timeout=30, interval=0.2))
    out.lines.append(f"followed  action -> {final.get('status')}")
    return final


# -- 10 -----------------------------------------------------------------------------------------


def multi_tenant(ctx: DemoContext) -> Outcome:
    from mdekit.auth import inspect as token_inspect
    from mdekit.auth.consent import consent_url
    from mdekit.errors import AuthenticationError

    out = Outcome()
    fabrikam = ctx.post("/tenants", {"displayName": "Fabrikam"})
    ctx.second_tenant = fabrikam["tenantId"]
    link = consent_url(ctx.app_id, authority=ctx.authority())
    out.lines += [f"customer tenant  Fabrikam  {ctx.second_tenant}", f"consent link     {link}"]
    codes: tuple[int, ...] = ()
    try:
        ctx.token(ctx.second_tenant, version=2)
    except AuthenticationError as exc:
        codes = exc.codes
    out.lines.append(
        f"before consent   token refused: AADSTS{codes[0] if codes else '?'} (app not in tenant)"
    )
    out.check("before consent the token is refused with AADSTS700016", 700016 in codes)
    page = ctx.control.get(link.replace(ctx.authority(), ""))
    out.check("the consent link opens the consent page", page.status_code == 200)
    granted = ctx.post(f"/tenants/{ctx.second_tenant}/consent", {"appId": ctx.app_id})
    out.lines.append(f"admin consents   roles {', '.join(sorted(granted.get('roles') or []))}")
    token = ctx.token(ctx.second_tenant, version=2)
    _, claims = token_inspect.decode(token.access_token)
    out.lines.append(f"after consent    token for tid {claims.get('tid')}")
    out.details = {
        "secondTenant": ctx.second_tenant,
        "consentUrl": link,
        "refusedCodes": list(codes),
        "tid": claims.get("tid"),
    }
    out.check("the new token is for the customer tenant", claims.get("tid") == ctx.second_tenant)
    return out


STEPS: list[Step] = [
    Step(
        "register",
        "Register an app in a tenant",
        "Entra admin center → App registrations → New registration → 'mdekit-demo', "
        "Accounts in any organizational directory (multi-tenant)",
        "az ad app create --display-name mdekit-demo \\\n  --sign-in-audience AzureADMultipleOrgs",
        register_app,
    ),
    Step(
        "permissions",
        "Add WindowsDefenderATP application permissions",
        "App → API permissions → Add a permission → APIs my organization uses → "
        "WindowsDefenderATP → Application permissions → Alert.Read.All, Machine.Read.All",
        "az ad app permission add --id $APP_ID \\\n"
        "  --api fc780465-2017-40d4-a0c5-307022471b92 \\\n"
        "  --api-permissions <role-id>=Role",
        add_permissions,
    ),
    Step(
        "consent",
        "Grant admin consent",
        "App → API permissions → Grant admin consent for Contoso",
        "az ad app permission admin-consent --id $APP_ID",
        grant_consent,
    ),
    Step(
        "secret",
        "Add a client secret (shown once)",
        "App → Certificates & secrets → New client secret → copy the Value now",
        "az ad app credential reset --id $APP_ID --append",
        add_secret,
    ),
    Step(
        "ids",
        "Note the application and tenant ids",
        "App → Overview → Application (client) ID, Directory (tenant) ID",
        "export AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=...",
        note_ids,
    ),
    Step(
        "token",
        "Get a token both ways (v1 resource=, v2 scope=)",
        "(nothing in the portal: your code asks Entra ID for a token)",
        "POST https://login.microsoftonline.com/$TENANT/oauth2/v2.0/token\n"
        "  grant_type=client_credentials&client_id=...&client_secret=...\n"
        "  &scope=https://api.securitycenter.microsoft.com/.default",
        get_tokens,
    ),
    Step(
        "verify",
        "Decode and verify the token; show its roles",
        "(instead of pasting the token into a website)",
        "mde token verify --role Alert.Read.All < token.txt",
        verify_token,
    ),
    Step(
        "alerts",
        "Call GET /api/alerts",
        "Defender portal → Incidents & alerts → Alerts",
        "from mdekit.client import Defender\nmde = Defender.from_environment()\n"
        "for alert in mde.alerts.list(limit=5): print(alert.title)",
        list_alerts,
    ),
    Step(
        "least-privilege",
        "Least privilege: isolate refused, then granted and run",
        "API permissions → add Machine.Isolate → Grant admin consent (again)",
        "action = mde.actions.isolate(machine_id, 'contain')\nmde.actions.wait(action)",
        least_privilege,
    ),
    Step(
        "multi-tenant",
        "Multi-tenant: consent link, customer consent, token",
        "Customer admin opens the consent link, signs in to their tenant, accepts",
        "https://login.microsoftonline.com/common/oauth2/authorize\n"
        "  ?prompt=consent&client_id=$APP_ID\n"
        "  &response_type=code&sso_reload=true\n"
        "then request tokens with the CUSTOMER's tenant id",
        multi_tenant,
    ),
]
