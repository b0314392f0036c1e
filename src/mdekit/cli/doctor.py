"""``mde doctor``: check a real (or emulated) set-up step by step and say exactly what to fix.

Checks, in order (a failure that makes later checks meaningless stops there):

1. profile: tenant id, client id and the credential are present;
2. hosts: the login and API hosts resolve and their TLS certificates verify (never skipped);
3. token: one is acquired (AADSTS codes explained in plain words);
4. claims: ``aud`` is the Defender API of the chosen cloud, ``iss``/``tid`` name the tenant;
5. roles: the token's roles vs. the roles the operations in ``--need`` require;
6. calls: one harmless GET (``$top=1``) per family whose read permission is granted.

Exit 0 when nothing failed; otherwise the exit code of the first failure (2 configuration,
3 authentication, 4 missing permission, 1 other).
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import typer

from mdekit.cli.common import Connected, Options, new_app, options

app = new_app("Diagnose a real (or emulated) set-up and say what to fix.", no_args_is_help=False)

__all__ = ["Check", "app"]

#: family -> the harmless read used to probe it (and the operation whose roles it needs).
PROBES: dict[str, str] = {
    "alerts": "alerts.list",
    "machines": "machines.list",
    "actions": "actions.list",
    "indicators": "indicators.list",
    "investigations": "investigations.list",
}


@dataclass
class Check:
    """One line of the report."""

    name: str
    status: str  # PASS, FAIL, WARN, SKIP
    detail: str
    fix: str = ""
    exit_code: int = 1


@app.command(cls=Connected)
def doctor(
    ctx: typer.Context,
    need: list[str] = typer.Option(
        None,
        "--need",
        help="Operations or families you will use, e.g. alerts.list,actions.isolate or machines.",
    ),
    no_calls: bool = typer.Option(False, "--no-calls", help="Skip the harmless API calls."),
) -> None:
    """Check profile, hosts/TLS, token, claims, roles and one call per family; say what to fix."""
    opts = options(ctx)
    needed = _expand_needs(need)
    checks: list[Check] = []
    _run(opts, needed, not no_calls, checks)
    fmt = opts.fmt
    failed = [c for c in checks if c.status == "FAIL"]
    if fmt == "table":
        _render_human(checks, failed)
    else:
        rows = [{"check": c.name, "result": c.status, "detail": c.detail, "fix": c.fix} for c in checks]
        opts.emit(rows, columns=["check", "result", "detail", "fix"])
    raise typer.Exit(failed[0].exit_code if failed else 0)


_MARKS = {
    "PASS": "[green]✓[/green]",
    "FAIL": "[red]✗[/red]",
    "WARN": "[yellow]![/yellow]",
    "SKIP": "[dim]-[/dim]",
}


def _render_human(checks: list[Check], failed: list[Check]) -> None:
    """A check list for people: mark, name, detail, and the fix under a failed check."""
    from rich.markup import escape
    from rich.table import Table

    from mdekit.cli.output import terminal, terminal_safe

    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(overflow="fold")
    for c in checks:
        detail, fix = escape(terminal_safe(c.detail)), escape(terminal_safe(c.fix))  # server words
        text = detail + (f"\n[yellow]fix:[/yellow] {fix}" if c.fix else "")
        grid.add_row(_MARKS.get(c.status, c.status), c.name, text)
    console = terminal(markup=True, soft_wrap=False)  # the marks are markup; data is escaped
    console.print(grid)
    summary = f"[red]{len(failed)} check(s) failed[/red]" if failed else "[green]all checks passed[/green]"
    console.print(summary)


def _expand_needs(need: list[str] | None) -> list[str]:
    from mdekit.catalog import OPERATIONS
    from mdekit.errors import ConfigurationError

    names: list[str] = []
    for raw in need or []:
        for item in (x.strip() for x in raw.split(",")):
            if not item:
                continue
            if item in OPERATIONS:
                names.append(item)
            elif item in PROBES:
                names.append(PROBES[item])
            elif any(op.startswith(item + ".") for op in OPERATIONS):
                names += [op for op in OPERATIONS if op.startswith(item + ".")]
            else:
                raise ConfigurationError(
                    f"--need: unknown operation or family {item!r} (e.g. alerts.list, machines)"
                )
    return list(dict.fromkeys(names))


def _run(opts: Options, needed: list[str], calls: bool, checks: list[Check]) -> None:
    prof = _check_profile(opts, checks)
    if prof is None:
        return
    from mdekit.clouds import get_cloud

    cloud = get_cloud(prof.cloud or "commercial", prof.region or None)
    login = prof.authority or cloud.authority
    api = prof.base_url or cloud.api_base
    for label, url in (("login host", login), ("API host", api)):
        checks.append(_check_host(label, url, prof.ca_cert or None))
    if any(c.status == "FAIL" for c in checks):
        return
    client, token = _check_token(prof, checks)
    if token is None:
        return
    _check_claims(token.claims or {}, prof, cloud, checks)
    granted = set(token.roles)
    _check_roles(granted, needed, checks)
    if calls:
        _check_calls(client, granted, checks)


def _check_profile(opts: Options, checks: list[Check]) -> Any:
    from mdekit import profiles
    from mdekit.errors import ConfigurationError

    try:
        prof = opts.single().profile
        profiles.read_secret(prof)
    except ConfigurationError as exc:
        checks.append(Check("profile", "FAIL", exc.message, _profile_fix(exc.message), 2))
        return None
    where = {
        "env": f"environment variable {prof.secret_env or 'AZURE_CLIENT_SECRET'}",
        "stdin": "stdin",
        "file": f"the 0600 file {profiles.secret_file_path(prof)}",
        "certificate": f"certificate {prof.certificate_path}",
        "managed-identity": "managed identity",
    }.get(prof.credential, prof.credential)
    warning = None
    if prof.credential == "keyring":
        where, warning = _keyring_label()
    checks.append(
        Check(
            "profile",
            "PASS",
            f"{prof.name}: tenant {prof.tenant}, app {prof.client_id}, credential from {where}",
        )
    )
    if warning:
        checks.append(warning)
    return prof


def _keyring_label() -> tuple[str, Check | None]:
    """Where the keyring keeps secrets: the OS keyring, or (with a WARN check) a file that looks like one."""
    from mdekit import profiles

    backend = profiles.keyring_backend()
    if backend.os_keyring:
        return f"the OS keyring ({backend.name})", None
    warning = Check(
        "keyring",
        "WARN",
        f"keyring backend {backend.name} is not the OS keyring: the secret is in {backend.where}",
        "keep the secret in the OS keyring or an environment variable (mde profile add NAME ... "
        "--credential keyring with an OS keyring, or --credential env)",
    )
    return f"{backend.where} (keyring backend {backend.name}, not the OS keyring)", warning


def _profile_fix(message: str) -> str:
    if "secret" in message:
        return (
            "set AZURE_CLIENT_SECRET (or the profile's --secret-env), "
            "or re-add the profile with --credential keyring"
        )
    return (
        "mde profile add NAME --tenant <tenant id> --client-id <app id>, "
        "or set AZURE_TENANT_ID and AZURE_CLIENT_ID"
    )


def _check_host(label: str, url: str, ca: str | None) -> Check:
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return Check(
            label,
            "FAIL",
            f"{host} does not resolve ({exc.strerror or exc})",
            "check the cloud/region or the URL, and DNS/proxy settings",
        )
    from mdekit.auth.credentials import ssl_verify

    context = ssl_verify(ca) if ca else ssl.create_default_context()
    try:
        with (
            socket.create_connection((host, port), timeout=10) as sock,
            context.wrap_socket(sock, server_hostname=host) as tls,
        ):
            version = tls.version()
    except ssl.SSLCertVerificationError as exc:
        return Check(
            label,
            "FAIL",
            f"{host}:{port}: TLS certificate does not verify ({exc.verify_message})",
            "trust the right CA (--ca FILE or MDEKIT_CA_BUNDLE; for the emulator its CA file); "
            "never turn verification off",
        )
    except OSError as exc:
        return Check(
            label,
            "FAIL",
            f"{host}:{port}: cannot connect ({exc.strerror or exc})",
            "check the URL, firewall and proxy",
        )
    return Check(label, "PASS", f"{host}:{port} resolves; TLS verifies ({version})")


def _check_token(prof: Any, checks: list[Check]) -> tuple[Any, Any]:
    from mdekit.cli.common import make_client
    from mdekit.errors import AuthenticationError, MdeError

    try:
        client = make_client(prof)
        token = client.tokens.get()
    except AuthenticationError as exc:
        # the hint goes on the fix line, so the detail leaves it out
        detail = exc.message.removesuffix(f" (hint: {exc.hint})") if exc.hint else exc.message
        codes = ", ".join(f"AADSTS{c}" for c in exc.codes)
        if codes and codes not in detail:
            detail = f"{codes}: {detail}"
        checks.append(Check("token", "FAIL", detail, exc.hint or "see the message", 3))
        return None, None
    except MdeError as exc:
        checks.append(Check("token", "FAIL", exc.message, "see the message", exc.exit_code))
        return None, None
    checks.append(Check("token", "PASS", f"acquired for {client.scope}"))
    return client, token


def _check_claims(claims: dict[str, Any], prof: Any, cloud: Any, checks: list[Check]) -> None:
    from mdekit.catalog import MDE

    aud, iss, tid = str(claims.get("aud", "")), str(claims.get("iss", "")), str(claims.get("tid", ""))
    if aud.rstrip("/") != cloud.resource and aud not in MDE.identifier_uris:
        checks.append(
            Check(
                "audience",
                "FAIL",
                f"aud is {aud!r}, not the Defender API ({cloud.resource})",
                f"request the scope {cloud.scope} (or resource {cloud.resource})",
                3,
            )
        )
    else:
        note = "" if aud.rstrip("/") == cloud.resource else f" (accepted alias of {cloud.resource})"
        checks.append(Check("audience", "PASS", f"aud {aud}{note}"))
    tenant_ok = _looks_like_guid(prof.tenant) is False or tid.lower() == prof.tenant.lower()
    if not iss.endswith(f"/{tid}/") or not tenant_ok:
        checks.append(
            Check(
                "issuer",
                "FAIL",
                f"iss {iss!r}, tid {tid!r} do not match tenant {prof.tenant}",
                "use the tenant id of the directory the app is registered or consented in",
                3,
            )
        )
    else:
        checks.append(Check("issuer", "PASS", f"iss {iss}"))


def _looks_like_guid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _check_roles(granted: set[str], needed: list[str], checks: list[Check]) -> None:
    from mdekit.catalog import operation
    from mdekit.client.core import grant_instructions

    have = ", ".join(sorted(granted)) or "none"
    if not granted:
        checks.append(
            Check(
                "roles",
                "FAIL" if needed else "WARN",
                "the token carries no roles",
                "add WindowsDefenderATP application permissions and grant admin consent",
                4,
            )
        )
    else:
        checks.append(Check("roles", "PASS", f"granted: {have}"))
    for name in needed:
        op = operation(name)
        if granted & set(op.roles):
            checks.append(
                Check(f"need {name}", "PASS", f"allowed by {', '.join(sorted(granted & set(op.roles)))}")
            )
        else:
            checks.append(
                Check(
                    f"need {name}",
                    "FAIL",
                    f"missing {' or '.join(op.roles)}",
                    grant_instructions(op.roles[0], op.resource),
                    4,
                )
            )


def _check_calls(client: Any, granted: set[str], checks: list[Check]) -> None:
    from mdekit.catalog import operation
    from mdekit.errors import MdeError

    for family, op_name in PROBES.items():
        op = operation(op_name)
        if not granted & set(op.roles):
            checks.append(Check(f"call {family}", "SKIP", f"no {' or '.join(op.roles)}: not probed"))
            continue
        try:
            items = list(getattr(client, family).list(limit=1))
        except MdeError as exc:
            checks.append(
                Check(
                    f"call {family}",
                    "FAIL",
                    f"GET {op.path}: {exc.message}",
                    "see the message",
                    exc.exit_code,
                )
            )
            continue
        checks.append(
            Check(f"call {family}", "PASS", f"GET {op.path}?$top=1 answered ({len(items)} of at most 1)")
        )
