"""``mde library list|upload|delete``: the live response library (scripts and tools, Library.Manage)."""

from __future__ import annotations

import typer

from mdekit.cli.common import Connected, Listing, new_app, options
from mdekit.cli.options import DryRun, Yes

app = new_app("Manage the live response library (scripts and tools).")

__all__ = ["app"]

COLUMNS = ["fileName", "description", "hasParameters", "createdBy", "lastUpdatedTime", "sha256"]


@app.command("list", cls=Listing)
def list_(ctx: typer.Context) -> None:
    """List the files in the live response library."""
    from mdekit.cli.listing import show_list

    show_list(options(ctx), lambda c: c.library.list(), columns=COLUMNS, label="library files")


@app.command("upload", cls=Connected)
def upload(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="The script or tool to upload (20 MB at most)."),
    name: str = typer.Option(None, "--name", help="Name in the library (default: the file's name)."),
    description: str = typer.Option(None, "--description", help="What it is for."),
    parameters: str = typer.Option(
        None, "--parameters-description", help="How to call it (implies --has-parameters)."
    ),
    has_parameters: bool = typer.Option(False, "--has-parameters", help="The script takes arguments."),
    override: bool = typer.Option(False, "--override", help="Replace a library file of the same name."),
    dry_run: DryRun = False,
) -> None:
    """Upload a script or tool to the live response library."""
    from pathlib import Path

    from mdekit.cli import bulk
    from mdekit.client.live import library_upload_call

    opts = options(ctx)
    call = library_upload_call(  # reads and checks the file (size, name) before anything is sent
        file,
        name=name,
        description=description,
        parameters_description=parameters,
        has_parameters=has_parameters or parameters is not None,
        override=override,
    )
    label = name or Path(file).name
    if dry_run:
        size = len(call.body.content) if call.body is not None else 0
        opts.emit_one({"fileName": label, "size": size, "override": override, "dryRun": True})
        return
    target = opts.single()
    item = target.client().execute(call)
    bulk.audit({"tenant": target.label, "action": "library upload", "target": label, "result": "uploaded"})
    opts.emit_one(item)


@app.command("delete", cls=Connected)
def delete(
    ctx: typer.Context,
    names: list[str] = typer.Argument(..., help="Library file name(s)."),
    dry_run: DryRun = False,
    yes: Yes = False,
) -> None:
    """Delete files from the live response library (exit 1 if one is not there)."""
    from mdekit.cli import bulk
    from mdekit.cli.inputs import row_error
    from mdekit.errors import AuthenticationError, MdeError, PermissionMissingError

    opts = options(ctx)
    wanted = list(dict.fromkeys(names))
    if dry_run:
        opts.emit([{"fileName": n, "status": "WouldDelete", "dryRun": True} for n in wanted])
        return
    bulk.confirm("delete", len(wanted), yes=yes, noun="library files")
    target = opts.single()
    client = target.client()
    rows, code = [], 0
    for name in wanted:
        try:
            client.library.delete(name)
            row = {"fileName": name, "status": "Deleted", "error": None}
        except (PermissionMissingError, AuthenticationError):
            raise
        except MdeError as exc:
            row = {"fileName": name, "status": "Error", "error": row_error(exc, wanted)}
            code = code or exc.exit_code
        bulk.audit(
            {"tenant": target.label, "action": "library delete", "target": name, "result": row["status"]}
        )
        rows.append(row)
    opts.emit(rows, columns=["fileName", "status", "error"] if code else ["fileName", "status"])
    if code:
        raise typer.Exit(code)
