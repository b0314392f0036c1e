"""``mde emulator``: run the local Entra ID + Defender emulator and drive its control plane.

``serve`` prints one line (base URL, CA path, how to trust it) and writes ``ready.json`` in its
state directory (and ``--ready-file`` if given). Every other subcommand talks HTTPS to the
control plane; where to find it: ``--url``/``--ca``, else ``MDEKIT_EMULATOR_URL`` /
``MDEKIT_EMULATOR_CA``, else the ready file (``--ready-file``, ``MDEKIT_EMULATOR_READY_FILE``, or the
one ``serve`` writes by default). ``--json`` prints the control plane's JSON answer.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

import typer

__all__ = ["app", "resolve_target"]

app = typer.Typer(no_args_is_help=True, help="Run and drive the local Entra ID + Defender emulator.")
tenant_app = typer.Typer(no_args_is_help=True, help="Tenants of the emulated directory.")
app_app = typer.Typer(no_args_is_help=True, help="App registrations.")
secret_app = typer.Typer(no_args_is_help=True, help="Client secrets.")
faults_app = typer.Typer(no_args_is_help=True, help="Fault plans (error statuses, delays, drops).")
app.add_typer(tenant_app, name="tenant")
app.add_typer(app_app, name="app")
app.add_typer(secret_app, name="secret")
app.add_typer(faults_app, name="faults")


@app.callback()
def _require_extra() -> None:
    # Every subcommand needs the `emulator` extra: importing mdekit.emulator says in one line
    # (exit 2) what to install when it is missing. `mde emulator --help` still works without it.
    importlib.import_module("mdekit.emulator")


_URL = typer.Option(None, "--url", help="Emulator base URL (default: MDEKIT_EMULATOR_URL or the ready file).")
_CA = typer.Option(
    None, "--ca", help="CA certificate to trust (default: MDEKIT_EMULATOR_CA or the ready file)."
)
_READY = typer.Option(None, "--ready-file", help="Ready file written by `mde emulator serve`.")
_JSON = typer.Option(False, "--json", help="Print the JSON answer.")
_TENANT = typer.Option(..., "--tenant", "-t", help="Tenant id or domain.")
_APP = typer.Option(..., "--app", "-a", help="Application (client) id.")


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


def _show(data: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        for line in lines:
            typer.echo(line)


# ---- serve -------------------------------------------------------------------------------------


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(0, "--port", help="Port (0 picks a free one)."),
    data: Path | None = typer.Option(None, "--data", help="SQLite file (default: <state dir>/emulator.db)."),
    state_dir: Path | None = typer.Option(None, "--state-dir", help="Where the CA and data live."),
    ready_file: Path | None = _READY,
    transparent: bool = typer.Option(
        False, "--transparent", help="Answer for Microsoft's real hostnames (usually with --port 443)."
    ),
) -> None:
    """Serve the emulator over HTTPS until interrupted (Ctrl-C)."""
    from mdekit.emulator.tls import default_state_dir

    directory = state_dir or default_state_dir()
    kwargs: dict[str, Any] = {"host": host, "port": port, "data": data or directory / "emulator.db",
                              "state_dir": directory}  # fmt: skip
    if transparent:
        from mdekit.emulator.transparent import TransparentServer

        server: Any = TransparentServer(**kwargs)
    else:
        from mdekit.emulator.server import EmulatorServer

        server = EmulatorServer(**kwargs)
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
        server.serve_forever(ready_file, on_ready=on_ready)
    finally:
        default_ready.unlink(missing_ok=True)


# ---- directory ---------------------------------------------------------------------------------


@tenant_app.command("add")
def tenant_add(
    name: str = typer.Argument(..., help="Display name, e.g. Contoso."),
    domain: str | None = typer.Option(None, "--domain", help="Default: <name>.onmicrosoft.com."),
    tenant_id: str | None = typer.Option(None, "--id", help="Use this GUID as the tenant id."),
    url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY, as_json: bool = _JSON,
) -> None:  # fmt: skip
    """Create a tenant."""
    body = {"displayName": name, "domain": domain, "tenantId": tenant_id}
    data = _call("POST", "/tenants", {k: v for k, v in body.items() if v}, url, ca, ready)
    _show(data, as_json, [f"tenant {data['tenantId']}  {data['displayName']}  {data['domain']}"])


@tenant_app.command("list")
def tenant_list(url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY,
                as_json: bool = _JSON) -> None:  # fmt: skip
    """List tenants."""
    data = _call("GET", "/tenants", None, url, ca, ready)
    _show(data, as_json, [f"{t['tenantId']}  {t['displayName']}  {t['domain']}" for t in data["value"]])


@app_app.command("add")
def app_add(
    tenant: str = _TENANT,
    name: str = typer.Option(..., "--name", "-n", help="Display name."),
    permission: list[str] = typer.Option([], "--permission", "-p", help="Application permission (repeat)."),
    multi_tenant: bool = typer.Option(False, "--multi-tenant", help="Any organizational directory."),
    consent: bool = typer.Option(True, "--consent/--no-consent", help="Grant admin consent now."),
    secret: bool = typer.Option(True, "--secret/--no-secret", help="Create a client secret."),
    certificate: Path | None = typer.Option(None, "--certificate", help="Certificate PEM to register."),
    url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY, as_json: bool = _JSON,
) -> None:  # fmt: skip
    """Register an app (prints its secret value once, as the portal does)."""
    pem = certificate.read_text() if certificate else None
    body = {"displayName": name, "multiTenant": multi_tenant, "permissions": permission,
            "grantConsent": consent, "secret": secret, "certificatePem": pem}  # fmt: skip
    data = _call("POST", f"/tenants/{tenant}/applications", body, url, ca, ready)
    lines = [f"app {data['appId']}  {data['displayName']}  tenant {data['tenantId']}",
             f"granted roles: {', '.join(data['grantedRoles']) or '(none)'}"]  # fmt: skip
    if data.get("secret"):
        lines.append(
            f"secret value (shown once): {data['secret']['value']}  expires {data['secret']['endDateTime']}"
        )
    if data.get("certificate"):
        lines.append(f"certificate thumbprint (SHA-1): {data['certificate']['thumbprintSha1']}")
    _show(data, as_json, lines)


@app_app.command("list")
def app_list(tenant: str = _TENANT, url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY,
             as_json: bool = _JSON) -> None:  # fmt: skip
    """List the tenant's app registrations (secret hints only)."""
    data = _call("GET", f"/tenants/{tenant}/applications", None, url, ca, ready)
    _show(data, as_json, [f"{a['appId']}  {a['displayName']}  roles: {', '.join(a['grantedRoles']) or '-'}"
                          for a in data["value"]])  # fmt: skip


