"""``mde demo``: the whole app-only journey, step by step, on a fresh embedded emulator.

Starts an emulator in a temporary directory (nothing to install or configure), runs the ten steps
of :mod:`mdekit.cli.demo_steps`, shows for each what a user does in the portal and in code and
what happened, checks each step's claims (including against the emulator's request journal), and
stops the emulator. Exit 0 only when every step did what it says. ``--json`` prints a
machine-readable transcript instead.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import typer

from mdekit.cli.common import new_app

__all__ = ["app", "run_demo"]

app = new_app("Walk the whole app-only journey on an embedded emulator.", no_args_is_help=False)


@app.command()
def demo(
    as_json: bool = typer.Option(False, "--json", help="Print a machine-readable transcript (JSON) instead."),
    show_secret: bool = typer.Option(
        False, "--show-secret", help="Show the client secret in step 4 in full."
    ),
    width: int = typer.Option(None, "--width", help="Render for this many columns (default: the terminal)."),
    graph: bool = typer.Option(
        False, "--graph", help="Steps 1-4 the `mde setup` way: one sign-in, then Microsoft Graph calls."
    ),
) -> None:
    """Register an app, consent, get and verify tokens, call the API, isolate a machine: locally."""
    transcript = run_demo(show_secret=show_secret, render=not as_json, width=width, graph=graph)
    if as_json:
        sys.stdout.write(json.dumps(transcript, indent=2) + "\n")
    raise typer.Exit(0 if transcript["ok"] else 1)


def run_demo(
    *, show_secret: bool = False, render: bool = True, width: int | None = None, graph: bool = False
) -> dict[str, Any]:
    """Run every step on a fresh emulator; return the transcript ``{"ok", "seconds", "steps"}``.

    *graph*: steps 1-4 (portal) become the device-code sign-in and ``mde setup``'s Graph calls.
    """
    import httpx

    from mdekit.auth.credentials import ssl_verify
    from mdekit.cli.demo_steps import STEPS, DemoContext
    from mdekit.emulator.server import EmulatorServer

    if graph:
        from mdekit.cli.demo_graph import GRAPH_STEPS as STEPS

    view = _View(width, graph) if render else None
    started = time.monotonic()
    steps: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="mdekit-demo-") as tmp,
        EmulatorServer(state_dir=Path(tmp)) as server,
    ):
        if view:
            view.intro(server.url)
        # One SSLContext trusting the emulator's CA, shared by every client of the run
        # (httpx deprecates verify=<path>, and loading the CA once is cheaper).
        tls = ssl_verify(server.ca_cert)
        with httpx.Client(base_url=server.url, verify=tls, timeout=30) as control:
            ctx = DemoContext(server=server, control=control, show_secret=show_secret, tls=tls)
            try:
                for number, step in enumerate(STEPS, 1):
                    record = _run_step(ctx, step, number)
                    steps.append(record)
                    if view:
                        view.step(number, len(STEPS), step, record)
                    if not record["ok"]:
                        break  # later steps build on this one
            finally:
                ctx.close()
    transcript = {
        "ok": len(steps) == len(STEPS) and all(s["ok"] for s in steps),
        "seconds": round(time.monotonic() - started, 2),
        "steps": steps,
    }
    if view:
        view.summary(transcript, len(STEPS))
    return transcript


def _run_step(ctx: Any, step: Any, number: int) -> dict[str, Any]:
    from mdekit.cli.demo_steps import Outcome
    from mdekit.errors import MdeError, scrub

    before = len(ctx.journal())
    started = time.monotonic()
    try:
        outcome = step.run(ctx)
        error = None
    except MdeError as exc:
        outcome, error = Outcome(), exc.message
    except Exception as exc:  # a demo step must report, not crash: one line, no traceback
        outcome, error = Outcome(), scrub(f"{type(exc).__name__}: {exc}")
    if error:
        outcome.check(f"the step ran ({error})", False)
    return {
        "number": number,
        "name": step.name,
        "title": step.title,
        "portal": step.portal,
        "code": step.code,
        "ok": outcome.ok,
        "seconds": round(time.monotonic() - started, 3),
        "lines": outcome.lines,
        "details": outcome.details,
        "checks": [{"claim": c, "ok": ok} for c, ok in outcome.checks],
        "table": outcome.table,
        "columns": outcome.columns,
        "error": error,
        "evidence": ctx.journal()[before:],
    }


def _split(line: str) -> tuple[str, str]:
    """``"label   value"`` -> (label, value); an indented line continues the previous label."""
    import re

    if line.startswith(" "):
        return "", line.strip()
    m = re.match(r"^(\S(?:.*?\S)?)\s{2,}(\S.*)$", line)
    return (m.group(1), m.group(2)) if m else ("", line)


class _View:
    """Draws the demo with rich: a rule per step, portal path, code, results and checks."""

    def __init__(self, width: int | None, graph: bool = False) -> None:
        from mdekit.cli.output import terminal

        self.console = terminal(width=width, markup=True, emoji=True, soft_wrap=False)
        self.graph = graph

    def intro(self, url: str) -> None:
        c = self.console
        c.rule("[bold]mde demo[/bold] · app-only access to Defender for Endpoint")
        c.print("A fresh local emulator of Entra ID + the Defender API is running at")
        c.print(f"[cyan]{url}[/cyan] (standing in for login.microsoftonline.com and")
        c.print("api.securitycenter.microsoft.com). It is removed when the demo ends.")

    def step(self, number: int, total: int, step: Any, record: dict[str, Any]) -> None:
        from rich.markup import escape
        from rich.padding import Padding
        from rich.syntax import Syntax
        from rich.table import Table

        c = self.console
        c.print()
        mark = "[green]✓[/green]" if record["ok"] else "[red]✗[/red]"
        c.rule(f"{mark} [bold]Step {number}/{total} · {step.title}[/bold]", align="left", characters="─")
        lexer = "python" if "import" in step.code or "mde." in step.code else "bash"
        code = Syntax(step.code, lexer, theme="ansi_dark", word_wrap=True, background_color="default")
        how = Table.grid(padding=(0, 1))
        how.add_column(style="bold cyan", no_wrap=True, min_width=7)
        how.add_column(overflow="fold")
        how.add_row("Portal", f"[dim]{escape(step.portal)}[/dim]")
        how.add_row("Code", code)
        c.print(Padding(how, (0, 2)))
        said = Table.grid(padding=(0, 2))
        said.add_column(style="bold", no_wrap=True)
        said.add_column(overflow="fold")
        for label, value in (_split(line) for line in record["lines"]):
            said.add_row(escape(label), escape(value))
        c.print(Padding(said, (0, 2, 0, 4)))
        if record["table"]:
            self._table(record["table"], record["columns"])
        for check in record["checks"]:
            sign = "[green]✓[/green]" if check["ok"] else "[red]✗[/red]"
            c.print(Padding(f"{sign} [dim]{escape(check['claim'])}[/dim]", (0, 2)))

    def _table(self, rows: list[dict[str, Any]], columns: list[str] | None) -> None:
        from rich import box
        from rich.padding import Padding
        from rich.table import Table

        from mdekit.cli.output import cell, fit_columns

        names = columns or list(rows[0])
        cells = [[cell(row.get(n)) for n in names] for row in rows]
        widths, shown = fit_columns(names, cells, self.console.width - 3)
        table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
        for i in shown:
            table.add_column(names[i], width=widths[i], overflow="ellipsis", no_wrap=True)
        for values in cells:
            table.add_row(*(values[i] for i in shown))
        self.console.print(Padding(table, (0, 2)))

    def summary(self, transcript: dict[str, Any], total: int) -> None:
        c = self.console
        c.print()
        done = sum(1 for s in transcript["steps"] if s["ok"])
        if transcript["ok"]:
            c.rule(
                f"[green bold]All {total} steps did what they say[/green bold] in {transcript['seconds']} s"
            )
            if self.graph:
                c.print("Next: `mde setup --tenant <your tenant>`: an administrator signs in once.")
            else:
                c.print("Next: `mde profile add` with your real tenant, then `mde doctor`.")
        else:
            c.rule(f"[red bold]{done}/{total} steps passed[/red bold]")
