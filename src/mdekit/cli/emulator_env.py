"""``mde emulator env`` and ``mde emulator trust``: point a machine or container at the emulator.

Transparent mode (``mde emulator serve --transparent``) answers for Microsoft's real hostnames;
these commands print what makes a client reach and trust it: hosts-file lines, CA settings for
curl, requests, aiohttp and the OS store, and an ``eval``-able ``--shell`` form. ``trust
--install`` adds the CA to the Debian/Ubuntu store only when asked (``--uninstall`` removes it).

Attach them to the ``mde emulator`` app with :func:`register` (imports stay inside functions).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

__all__ = ["env", "register", "trust"]

_STATE_HELP = "Emulator state directory holding its CA (default: the one `mde emulator serve` uses)."


def _ca_paths(state_dir: Path | None) -> tuple[Path, Path]:
    """The CA certificate (created with the transparent certificate if missing) and the bundle path."""
    from mdekit.emulator.tls import default_state_dir, ensure_tls
    from mdekit.emulator.transparent import transparent_hosts

    directory = state_dir or default_state_dir()
    ca = directory / "ca.pem"
    if not ca.exists():
        ensure_tls(directory, transparent_hosts().all)
    return ca, directory / "ca-bundle.pem"


def env(
    state_dir: Path | None = typer.Option(None, "--state-dir", help=_STATE_HELP),
    address: str | None = typer.Option(
        None,
        "--address",
        help="Address Microsoft's hostnames should reach: where the emulator listens (default 127.0.0.1; "
        "with --docker host-gateway, the host as a bridged container sees it).",
    ),
    shell: bool = typer.Option(
        False, "--shell", help='Only `export` lines: eval "$(mde emulator env --shell)".'
    ),
    hosts: bool = typer.Option(False, "--hosts", help="Only the hosts-file lines (append to /etc/hosts)."),
    docker: bool = typer.Option(
        False, "--docker", help="`docker run` flags: --add-host and -e for each setting."
    ),
    as_json: bool = typer.Option(False, "--json", help="Everything as one JSON object."),
) -> None:
    """Print what points a machine or container at a transparent emulator (nothing is changed).

    A container on Docker's bridge network cannot reach the host's 127.0.0.1: with --docker the
    hostnames map to host-gateway, and the emulator must listen on an address the container can
    reach (e.g. `mde emulator serve --transparent --host 0.0.0.0`, or the docker0 address with
    --address 172.17.0.1 on both sides).
    """
    from mdekit.emulator.transparent import (
        UNSET_VARIABLES,
        hosts_file_lines,
        shell_exports,
        transparent_hosts,
        trust_settings,
        write_ca_bundle,
    )

    ca, bundle = _ca_paths(state_dir)
    write_ca_bundle(ca, bundle)
    settings = trust_settings(bundle, ca)
    lines = hosts_file_lines(address or "127.0.0.1")
    if as_json:
        out = {"caCert": str(ca), "caBundle": str(bundle), "hosts": lines, "env": settings,
               "unset": list(UNSET_VARIABLES)}  # fmt: skip
        typer.echo(json.dumps(out, indent=2))
    elif shell:
        typer.echo(shell_exports(settings), nl=False)
    elif hosts:
        typer.echo("\n".join(lines))
    elif docker:
        # a bridged container's 127.0.0.1 is itself; Docker resolves host-gateway to the host
        flags = [f"--add-host={name}:{address or 'host-gateway'}" for name in transparent_hosts().all]
        flags += [f"-v {bundle}:{bundle}:ro", f"-v {ca}:{ca}:ro"]
        flags += [f"-e {key}={value}" for key, value in settings.items()]
        typer.echo(" \\\n  ".join(flags))
    else:
        typer.echo(_explain(lines, shell_exports(settings), ca))


def _explain(lines: list[str], exports: str, ca: Path) -> str:
    return (
        "# 1. Send Microsoft's hostnames to the emulator: append to /etc/hosts\n"
        "#    (or `mde emulator env --docker` for a container's --add-host flags)\n"
        + "\n".join(lines)
        + "\n\n# 2. Trust its CA without touching the system store: system roots + the emulator CA\n"
        "#    (curl, requests/msal/azure-identity, aiohttp, httpx, urllib, Node).\n"
        '#    Apply to this shell with: eval "$(mde emulator env --shell)"\n'
        + exports
        + f"\n# 3. Or add the CA ({ca}) to the OS store: sudo mde emulator trust --install\n"
        "# 4. Serve on port 443: sudo mde emulator serve --transparent\n"
    )


def trust(
    install: bool = typer.Option(False, "--install", help="Add the emulator's CA to the system store."),
    uninstall: bool = typer.Option(False, "--uninstall", help="Remove it from the system store."),
    state_dir: Path | None = typer.Option(None, "--state-dir", help=_STATE_HELP),
) -> None:
    """Trust the emulator's CA system-wide (Debian/Ubuntu store), or show whether it is trusted."""
    from mdekit.emulator.transparent import DEBIAN_STORE, ca_installed, install_ca, uninstall_ca
    from mdekit.errors import ConfigurationError

    if install and uninstall:
        raise ConfigurationError("choose one of --install and --uninstall")
    ca, _ = _ca_paths(state_dir)
    if install:
        target = install_ca(ca)
        typer.echo(f"installed the emulator CA as {target}; remove it with `mde emulator trust --uninstall`")
    elif uninstall:
        removed = uninstall_ca()
        typer.echo(
            "removed the emulator CA from the system store"
            if removed
            else "the emulator CA was not installed"
        )
    else:
        state = "is" if ca_installed(ca) else "is not"
        typer.echo(
            f"the emulator CA ({ca}) {state} in the system store ({DEBIAN_STORE}).\n"
            "Install: sudo mde emulator trust --install   (or, without a system change: mde emulator env)"
        )


def register(app: typer.Typer) -> None:
    """Add ``env`` and ``trust`` to the ``mde emulator`` typer app."""
    app.command("env")(env)
    app.command("trust")(trust)
