"""``mde token get|decode|verify``: app-only tokens without pasting them into a website.

``get`` prints the access token (the one thing it is asked for) or, with ``--json``, the parsed
answer. ``decode`` shows header, claims, human-readable times and roles. ``verify`` checks the
signature against the issuer's JWKS plus ``iss``/``aud``/``exp``/roles; its exit code says why
it failed: 0 valid, 2 not a JWT, 3 signature/key/issuer/audience/time, 4 a required role is
missing, 1 the signing keys could not be fetched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from mdekit.cli.common import new_app

__all__ = ["EXIT_CODES", "app"]

app = new_app("Get, decode and verify app-only access tokens.")

#: verify failure reason -> exit code.
EXIT_CODES = {"malformed": 2, "jwks": 1, "roles": 4}

_EMULATOR = typer.Option(
    False, "--emulator", help="Use the running emulator (MDEKIT_EMULATOR_URL or its ready file)."
)
_AUTHORITY = typer.Option(
    None, "--authority", help="Login host URL, e.g. https://127.0.0.1:8443 (default: the cloud's)."
)
_CA = typer.Option(None, "--ca", help="CA certificate file to trust (e.g. the emulator's).")


def _connection(emulator: bool, authority: str | None, ca: str | None) -> tuple[str | None, Any]:
    if emulator and not authority:
        from mdekit.cli.emulator import resolve_target

        authority, emulator_ca = resolve_target(None, ca)
        ca = ca or emulator_ca
    return authority, ca or True


def _read_token(token: str | None) -> str:
    from mdekit.errors import ConfigurationError

    if token in (None, "-"):
        if sys.stdin.isatty():
            raise ConfigurationError("give a token as an argument or on standard input")
        token = sys.stdin.read()
    token = (token or "").strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    if not token:
        raise ConfigurationError("the token is empty")
    return token


@app.command()
def get(
    tenant: str = typer.Option(..., "--tenant", "-t", envvar="AZURE_TENANT_ID", help="Tenant id or domain."),
    client_id: str = typer.Option(..., "--client-id", "-c", envvar="AZURE_CLIENT_ID", help="Application id."),
    client_secret: str | None = typer.Option(None, "--client-secret", envvar="AZURE_CLIENT_SECRET",
                                             help="Client secret VALUE (prefer the environment variable)."),
    certificate: Path | None = typer.Option(None, "--certificate", envvar="AZURE_CLIENT_CERTIFICATE_PATH",
                                            help="PEM (key + certificate) or PFX file."),
    v1: bool = typer.Option(False, "--v1", help="Use the v1 endpoint (resource=) instead of v2 (scope=)."),
    resource: str | None = typer.Option(None, "--resource", help="Resource URI (default: MDE API)."),
    cloud: str = typer.Option("commercial", "--cloud", help="commercial, gcc, gcc-high, dod."),
    authority: str | None = _AUTHORITY, ca: str | None = _CA, emulator: bool = _EMULATOR,
    as_json: bool = typer.Option(False, "--json", help="Print the whole parsed answer (token included)."),
) -> None:  # fmt: skip
    """Request an app-only token (client credentials) and print it."""
    from mdekit.auth import credentials
    from mdekit.clouds import get_cloud
    from mdekit.errors import ConfigurationError

    cloud_info = get_cloud(cloud)
    if certificate is None and not client_secret:
        raise ConfigurationError("give a client secret (AZURE_CLIENT_SECRET) or --certificate")
    base, verify = _connection(emulator, authority, ca)
    res = (resource or cloud_info.resource).rstrip("/")
    tok = credentials.request_token(
        tenant, client_id, None if certificate else client_secret, certificate=certificate,
        resource=res if v1 else None, scope=None if v1 else f"{res}/.default",
        authority=base or cloud_info.authority, verify=verify,
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps({"token_type": tok.token_type, "expires_in": tok.expires_in,
                               "expires_on": tok.expires_on, "resource": tok.resource or res,
                               "access_token": tok.access_token}, indent=2))  # fmt: skip
    else:
        typer.echo(tok.access_token)


@app.command()
def decode(
    token: str | None = typer.Argument(None, help="The token (default: read standard input)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Show a token's header, claims, times and roles (nothing is verified)."""
    from mdekit.auth import inspect

    report = inspect.describe(_read_token(token))
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    s = report["summary"]
    typer.echo(f"header   {json.dumps(report['header'])}")
    typer.echo(f"version  {s['version']}   {s['tokenType']}   credential: {s['credential']}")
    typer.echo(f"aud      {s['audience']}")
    typer.echo(f"iss      {s['issuer']}")
    typer.echo(f"tid      {s['tenant']}")
    typer.echo(f"appid    {s['app']}   ({s['appDisplayName'] or '-'})")
    for name, t in report["times"].items():
        typer.echo(f"{name:8} {t['utc']}  ({t['relative']})")
    typer.echo(
        f"roles    {', '.join(report['roles']) or '(none: grant application permissions and consent)'}"
    )
    typer.echo("status   EXPIRED" if report["expired"] else "status   not expired")
    shown = {"aud", "iss", "tid", "appid", "iat", "nbf", "exp", "roles", "ver", "app_displayname"}
    for key, value in report["claims"].items():
        if key not in shown:
            typer.echo(f"{key:8} {value}")


@app.command()
def verify(
    token: str | None = typer.Argument(None, help="The token (default: read standard input)."),
    audience: list[str] = typer.Option([], "--audience", help="Accepted aud (repeat; default: any)."),
    issuer: str | None = typer.Option(None, "--issuer", help="Expected iss (default: https://sts.windows.net/{tid}/)."),
    role: list[str] = typer.Option([], "--role", help="Required application role (repeat)."),
    jwks_url: str | None = typer.Option(None, "--jwks-url", help="Key set URL (default: the issuer's)."),
    authority: str | None = _AUTHORITY, ca: str | None = _CA, emulator: bool = _EMULATOR,
    as_json: bool = typer.Option(False, "--json", help="Print {valid, reason, message, claims} as JSON."),
) -> None:  # fmt: skip
    """Verify signature, issuer, audience, lifetime and roles; the exit code says why it failed."""
    from mdekit.auth import inspect
    from mdekit.errors import TokenValidationError

    raw = _read_token(token)
    base, ca_verify = _connection(emulator, authority, ca)
    try:
        claims = inspect.verify(raw, jwks_url=jwks_url, authority=base, verify=ca_verify,
                                audience=audience or None, issuer=issuer, required_roles=role)  # fmt: skip
    except TokenValidationError as exc:
        code = EXIT_CODES.get(exc.reason, 3)
        if as_json:
            typer.echo(json.dumps({"valid": False, "reason": exc.reason, "message": exc.message}))
        typer.echo(f"error: token is NOT valid ({exc.reason}): {exc.message}", err=True)
        raise typer.Exit(code) from None
    if as_json:
        typer.echo(json.dumps({"valid": True, "reason": None, "claims": claims}, indent=2))
        return
    typer.echo(f"valid: signature, issuer, audience {claims.get('aud')}, lifetime"
               + (f" and roles {', '.join(role)}" if role else ""))  # fmt: skip
