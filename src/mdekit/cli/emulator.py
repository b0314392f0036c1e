"""``mde emulator``: run the local Entra ID + Defender emulator and drive its control plane.

``serve`` prints one line (base URL, CA path, how to trust it) and writes ``ready.json`` in its
state directory (and ``--ready-file`` if given). Every other subcommand talks HTTPS to the
control plane; where to find it: ``--url``/``--ca``, else ``MDEKIT_EMULATOR_URL`` /
``MDEKIT_EMULATOR_CA``, else the ready file (``--ready-file``, ``MDEKIT_EMULATOR_READY_FILE``, or the
one ``serve`` writes by default). ``--json`` prints the control plane's JSON answer. Those four
options are one option group (:class:`ControlPlane`), added by the command class ``Controlling``.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer

from mdekit.cli.common import GroupedCommand, group_of, new_app

__all__ = ["app", "resolve_target"]

app = new_app("Run and drive the local Entra ID + Defender emulator.")
tenant_app = new_app("Tenants of the emulated directory.")
app_app = new_app("App registrations.")
secret_app = new_app("Client secrets.")
faults_app = new_app("Fault plans (error statuses, delays, drops).")
app.add_typer(tenant_app, name="tenant")
app.add_typer(app_app, name="app")
app.add_typer(secret_app, name="secret")
app.add_typer(faults_app, name="faults")


@app.callback()
def _require_extra() -> None:
    # Every subcommand needs the `emulator` extra: importing mdekit.emulator says in one line
    # (exit 2) what to install when it is missing. `mde emulator --help` still works without it.
    importlib.import_module("mdekit.emulator")


Tenant = Annotated[str, typer.Option(..., "--tenant", "-t", help="Tenant id or domain.")]
AppId = Annotated[str, typer.Option(..., "--app", "-a", help="Application (client) id.")]
ReadyFile = Annotated[
    Path | None, typer.Option("--ready-file", help="Ready file written by `mde emulator serve`.")
]


@dataclass(frozen=True)
class ControlPlane:
    """Where the running emulator is and how its answers print (the option group of ``Controlling``)."""

    url: Annotated[
        str | None,
        typer.Option("--url", help="Emulator base URL (default: MDEKIT_EMULATOR_URL or the ready file)."),
    ] = None
    ca: Annotated[
        str | None,
        typer.Option("--ca", help="CA certificate to trust (default: MDEKIT_EMULATOR_CA or the ready file)."),
    ] = None
    ready_file: ReadyFile = None
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON answer.")] = False

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One control-plane request; errors become one clear line."""
        return _call(method, path, body, self.url, self.ca, self.ready_file)

    def show(self, data: Any, lines: list[str]) -> None:
        """*data* as JSON with ``--json``, else the human *lines* (control characters escaped)."""
        if self.as_json:
            typer.echo(json.dumps(data, indent=2))
            return
        from mdekit.cli.output import terminal_safe

        for line in lines:  # names come from whoever created them
            typer.echo(terminal_safe(line))


class Controlling(GroupedCommand):
    """A command that talks to a running emulator's control plane (``--url --ca --ready-file --json``)."""

    groups: ClassVar[tuple[type, ...]] = (ControlPlane,)


class ControllingQuietly(Controlling):
    """The same without ``--json`` (the answer is a one-line confirmation)."""

    omit: ClassVar[frozenset[str]] = frozenset({"as_json"})


def _plane(ctx: typer.Context) -> ControlPlane:
    return group_of(ctx, ControlPlane)


def _default_ready_file() -> Path:
    from mdekit.emulator.tls import default_state_dir

    return default_state_dir() / "ready.json"


