"""``mde setup``: the portal's app-registration steps as one command, through Microsoft Graph.

An administrator signs in once (device code: open the address shown, enter the code); the command
then registers the app with the chosen WindowsDefenderATP (and XDR / Graph) permissions, creates
its service principal, grants admin consent, adds a certificate (or a secret), saves a profile
and runs ``mde doctor`` against it. Run again, it adds what is missing and changes nothing else.
``--dry-run`` prints the Graph calls without signing in. ``rotate-credential`` and ``remove``
maintain what it made. The work is done by :mod:`mdekit.provisioning`.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Annotated, Any

import typer

from mdekit.cli.common import new_app
from mdekit.cli.options import Authority, BaseUrl, Ca, Cloud, DryRun

app = new_app(
    "Register the app for Defender access through Microsoft Graph (one sign-in, no portal).",
    no_args_is_help=False,
)

__all__ = ["app"]

# -- options `mde setup` and its subcommands share (the connection ones come from mdekit.cli.options) --
SignInClient = Annotated[
    str | None,
    typer.Option(
        "--sign-in-client",
        help="Public client to sign in with (default: Microsoft Graph Command Line Tools).",
    ),
]


def _credential_kind(value: str | None) -> str | None:
    if value not in (None, "certificate", "secret"):
        raise typer.BadParameter("certificate or secret")
    return value


Credential = Annotated[
    str | None,
    typer.Option(
        "--credential",
        callback=_credential_kind,
        help="certificate or secret (default: a certificate; for a saved profile, its kind).",
    ),
]
ShowSecret = Annotated[bool, typer.Option("--show-secret", help="Print a new client secret (once).")]
InsistPlaintext = Annotated[
    bool,
    typer.Option(
        "--insist-plaintext", help="Allow a secret outside the OS keyring (file keyring or 0600 file)."
    ),
]
SecretDays = Annotated[
    int, typer.Option("--secret-days", min=1, max=730, help="A new secret's lifetime in days.")
]
GraphUrl = Annotated[
    str | None,
    typer.Option(
        "--graph-url",
        envvar="MDEKIT_GRAPH_URL",
        show_envvar=False,
        help="Custom Microsoft Graph URL (default: --base-url when given, e.g. the emulator).",
    ),
]


def _say(mark: str, text: str) -> None:
    typer.echo(f"{mark} {text}")


def _prompt(p: Any) -> None:
    from mdekit.cli.output import info

    info(p.message or f"To sign in, open {p.verification_uri} and enter the code {p.user_code}.")
    info(f"  code: {p.user_code}   (valid for {p.expires_in // 60} minutes; waiting for the sign-in...)")


def _connection(
    cloud: str | None, authority: str | None, graph_url: str | None, base_url: str | None, ca: str | None
) -> Any:
    """Where to sign in and call: the values given, else the ``MDEKIT_*`` environment (a profile's
    empty fields too), else the cloud's public endpoints."""
    from mdekit.clouds import get_cloud
    from mdekit.provisioning import Connection

    env = os.environ
    cloud = cloud or "commercial"
    authority = authority or env.get("MDEKIT_AUTHORITY", "")
    base_url = base_url or env.get("MDEKIT_BASE_URL", "")
    ca = ca or env.get("MDEKIT_CA_BUNDLE", "")
    # The emulator serves login, Graph and the Defender API on one address.
    graph_url = (
        graph_url or env.get("MDEKIT_GRAPH_URL", "") or base_url or f"https://{get_cloud(cloud).graph_host}"
    )
    return Connection(graph_url.rstrip("/"), authority.rstrip("/"), base_url.rstrip("/"), ca, cloud)


def _sign_in(conn: Any, tenant: str, client_id: str) -> Any:
    from mdekit import provisioning
    from mdekit.errors import ConfigurationError

    user = provisioning.sign_in(
        tenant, prompt=_prompt, client_id=client_id, cloud=conn.cloud,
        authority=conn.authority or None, verify=conn.ca or True,
    )  # fmt: skip
    missing = [s for s in provisioning.SIGN_IN_SCOPES if s not in user.scopes]
    if missing:
        raise ConfigurationError(
            f"the sign-in did not grant {', '.join(missing)}: the app signed in with must be allowed these "
            "Microsoft Graph delegated permissions"
        )
    _say("+", f"signed in as {user.user} (tenant {user.tenant_id})")
    return user