@app_app.command("delete")
def app_delete(app_id: str = typer.Argument(...), tenant: str = _TENANT, url: str | None = _URL,
               ca: str | None = _CA, ready: Path | None = _READY) -> None:  # fmt: skip
    """Delete an app registration (its service principals go too)."""
    _call("DELETE", f"/tenants/{tenant}/applications/{app_id}", None, url, ca, ready)
    typer.echo(f"deleted {app_id}")


@app.command()
def permissions(
    tenant: str = _TENANT, app_id: str = _APP,
    add: list[str] = typer.Option([], "--add", help="Permission to request (repeat)."),
    remove: list[str] = typer.Option([], "--remove", help="Permission to drop (repeat)."),
    url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY, as_json: bool = _JSON,
) -> None:  # fmt: skip
    """Change requested permissions (they take effect at the next consent)."""
    data = _call("POST", f"/tenants/{tenant}/applications/{app_id}/permissions",
                 {"add": add, "remove": remove}, url, ca, ready)  # fmt: skip
    requested, granted = ", ".join(data["permissions"]), ", ".join(data["grantedRoles"])
    lines = [f"requested: {requested or '(none)'}", f"granted:   {granted or '(none)'} (consent to grant)"]
    _show(data, as_json, lines)


@app.command()
def consent(
    tenant: str = _TENANT, app_id: str = _APP,
    revoke: bool = typer.Option(False, "--revoke", help="Remove the app's service principal."),
    url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY, as_json: bool = _JSON,
) -> None:  # fmt: skip
    """Grant (or revoke) admin consent for an app in a tenant."""
    if revoke:
        _call("DELETE", f"/tenants/{tenant}/consent/{app_id}", None, url, ca, ready)
        _show({"revoked": True}, as_json, [f"consent revoked for {app_id} in {tenant}"])
        return
    data = _call("POST", f"/tenants/{tenant}/consent", {"appId": app_id}, url, ca, ready)
    _show(data, as_json, [f"granted in {data['tenantId']}: {', '.join(data['roles']) or '(none)'}"])