def resolve_target(url: str | None, ca: str | None, ready_file: Path | None = None) -> tuple[str, str | None]:
    """``(base URL, CA path)`` of a running emulator from flags, environment or a ready file."""
    from mdekit.errors import ConfigurationError

    url = url or os.environ.get("MDEKIT_EMULATOR_URL")
    ca = ca or os.environ.get("MDEKIT_EMULATOR_CA")
    if url:
        return url.rstrip("/"), ca
    env_ready = os.environ.get("MDEKIT_EMULATOR_READY_FILE")
    path = ready_file or (Path(env_ready) if env_ready else _default_ready_file())
    try:
        info = json.loads(path.read_text())
        return str(info["url"]).rstrip("/"), ca or str(info["ca_cert"])
    except FileNotFoundError:
        raise ConfigurationError(
            f"no running emulator found ({path} does not exist): start one with `mde emulator serve` "
            "or pass --url and --ca"
        ) from None
    except (ValueError, KeyError, TypeError):
        raise ConfigurationError(f"{path} is not an emulator ready file") from None


def _call(method: str, path: str, body: Any, url: str | None, ca: str | None, ready: Path | None) -> Any:
    """One control-plane request; errors become one clear line."""
    import httpx

    from mdekit.auth.credentials import ssl_verify
    from mdekit.errors import ConfigurationError, EmulatorError

    base, ca_path = resolve_target(url, ca, ready)
    try:
        with httpx.Client(verify=ssl_verify(ca_path or True), timeout=30, trust_env=False) as client:
            response = client.request(method, f"{base}/_emulator{path}", json=body)
    except httpx.HTTPError as exc:
        raise EmulatorError(f"cannot reach the emulator at {base}: {exc}") from None
    if response.status_code == 204:
        return None
    try:
        data = response.json()
    except ValueError:
        data = {"detail": response.text[:200]}
    if response.status_code >= 400:
        detail = data.get("detail") if isinstance(data, dict) else data
        text = detail if isinstance(detail, str) else json.dumps(detail)
        cls = ConfigurationError if response.status_code in (400, 422) else EmulatorError
        raise cls(f"emulator refused {method} {path} ({response.status_code}): {text}")
    return data


# ---- serve -------------------------------------------------------------------------------------


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="Port (0 picks a free one)."),
    data: Path | None = typer.Option(None, "--data", help="SQLite file (default: <state dir>/emulator.db)."),
    state_dir: Path | None = typer.Option(None, "--state-dir", help="Where the CA and data live."),
    ready_file: ReadyFile = None,
    transparent: bool = typer.Option(
        False, "--transparent", help="Answer for Microsoft's real hostnames (usually with --port 443)."
    ),
) -> None:
    """Serve the emulator over HTTPS until interrupted (Ctrl-C)."""
    from mdekit.emulator.tls import default_state_dir

    directory = state_dir or default_state_dir()
    _check_paths(directory, ready_file)
    kwargs: dict[str, Any] = {"host": host, "port": port, "data": data or directory / "emulator.db",
                              "state_dir": directory}  # fmt: skip
    default_ready = directory / "ready.json"

    def on_ready(info: Any) -> None:
        tmp = default_ready.with_suffix(".tmp")
        tmp.write_text(info.to_json())
        tmp.replace(default_ready)
        typer.echo(
            f"mdekit emulator ready at {info.url}  CA: {info.ca_cert}  (trust it: --ca {info.ca_cert}, "
            f"or export SSL_CERT_FILE/REQUESTS_CA_BUNDLE={info.ca_cert})"
        )

    try:
        if transparent:
            from mdekit.emulator.transparent import TransparentServer

            server: Any = TransparentServer(**kwargs)
        else:
            from mdekit.emulator.server import EmulatorServer

            server = EmulatorServer(**kwargs)
        server.serve_forever(ready_file, on_ready=on_ready)
    finally:
        default_ready.unlink(missing_ok=True)


def _check_paths(state_dir: Path, ready_file: Path | None) -> None:
    """Refuse a state directory that is a file, or a ready file in a missing directory, up front."""
    from mdekit.errors import ConfigurationError

    if state_dir.exists() and not state_dir.is_dir():
        raise ConfigurationError(f"--state-dir {state_dir}: exists and is not a directory")
    if ready_file is not None and not ready_file.parent.is_dir():
        raise ConfigurationError(f"--ready-file {ready_file}: directory {ready_file.parent} does not exist")


