"""``mde consent-url``: the links a customer admin opens to consent to a multi-tenant app."""

from __future__ import annotations

import json

import typer

from mdekit.cli.common import new_app

__all__ = ["app"]

app = new_app("Print admin-consent links for a multi-tenant app.", no_args_is_help=False)


@app.command()
def consent_url(
    client_id: str = typer.Option(..., "--client-id", "-c", envvar="AZURE_CLIENT_ID", help="Application id."),
    cloud: str = typer.Option("commercial", "--cloud", help="commercial, gcc, gcc-high, dod."),
    authority: str | None = typer.Option(None, "--authority", help="Login host URL (e.g. the emulator's)."),
    v2: bool = typer.Option(False, "--v2", help="Also print the v2 admin-consent link."),
    tenant: str | None = typer.Option(None, "--tenant", "-t", help="v2: customer tenant or organizations."),
    redirect_uri: str | None = typer.Option(None, "--redirect-uri", help="v2: a registered redirect URI."),
    scope: str | None = typer.Option(None, "--scope", help="v2: default <cloud's MDE resource>/.default."),
    as_json: bool = typer.Option(False, "--json", help='Print {"v1": ..., "v2": ...}.'),
) -> None:  # fmt: skip
    """Print the v1 consent link (MDE partner docs) and, with --v2, the v2 admin-consent link."""
    from mdekit.auth import consent

    links = {"v1": consent.consent_url(client_id, cloud=cloud, authority=authority)}
    if v2:
        links["v2"] = consent.admin_consent_url(
            client_id, tenant or "organizations", redirect_uri=redirect_uri or "", cloud=cloud,
            authority=authority, scope=scope,
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(links, indent=2))
        return
    typer.echo(links["v1"])
    if "v2" in links:
        typer.echo(links["v2"])