@secret_app.command("add")
def secret_add(
    tenant: str = _TENANT, app_id: str = _APP,
    end: str | None = typer.Option(None, "--end", help="End time (ISO 8601); default 180 days."),
    url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY, as_json: bool = _JSON,
) -> None:  # fmt: skip
    """Add a client secret (its value is printed once)."""
    body = {"endDateTime": end} if end else {}
    data = _call("POST", f"/tenants/{tenant}/applications/{app_id}/secrets", body, url, ca, ready)
    _show(data, as_json, [f"secret value (shown once): {data['value']}  keyId {data['keyId']}  "
                          f"expires {data['endDateTime']}"])  # fmt: skip


# ---- core --------------------------------------------------------------------------------------


@app.command()
def clock(
    advance: float | None = typer.Option(None, "--advance", help="Move the virtual clock by SECONDS."),
    set_to: str | None = typer.Option(None, "--set", help="Jump to an ISO 8601 time."),
    url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY, as_json: bool = _JSON,
) -> None:  # fmt: skip
    """Show or move the emulator's virtual clock."""
    if advance is not None and set_to is not None:
        from mdekit.errors import ConfigurationError

        raise ConfigurationError("give --advance or --set, not both")
    if advance is None and set_to is None:
        data = _call("GET", "/clock", None, url, ca, ready)
    else:
        body = {"advanceSeconds": advance} if advance is not None else {"now": set_to}
        data = _call("POST", "/clock", body, url, ca, ready)
    _show(data, as_json, [f"now {data['now']}"])


@app.command()
def reset(url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY) -> None:
    """Forget every tenant, app, Defender record, fault plan and journal entry."""
    _call("POST", "/reset", None, url, ca, ready)
    typer.echo("emulator reset")


@app.command()
def requests(
    clear: bool = typer.Option(False, "--clear", help="Empty the journal."),
    url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY, as_json: bool = _JSON,
) -> None:  # fmt: skip
    """Show the request journal (never secrets or tokens)."""
    if clear:
        _call("DELETE", "/requests", None, url, ca, ready)
        typer.echo("journal cleared")
        return
    data = _call("GET", "/requests", None, url, ca, ready)
    _show(data, as_json, [f"{e['time']}  {e['status']}  {e['method']:6} {e['host']}{e['path']}"
                          f"  tenant={e.get('tenantId') or '-'} app={e.get('appId') or '-'}"
                          for e in data["value"]])  # fmt: skip


# ---- Defender control routes -------------------------------------------------------------------


@app.command()
def seed(
    tenant: str = _TENANT,
    machines: int = typer.Option(10, "--machines", min=0, help="Machines to generate."),
    alerts: int = typer.Option(20, "--alerts", min=0, help="Alerts to generate."),
    seed_value: int = typer.Option(1, "--seed", help="Random seed (same seed, same data)."),
    url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY, as_json: bool = _JSON,
) -> None:  # fmt: skip
    """Generate Defender data (machines, alerts, ...) for a tenant."""
    body = {"machines": machines, "alerts": alerts, "seed": seed_value}
    data = _call("POST", f"/tenants/{tenant}/seed", body, url, ca, ready)
    _show(data, as_json, [f"seeded {tenant}: {json.dumps(data)}"])