# ---- directory ---------------------------------------------------------------------------------


@tenant_app.command("add", cls=Controlling)
def tenant_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Display name, e.g. Contoso."),
    domain: str | None = typer.Option(None, "--domain", help="Default: <name>.onmicrosoft.com."),
    tenant_id: str | None = typer.Option(None, "--id", help="Use this GUID as the tenant id."),
) -> None:
    """Create a tenant."""
    plane = _plane(ctx)
    body = {"displayName": name, "domain": domain, "tenantId": tenant_id}
    data = plane.call("POST", "/tenants", {k: v for k, v in body.items() if v})
    plane.show(data, [f"tenant {data['tenantId']}  {data['displayName']}  {data['domain']}"])


@tenant_app.command("list", cls=Controlling)
def tenant_list(ctx: typer.Context) -> None:
    """List tenants."""
    plane = _plane(ctx)
    data = plane.call("GET", "/tenants")
    plane.show(data, [f"{t['tenantId']}  {t['displayName']}  {t['domain']}" for t in data["value"]])


@app_app.command("add", cls=Controlling)
def app_add(
    ctx: typer.Context,
    tenant: Tenant,
    name: str = typer.Option(..., "--name", "-n", help="Display name."),
    permission: list[str] = typer.Option([], "--permission", "-p", help="Application permission (repeat)."),
    multi_tenant: bool = typer.Option(False, "--multi-tenant", help="Any organizational directory."),
    consent: bool = typer.Option(True, "--consent/--no-consent", help="Grant admin consent now."),
    secret: bool = typer.Option(True, "--secret/--no-secret", help="Create a client secret."),
    certificate: Path | None = typer.Option(None, "--certificate", help="Certificate PEM to register."),
) -> None:
    """Register an app (prints its secret value once, as the portal does)."""
    plane = _plane(ctx)
    pem = certificate.read_text() if certificate else None
    body = {"displayName": name, "multiTenant": multi_tenant, "permissions": permission,
            "grantConsent": consent, "secret": secret, "certificatePem": pem}  # fmt: skip
    data = plane.call("POST", f"/tenants/{tenant}/applications", body)
    lines = [f"app {data['appId']}  {data['displayName']}  tenant {data['tenantId']}",
             f"granted roles: {', '.join(data['grantedRoles']) or '(none)'}"]  # fmt: skip
    if data.get("secret"):
        lines.append(
            f"secret value (shown once): {data['secret']['value']}  expires {data['secret']['endDateTime']}"
        )
    if data.get("certificate"):
        lines.append(f"certificate thumbprint (SHA-1): {data['certificate']['thumbprintSha1']}")
    plane.show(data, lines)


@app_app.command("list", cls=Controlling)
def app_list(ctx: typer.Context, tenant: Tenant) -> None:
    """List the tenant's app registrations (secret hints only)."""
    plane = _plane(ctx)
    data = plane.call("GET", f"/tenants/{tenant}/applications")
    plane.show(data, [f"{a['appId']}  {a['displayName']}  roles: {', '.join(a['grantedRoles']) or '-'}"
                      for a in data["value"]])  # fmt: skip


@app_app.command("delete", cls=ControllingQuietly)
def app_delete(ctx: typer.Context, tenant: Tenant, app_id: str = typer.Argument(...)) -> None:
    """Delete an app registration (its service principals go too)."""
    _plane(ctx).call("DELETE", f"/tenants/{tenant}/applications/{app_id}")
    typer.echo(f"deleted {app_id}")