def _graph(conn: Any, user: Any) -> Any:
    from mdekit.provisioning import GraphSession

    return GraphSession(conn.graph_url, user.access_token, verify=conn.ca or True)


def _default_profile(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:64] or "mdekit"


def _check_roles(user: Any, wanted: list[Any]) -> None:
    """Stop before changing anything when the token shows the user cannot grant consent."""
    from mdekit.errors import PermissionMissingError
    from mdekit.provisioning import missing_grant_roles

    if not user.role_ids:  # the token does not list roles: Graph will tell
        return
    ask = missing_grant_roles(user.role_ids, wanted)
    if ask:
        raise PermissionMissingError(
            f"{user.user} cannot grant admin consent for these permissions: ask a Global Administrator to "
            f"give you one of these directory roles: {' or '.join(ask)} (or to run `mde setup` themselves); "
            "nothing was changed"
        )


@app.callback(invoke_without_command=True)
def setup(
    ctx: typer.Context,
    name: str = typer.Option("mdekit", "--name", help="The app registration's display name."),
    permissions: list[str] = typer.Option(
        None,
        "--permissions",
        help="Application permissions, comma-separated (e.g. Alert.Read.All,Machine.Isolate).",
    ),
    preset: str = typer.Option(None, "--preset", help="reader, responder or hunter (default: reader)."),
    multi_tenant: bool = typer.Option(
        False, "--multi-tenant", help="For partners: customers consent in their tenant."
    ),
    credential: Credential = None,
    profile: str = typer.Option(None, "--profile", help="Profile to save (default: from --name)."),
    dry_run: DryRun = False,
    tenant: str = typer.Option(
        "organizations", "--tenant", "-t", help="Tenant to sign in to (id or domain)."
    ),
    show_secret: ShowSecret = False,
    insist_plaintext: InsistPlaintext = False,
    secret_days: SecretDays = 180,
    no_doctor: bool = typer.Option(False, "--no-doctor", help="Do not run `mde doctor` at the end."),
    wait: float = typer.Option(120, "--wait", help="Seconds to wait for the grants to reach new tokens."),
    sign_in_client: SignInClient = None,
    cloud: Cloud = None,
    authority: Authority = None,
    graph_url: GraphUrl = None,
    base_url: BaseUrl = None,
    ca: Ca = None,
) -> None:
    """Register the app, grant admin consent, add a credential, save a profile, run `mde doctor`."""
    if ctx.invoked_subcommand:
        return
    from mdekit import provisioning
    from mdekit.errors import ConfigurationError

    wanted = provisioning.resolve_permissions(permissions, preset)
    opts = provisioning.SetupOptions(
        name.strip(), wanted, profile or _default_profile(name), multi_tenant, credential, secret_days,
        insist_plaintext,
    )  # fmt: skip
    if not opts.name:
        raise ConfigurationError("--name must not be empty")
    if dry_run:
        _dry_run(opts)
        return
    if credential == "secret" and not insist_plaintext:
        from mdekit import profiles

        profiles.check_keyring(False)  # refuse now, before anything is created
    conn = _connection(cloud, authority, graph_url, base_url, ca)
    user = _sign_in(conn, tenant, sign_in_client or provisioning.GRAPH_COMMAND_LINE_TOOLS)
    _check_roles(user, wanted)
    graph = _graph(conn, user)
    try:
        result = provisioning.run_setup(graph, user.tenant_id, opts, conn, _say)
    finally:
        graph.close()
    _finish(result, opts, wait, show_secret, no_doctor)


def _dry_run(opts: Any) -> None:
    from mdekit.provisioning import plan_calls

    typer.echo("# The Graph calls a first run makes (https://graph.microsoft.com/v1.0); {...} are ids known")
    typer.echo("# only then. A later run repeats the GETs and sends only what is missing. Nothing was sent.")
    typer.echo(
        "# sign-in: device code, delegated Application.ReadWrite.All and AppRoleAssignment.ReadWrite.All"
    )
    for call in plan_calls(opts):
        typer.echo(str(call))