@faults_app.command("add")
def faults_add(
    status: int | None = typer.Option(None, "--status", help="Answer with this HTTP status."),
    method: str | None = typer.Option(None, "--method", help="Only this HTTP method."),
    path: str | None = typer.Option(None, "--path", help="Only paths matching this pattern."),
    retry_after: float | None = typer.Option(None, "--retry-after", help="Retry-After seconds."),
    delay: float | None = typer.Option(None, "--delay", help="Delay the answer by SECONDS."),
    drop: bool = typer.Option(False, "--drop", help="Drop the connection."),
    nth: int | None = typer.Option(None, "--nth", help="Only the Nth matching request."),
    every: int | None = typer.Option(None, "--every", help="Every Nth matching request."),
    probability: float | None = typer.Option(None, "--probability", help="With this probability (0-1)."),
    app_id: str | None = typer.Option(None, "--app", help="Only requests by this app."),
    tenant_id: str | None = typer.Option(None, "--tenant", help="Only requests for this tenant."),
    url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY, as_json: bool = _JSON,
) -> None:  # fmt: skip
    """Add a fault plan; only the given fields are sent."""
    body = {"method": method, "path": path, "status": status, "retryAfter": retry_after,
            "delaySeconds": delay, "drop": drop or None, "nth": nth, "every": every,
            "probability": probability, "appId": app_id, "tenantId": tenant_id}  # fmt: skip
    data = _call("POST", "/faults", {k: v for k, v in body.items() if v is not None}, url, ca, ready)
    _show(data, as_json, [f"fault added: {json.dumps(data)}"])


@faults_app.command("list")
def faults_list(url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY,
                as_json: bool = _JSON) -> None:  # fmt: skip
    """List fault plans."""
    data = _call("GET", "/faults", None, url, ca, ready)
    items = data.get("value", data) if isinstance(data, dict) else data
    _show(data, as_json, [json.dumps(i) for i in items] if isinstance(items, list) else [json.dumps(items)])


@faults_app.command("clear")
def faults_clear(
    plan_id: str | None = typer.Option(None, "--id", help="Remove only this plan."),
    url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY,
) -> None:  # fmt: skip
    """Remove every fault plan (or one, with --id)."""
    _call("DELETE", f"/faults/{plan_id}" if plan_id else "/faults", None, url, ca, ready)
    typer.echo(f"fault {plan_id} removed" if plan_id else "faults cleared")


@app.command("actions-timing")
def actions_timing(
    action_type: str | None = typer.Option(None, "--type", help="Only this action type (e.g. Isolate)."),
    pending: float | None = typer.Option(None, "--pending-seconds", help="Seconds an action stays Pending."),
    run: float | None = typer.Option(None, "--run-seconds", help="Seconds it then stays InProgress."),
    outcome: str | None = typer.Option(None, "--outcome", help="Final status (Succeeded, Failed, ...)."),
    url: str | None = _URL, ca: str | None = _CA, ready: Path | None = _READY, as_json: bool = _JSON,
) -> None:  # fmt: skip
    """Set how machine actions progress on the virtual clock (only the given fields change)."""
    body = {"type": action_type, "pendingSeconds": pending, "runSeconds": run, "outcome": outcome}
    data = _call("POST", "/actions", {k: v for k, v in body.items() if v is not None}, url, ca, ready)
    _show(data, as_json, [f"action timing: {json.dumps(data.get('value', data))}"])


def _register_env_commands() -> None:
    # `mde emulator env` / `trust` live in their own module (transparent mode).
    try:
        from mdekit.cli.emulator_env import register
    except ImportError:  # pragma: no cover - module absent in a partial checkout
        return
    register(app)


_register_env_commands()