@app.command(cls=Controlling)
def permissions(
    ctx: typer.Context,
    tenant: Tenant,
    app_id: AppId,
    add: list[str] = typer.Option([], "--add", help="Permission to request (repeat)."),
    remove: list[str] = typer.Option([], "--remove", help="Permission to drop (repeat)."),
) -> None:
    """Change requested permissions (they take effect at the next consent)."""
    plane = _plane(ctx)
    data = plane.call(
        "POST", f"/tenants/{tenant}/applications/{app_id}/permissions", {"add": add, "remove": remove}
    )
    requested, granted = ", ".join(data["permissions"]), ", ".join(data["grantedRoles"])
    plane.show(
        data, [f"requested: {requested or '(none)'}", f"granted:   {granted or '(none)'} (consent to grant)"]
    )


@app.command(cls=Controlling)
def consent(
    ctx: typer.Context,
    tenant: Tenant,
    app_id: AppId,
    revoke: bool = typer.Option(False, "--revoke", help="Remove the app's service principal."),
) -> None:
    """Grant (or revoke) admin consent for an app in a tenant."""
    plane = _plane(ctx)
    if revoke:
        plane.call("DELETE", f"/tenants/{tenant}/consent/{app_id}")
        plane.show({"revoked": True}, [f"consent revoked for {app_id} in {tenant}"])
        return
    data = plane.call("POST", f"/tenants/{tenant}/consent", {"appId": app_id})
    plane.show(data, [f"granted in {data['tenantId']}: {', '.join(data['roles']) or '(none)'}"])


@secret_app.command("add", cls=Controlling)
def secret_add(
    ctx: typer.Context,
    tenant: Tenant,
    app_id: AppId,
    end: str | None = typer.Option(None, "--end", help="End time (ISO 8601); default 180 days."),
) -> None:
    """Add a client secret (its value is printed once)."""
    plane = _plane(ctx)
    data = plane.call(
        "POST", f"/tenants/{tenant}/applications/{app_id}/secrets", {"endDateTime": end} if end else {}
    )
    plane.show(data, [f"secret value (shown once): {data['value']}  keyId {data['keyId']}  "
                      f"expires {data['endDateTime']}"])  # fmt: skip


# ---- core --------------------------------------------------------------------------------------


@app.command(cls=Controlling)
def clock(
    ctx: typer.Context,
    advance: float | None = typer.Option(None, "--advance", help="Move the virtual clock by SECONDS."),
    set_to: str | None = typer.Option(None, "--set", help="Jump to an ISO 8601 time."),
) -> None:
    """Show or move the emulator's virtual clock."""
    plane = _plane(ctx)
    if advance is not None and set_to is not None:
        from mdekit.errors import ConfigurationError

        raise ConfigurationError("give --advance or --set, not both")
    if advance is None and set_to is None:
        data = plane.call("GET", "/clock")
    else:
        data = plane.call(
            "POST", "/clock", {"advanceSeconds": advance} if advance is not None else {"now": set_to}
        )
    plane.show(data, [f"now {data['now']}"])


@app.command(cls=ControllingQuietly)
def reset(ctx: typer.Context) -> None:
    """Forget every tenant, app, Defender record, fault plan and journal entry."""
    _plane(ctx).call("POST", "/reset")
    typer.echo("emulator reset")


@app.command(cls=Controlling)
def requests(
    ctx: typer.Context, clear: bool = typer.Option(False, "--clear", help="Empty the journal.")
) -> None:
    """Show the request journal (never secrets or tokens)."""
    plane = _plane(ctx)
    if clear:
        plane.call("DELETE", "/requests")
        typer.echo("journal cleared")
        return
    data = plane.call("GET", "/requests")
    plane.show(data, [f"{e['time']}  {e['status']}  {e['method']:6} {e['host']}{e['path']}"
                      f"  tenant={e.get('tenantId') or '-'} app={e.get('appId') or '-'}"
                      for e in data["value"]])  # fmt: skip


# ---- Defender control routes -------------------------------------------------------------------


@app.command(cls=Controlling)
def seed(
    ctx: typer.Context,
    tenant: Tenant,
    machines: int = typer.Option(10, "--machines", min=0, help="Machines to generate."),
    alerts: int = typer.Option(20, "--alerts", min=0, help="Alerts to generate."),
    seed_value: int = typer.Option(1, "--seed", help="Random seed (same seed, same data)."),
) -> None:
    """Generate Defender data (machines, alerts, ...) for a tenant."""
    plane = _plane(ctx)
    data = plane.call(
        "POST", f"/tenants/{tenant}/seed", {"machines": machines, "alerts": alerts, "seed": seed_value}
    )
    plane.show(data, [f"seeded {tenant}: {json.dumps(data)}"])