def _finish(result: Any, opts: Any, wait: float, show_secret: bool, no_doctor: bool) -> None:
    from mdekit import profiles
    from mdekit.provisioning import wait_for_roles

    if result.secret and show_secret:
        typer.echo(f"client secret (shown once, keep it safe): {result.secret}")
    prof = profiles.load().get(opts.profile)
    missing = wait_for_roles(prof, opts.wanted, timeout=wait)
    if missing:
        _say("!", f"new tokens do not carry {', '.join(map(str, missing))} yet: Entra can take a few minutes")
    else:
        _say("=", "new tokens carry every granted permission")
    if result.consent_link:
        _say("!", "customers: an administrator of each customer tenant opens this link and accepts:")
        typer.echo(f"  {result.consent_link}")
    if no_doctor:
        return
    _say(" ", f"running `mde doctor --profile {opts.profile}`:")
    code = _doctor(opts.profile)
    if code:
        raise typer.Exit(code)


def _doctor(profile: str) -> int:
    """Run ``mde doctor --profile PROFILE`` in this process; its exit code."""
    from click.exceptions import Exit

    from mdekit.cli.doctor import app as doctor_app

    command = typer.main.get_command(doctor_app)
    try:
        args = ["--profile", profile, "-o", "table"]  # setup's output is for people, piped or not
        command.main(args=args, prog_name="mde doctor", standalone_mode=False)
    except Exit as exc:
        return int(exc.exit_code or 0)
    return 0


@app.command("rotate-credential")
def rotate(
    profile: str = typer.Option(..., "--profile", help="The profile whose app gets a new credential."),
    credential: Credential = None,
    show_secret: ShowSecret = False,
    insist_plaintext: InsistPlaintext = False,
    secret_days: SecretDays = 180,
    sign_in_client: SignInClient = None,
) -> None:
    """Add a new credential, switch the profile to it, check it, remove the old one."""
    from mdekit import profiles, provisioning

    prof = profiles.load().get(profile)
    conn = _connection(prof.cloud, prof.authority, None, prof.base_url, prof.ca_cert)
    user = _sign_in(conn, prof.tenant, sign_in_client or provisioning.GRAPH_COMMAND_LINE_TOOLS)
    opts = provisioning.SetupOptions("", [], profile, credential=credential, secret_days=secret_days,
                                     insist_plaintext=insist_plaintext)  # fmt: skip
    graph = _graph(conn, user)
    try:
        result = provisioning.rotate_credential(graph, user.tenant_id, opts, conn, _say, verify=_token_works)
    finally:
        graph.close()
    if result.secret and show_secret:
        typer.echo(f"client secret (shown once, keep it safe): {result.secret}")


def _token_works(prof: Any) -> None:
    """Raise unless *prof*'s credential gets a token (retried briefly: new credentials propagate)."""
    import time

    from mdekit.clouds import get_cloud
    from mdekit.errors import AuthenticationError
    from mdekit.provisioning import token_roles

    for attempt in range(6):
        try:
            token_roles(prof, get_cloud(prof.cloud or "commercial").resource)
            return
        except AuthenticationError:
            if attempt == 5:
                raise
            time.sleep(2 * (attempt + 1))


@app.command("remove")
def remove(
    profile: str = typer.Option(..., "--profile", help="The profile whose app to delete."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    sign_in_client: SignInClient = None,
) -> None:
    """Delete the profile's app registration (and its consent), the profile and its local credential."""
    from mdekit import profiles, provisioning
    from mdekit.errors import ConfigurationError

    prof = profiles.load().get(profile)
    if not yes:
        if not sys.stdin.isatty():
            raise ConfigurationError("mde setup remove deletes the app registration: add --yes to confirm")
        typer.confirm(
            f"Delete the app {prof.client_id} from tenant {prof.tenant} and profile {profile!r}?", abort=True
        )
    conn = _connection(prof.cloud, prof.authority, None, prof.base_url, prof.ca_cert)
    user = _sign_in(conn, prof.tenant, sign_in_client or provisioning.GRAPH_COMMAND_LINE_TOOLS)
    graph = _graph(conn, user)
    try:
        provisioning.remove_app(graph, user.tenant_id, profile, _say)
    finally:
        graph.close()
