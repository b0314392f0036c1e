"""The ``mde`` entry point: a click group that imports each command group only when it runs.

``mde --help`` must stay fast, so it imports neither the emulator, the HTTP stack nor typer:
the help text of every command lives in :data:`COMMANDS`. Each command group is a typer app in
its own module, converted to a click command on first use.

Errors: an :class:`mdekit.errors.MdeError` becomes one ``error: ...`` line on stderr and the
error's exit code (0 ok, 1 API, 2 usage/bad input, 3 authentication, 4 missing permission,
5 throttled); any other exception also becomes one line (never a traceback) with exit code 1.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

import click

__all__ = ["COMMANDS", "cli", "main"]

#: name -> (module, attribute, one-line help). The module holds a typer app or a click command.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("mdekit.cli.demo", "app", "Walk the whole app-only journey on an embedded emulator."),
    "doctor": ("mdekit.cli.doctor", "app", "Diagnose a real (or emulated) set-up and say what to fix."),
    "emulator": ("mdekit.cli.emulator", "app", "Run and drive the local Entra ID + Defender emulator."),
    "token": ("mdekit.cli.token", "app", "Get, decode and verify app-only access tokens."),
    "consent-url": ("mdekit.cli.consent", "app", "Print admin-consent links for a multi-tenant app."),
    "profile": ("mdekit.cli.profile", "app", "Manage named connection profiles."),
    "alerts": ("mdekit.cli.alerts", "app", "List, get and update alerts."),
    "machines": ("mdekit.cli.machines", "app", "Find, tag and act on machines."),
    "actions": ("mdekit.cli.actions", "app", "List, follow and cancel machine actions."),
    "indicators": ("mdekit.cli.indicators", "app", "Manage custom indicators (IoCs)."),
    "files": ("mdekit.cli.entities", "files_app", "File profiles, stats and related alerts/machines."),
    "ips": ("mdekit.cli.entities", "ips_app", "IP address stats and related alerts."),
    "domains": ("mdekit.cli.entities", "domains_app", "Domain stats and related alerts/machines."),
    "users": ("mdekit.cli.entities", "users_app", "User-related alerts and machines."),
    "investigations": ("mdekit.cli.investigations", "app", "List and get automated investigations."),
    "hunt": ("mdekit.cli.hunt", "app", "Run advanced hunting (KQL) queries."),
}


def _available(name: str) -> bool:
    return importlib.util.find_spec(COMMANDS[name][0]) is not None


def _to_click(obj: Any) -> click.Command:
    if isinstance(obj, click.Command):
        return obj
    import typer.main

    return typer.main.get_command(obj)


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        module, attr, _ = COMMANDS[cmd_name]
        cmd = _to_click(getattr(importlib.import_module(module), attr))
        cmd.name = cmd_name
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mdekit", prog_name="mde")
def cli() -> None:
    """mde - reach Microsoft Defender for Endpoint from code, without a user.

    Start with `mde demo`: it walks the whole app-registration-to-API journey on an embedded
    emulator, with nothing to install or configure.
    """


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Run ``mde``; maps every error to one line and an exit code."""
    from mdekit.errors import MdeError, scrub

    try:
        cli.main(args=argv, prog_name="mde", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _fail("aborted", 1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MdeError as exc:
        _fail(exc.message, exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        # Output piped into e.g. `head`: not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except Exception as exc:  # last line of defence: one line, never a traceback
        if os.environ.get("MDEKIT_DEBUG"):
            raise
        _fail(scrub(f"{type(exc).__name__}: {exc}"), 1)


if __name__ == "__main__":  # pragma: no cover
    main()
