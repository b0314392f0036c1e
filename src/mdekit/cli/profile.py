"""``mde profile add|list|show|remove|use``: named connections (no secret in the file)."""

from __future__ import annotations

import sys

import typer

from mdekit.cli.common import new_app
from mdekit.cli.options import CsvRaw, Output
from mdekit.cli.output import emit, emit_one, info, resolve_format

app = new_app("Manage named connection profiles (no secrets stored in them).")

__all__ = ["app"]

_CRED_HELP = (
    "How to get the credential: env (a variable, default), keyring (OS keyring; secret read from stdin "
    "now), stdin (read at each run), file (plaintext 0600; needs --insist-plaintext), certificate, "
    "managed-identity."
)


def _read_secret_now() -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("client secret value (input hidden): ")
    return sys.stdin.readline()


@app.command("add")
def add(
    name: str = typer.Argument(..., help="Profile name."),
    tenant: str = typer.Option(..., "--tenant", "-t", help="Tenant id (GUID) or domain."),
    client_id: str = typer.Option(..., "--client-id", help="Application (client) id."),
    cloud: str = typer.Option("commercial", "--cloud", help="commercial, gcc, gcc-high, dod."),
    region: str = typer.Option("", "--region", help="API geo (us, eu, uk, au, ...)."),
    base_url: str = typer.Option("", "--base-url", help="Custom API base URL (the emulator)."),
    authority: str = typer.Option("", "--authority", help="Custom login authority (the emulator)."),
    ca: str = typer.Option("", "--ca", help="CA bundle to trust."),
    credential: str = typer.Option("env", "--credential", help=_CRED_HELP),
    secret_env: str = typer.Option(
        "AZURE_CLIENT_SECRET", "--secret-env", help="Variable holding the secret."
    ),
    certificate: str = typer.Option("", "--certificate", help="PEM file with certificate and private key."),
    insist_plaintext: bool = typer.Option(
        False,
        "--insist-plaintext",
        help="Allow a secret outside the OS keyring: --credential file (plaintext, mode 0600), or "
        "--credential keyring with a file keyring backend (e.g. keyrings.alt).",
    ),
    make_default: bool = typer.Option(False, "--default", help="Make it the default profile."),
    force: bool = typer.Option(False, "--force", help="Replace an existing profile of that name."),
) -> None:
    """Add (or with --force replace) a profile."""
    from mdekit import profiles
    from mdekit.clouds import get_cloud
    from mdekit.errors import ConfigurationError

    get_cloud(cloud, region or None)  # refuse an unknown cloud/region now, not at first use
    if credential == "file" and not insist_plaintext:
        raise ConfigurationError(
            "--credential file keeps the secret in a plaintext file; prefer keyring or env, "
            "or add --insist-plaintext if you really want it (it is written with mode 0600)"
        )
    config = profiles.load()
    if name in config.profiles and not force:
        raise ConfigurationError(f"profile {name!r} exists; add --force to replace it")
    prof = profiles.Profile(
        name,
        tenant,
        client_id,
        cloud,
        region,
        base_url,
        authority,
        ca,
        credential,
        secret_env,
        certificate_path=certificate,
    ).validate()
    where = ""
    if credential == "keyring":
        profiles.check_keyring(insist_plaintext)  # refuse a file keyring before asking for the secret
    if credential in ("keyring", "file"):
        where = profiles.store_secret(prof, _read_secret_now(), insist_plaintext=insist_plaintext)
    config.profiles[name] = prof
    if make_default or not config.default:
        config.default = name
    path = profiles.save(config)
    info(f"saved profile {name!r} in {path}" + (f"; secret kept in {where}" if where else ""))


@app.command("list")
def list_(output: Output = None, csv_raw: CsvRaw = False) -> None:
    """List the profiles (the default one is marked)."""
    from mdekit import profiles

    config = profiles.load()
    rows = [
        {"default": "*" if n == config.default else "", **p.public()}
        for n, p in sorted(config.profiles.items())
    ]
    columns = ["default", "name", "tenant", "client_id", "cloud", "credential"]
    emit(rows, resolve_format(output), columns=columns, csv_raw=csv_raw)


@app.command("show")
def show(
    name: str = typer.Argument(None, help="Profile name (default: the default profile)."),
    output: Output = None,
    csv_raw: CsvRaw = False,
) -> None:
    """Show one profile (where its secret comes from, never the secret)."""
    from mdekit import profiles

    config = profiles.load()
    prof = config.get(name or config.default)
    row = {**prof.public(), "default": prof.name == config.default}
    row["config_file"] = str(profiles.config_path())
    emit_one(row, resolve_format(output), csv_raw=csv_raw)


@app.command("remove")
def remove(name: str = typer.Argument(..., help="Profile name.")) -> None:
    """Remove a profile and any secret mdekit stored for it (keyring entry or 0600 file)."""
    from mdekit import profiles

    config = profiles.load()
    prof = config.get(name)
    profiles.delete_secret(prof)
    del config.profiles[name]
    if config.default == name:
        config.default = next(iter(sorted(config.profiles)), "")
    profiles.save(config)
    info(f"removed profile {name!r}")


@app.command("use")
def use(name: str = typer.Argument(..., help="Profile name.")) -> None:
    """Make a profile the default."""
    from mdekit import profiles

    config = profiles.load()
    config.get(name)
    config.default = name
    profiles.save(config)
    info(f"default profile is now {name!r}")
