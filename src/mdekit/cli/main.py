"""The ``mde`` entry point: a click group that imports each command group only when it runs.

``mde --help`` must stay fast, so it imports neither the emulator, the HTTP stack nor typer:
the help text of every command lives in :data:`COMMANDS`. Each command group is a typer app in
its own module, converted to a click command on first use.

Errors: an :class:`mdekit.errors.MdeError` becomes one ``error: ...`` line on stderr and the
error's exit code (0 ok, 1 API, 2 usage/bad input, 3 authentication, 4 missing permission,
5 throttled); a file or address the system refuses (``OSError``: permission denied, not found,
in use, ...) is one line naming it, exit 2; any other exception also becomes one line (never a
traceback) with exit code 1. Control characters in an error line are shown as escapes.

A closed pipe (``mde alerts list | head -1``) ends ``mde`` quietly with exit code 141
(128 + SIGPIPE), as ``cat`` or ``grep`` end in a shell: not 1, which means an API error.
"""

from __future__ import annotations

import errno
import importlib
import importlib.util
import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

__all__ = ["COMMANDS", "EXIT_PIPE", "app", "main"]

EXIT_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `cat big | head -1`
#: OSError numbers that mean "the path or address you gave cannot be used": bad input (exit 2).
_INPUT_ERRNOS = {
    errno.ENOENT, errno.EACCES, errno.EPERM, errno.EEXIST, errno.EISDIR, errno.ENOTDIR,
    errno.EROFS, errno.ENAMETOOLONG, errno.ELOOP, errno.EADDRINUSE, errno.EADDRNOTAVAIL,
}  # fmt: skip

#: name -> (module, attribute, one-line help). The module holds a typer app or a click command.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("mdekit.cli.demo", "app", "Walk the whole app-only journey on an embedded emulator."),
    "doctor": ("mdekit.cli.doctor", "app", "Diagnose a real (or emulated) set-up and say what to fix."),
    "setup": ("mdekit.cli.setup", "app", "Register the app through Microsoft Graph: one sign-in, no portal."),
    "emulator": ("mdekit.cli.emulator", "app", "Run and drive the local Entra ID + Defender emulator."),
    "token": ("mdekit.cli.token", "app", "Get, decode and verify app-only access tokens."),
    "consent-url": ("mdekit.cli.consent", "app", "Print admin-consent links for a multi-tenant app."),
    "profile": ("mdekit.cli.profile", "app", "Manage named connection profiles."),
    "alerts": ("mdekit.cli.alerts", "app", "List, get, update and comment on alerts (MDE or Graph)."),
    "incidents": ("mdekit.cli.incidents", "app", "List, get, update and comment on incidents."),
    "machines": ("mdekit.cli.machines", "app", "Find, tag and act on machines."),
    "actions": ("mdekit.cli.actions", "app", "List, follow and cancel machine actions."),
    "indicators": ("mdekit.cli.indicators", "app", "Manage custom indicators (IoCs)."),
    "files": ("mdekit.cli.entities", "files_app", "File profiles, stats and related alerts/machines."),
    "ips": ("mdekit.cli.entities", "ips_app", "IP address stats and related alerts."),
    "domains": ("mdekit.cli.entities", "domains_app", "Domain stats and related alerts/machines."),
    "users": ("mdekit.cli.entities", "users_app", "User-related alerts and machines."),
    "investigations": ("mdekit.cli.investigations", "app", "List, get and start automated investigations."),
    "live": ("mdekit.cli.live", "app", "Run scripts, collect files and push tools with live response."),
    "library": ("mdekit.cli.library", "app", "Manage the live response library (scripts and tools)."),
    "hunt": ("mdekit.cli.hunt", "app", "Run advanced hunting (KQL) queries."),
    "vulns": ("mdekit.cli.tvm", "vulns_app", "Vulnerabilities (CVEs): list, get, exposed machines."),
    "software": ("mdekit.cli.tvm", "software_app", "Installed software: versions, machines, missing KBs."),
    "recommendations": ("mdekit.cli.tvm", "recommendations_app", "Security recommendations."),
    "score": ("mdekit.cli.tvm", "score_app", "Exposure and configuration (secure) scores."),
    "export": ("mdekit.cli.export", "app", "Export vulnerabilities, software or configuration to a file."),
    "sync": ("mdekit.cli.sync", "app", "Keep a database current with Defender, exactly once."),
}


def _available(name: str) -> bool:
    return importlib.util.find_spec(COMMANDS[name][0]) is not None


class LazyGroup(TyperGroup):
    """The root group: subcommands are imported on demand; help comes from :data:`COMMANDS`."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        module, attr, _ = COMMANDS[cmd_name]
        obj = getattr(importlib.import_module(module), attr)
        cmd = typer.main.get_command(obj) if isinstance(obj, typer.Typer) else obj
        cmd.name = cmd_name
        return cmd

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # typer would exit 1 ("API error"): take it past typer
                raise _PipeClosed from None
            raise


class _PipeClosed(Exception):
    """The reader of stdout went away (``| head``)."""


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"mde {version('mdekit')}")
        raise typer.Exit()


app = typer.Typer(
    cls=LazyGroup,
    rich_markup_mode=None,  # plain help: rich formatting would import every command group
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """mde - reach Microsoft Defender for Endpoint from code, without a user.

    Start with `mde demo`: it walks the whole app-registration-to-API journey on an embedded
    emulator, with nothing to install or configure.
    """


def _fail(message: str, code: int, argv: list[str] | None = None) -> None:
    # Servers and checks quote what they got: never echo a 100 KB argument back, nor an escape.
    from mdekit.cli.inputs import shorten_message
    from mdekit.cli.output import terminal_safe

    args = sys.argv[1:] if argv is None else argv
    typer.echo(f"error: {terminal_safe(shorten_message(message, args))}", err=True)
    sys.exit(code)


def _pipe_closed() -> None:
    # Nothing more can be written; point stdout at /dev/null so the final flush stays quiet.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(EXIT_PIPE)


def _os_error(exc: OSError) -> str:
    """``/sys/x: permission denied``: what the system said about which path, without the class."""
    what = (exc.strerror or str(exc)).strip()
    what = what[:1].lower() + what[1:]
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    return f"{' -> '.join(names)}: {what}" if names else what


def _notice(message: Warning | str, *_: Any, **__: Any) -> None:
    """A warning in the CLI (e.g. a fallback to a retiring API): one ``notice:`` line on stderr,
    not Python's two lines naming our source file."""
    from mdekit.cli.output import info

    info(f"notice: {message}")


def main(argv: list[str] | None = None) -> None:
    """Run ``mde``; maps every error to one line and an exit code."""
    import warnings

    from mdekit.errors import MdeError, scrub

    warnings.showwarning = _notice
    code: Any = 0
    try:
        typer.main.get_command(app).main(args=argv, prog_name="mde", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
    except MdeError as exc:
        _fail(exc.message, exc.exit_code, argv)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except (_PipeClosed, BrokenPipeError):
        _pipe_closed()
    except OSError as exc:
        if os.environ.get("MDEKIT_DEBUG"):
            raise
        _fail(scrub(_os_error(exc)), 2 if exc.errno in _INPUT_ERRNOS else 1, argv)
    except Exception as exc:  # last line of defence: one line, never a traceback
        if os.environ.get("MDEKIT_DEBUG"):
            raise
        _fail(scrub(f"unexpected {type(exc).__name__}: {exc} (MDEKIT_DEBUG=1 shows where)"), 1, argv)
    try:
        sys.stdout.flush()  # output still buffered when the reader left fails here, not at exit
    except BrokenPipeError:
        _pipe_closed()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