@faults_app.command("add", cls=Controlling)
def faults_add(
    ctx: typer.Context,
    status: int | None = typer.Option(None, "--status", help="Answer with this HTTP status."),
    method: str | None = typer.Option(None, "--method", help="Only this HTTP method."),
    path: str | None = typer.Option(None, "--path", help="Only paths matching this pattern."),
    retry_after: int | None = typer.Option(None, "--retry-after", min=0, help="Retry-After seconds (whole)."),
    delay: float | None = typer.Option(None, "--delay", help="Delay the answer by SECONDS."),
    drop: bool = typer.Option(False, "--drop", help="Drop the connection."),
    nth: int | None = typer.Option(None, "--nth", help="Only the Nth matching request."),
    every: int | None = typer.Option(None, "--every", help="Every Nth matching request."),
    probability: float | None = typer.Option(None, "--probability", help="With this probability (0-1)."),
    app_id: str | None = typer.Option(None, "--app", help="Only requests by this app."),
    tenant_id: str | None = typer.Option(None, "--tenant", help="Only requests for this tenant."),
) -> None:
    """Add a fault plan; only the given fields are sent."""
    plane = _plane(ctx)
    body = {"method": method, "path": path, "status": status, "retryAfter": retry_after,
            "delaySeconds": delay, "drop": drop or None, "nth": nth, "every": every,
            "probability": probability, "appId": app_id, "tenantId": tenant_id}  # fmt: skip
    data = plane.call("POST", "/faults", {k: v for k, v in body.items() if v is not None})
    plane.show(data, [f"fault added: {json.dumps(data)}"])


@faults_app.command("list", cls=Controlling)
def faults_list(ctx: typer.Context) -> None:
    """List fault plans."""
    plane = _plane(ctx)
    data = plane.call("GET", "/faults")
    items = data.get("value", data) if isinstance(data, dict) else data
    plane.show(data, [json.dumps(i) for i in items] if isinstance(items, list) else [json.dumps(items)])


@faults_app.command("clear", cls=ControllingQuietly)
def faults_clear(
    ctx: typer.Context, plan_id: str | None = typer.Option(None, "--id", help="Remove only this plan.")
) -> None:
    """Remove every fault plan (or one, with --id)."""
    _plane(ctx).call("DELETE", f"/faults/{plan_id}" if plan_id else "/faults")
    typer.echo(f"fault {plan_id} removed" if plan_id else "faults cleared")


@app.command("actions-timing", cls=Controlling)
def actions_timing(
    ctx: typer.Context,
    action_type: str | None = typer.Option(None, "--type", help="Only this action type (e.g. Isolate)."),
    pending: float | None = typer.Option(None, "--pending-seconds", help="Seconds an action stays Pending."),
    run: float | None = typer.Option(None, "--run-seconds", help="Seconds it then stays InProgress."),
    outcome: str | None = typer.Option(None, "--outcome", help="Final status (Succeeded, Failed, ...)."),
) -> None:
    """Set how machine actions progress on the virtual clock (only the given fields change)."""
    plane = _plane(ctx)
    body = {"type": action_type, "pendingSeconds": pending, "runSeconds": run, "outcome": outcome}
    data = plane.call("POST", "/actions", {k: v for k, v in body.items() if v is not None})
    plane.show(data, [f"action timing: {json.dumps(data.get('value', data))}"])


def _register_env_commands() -> None:
    # `mde emulator env` / `trust` live in their own module (transparent mode).
    try:
        from mdekit.cli.emulator_env import register
    except ImportError:  # pragma: no cover - module absent in a partial checkout
        return
    register(app)


_register_env_commands()
