"""``mde export vulnerabilities|software|config --to FILE``: the assessment exports to a file.

By default the rows come from the "via files" export (gzip files behind signed links, streamed);
``--via json`` pages the JSON export instead. The format follows the file's extension (``.ndjson``/
``.jsonl``, ``.csv``, ``.json``, ``.parquet`` with pyarrow installed) or ``--format``. A progress
bar shows on a terminal; the last line says how many rows went where.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from mdekit.cli.common import Connected, new_app, options

__all__ = ["app"]

app = new_app("Export every machine's vulnerabilities, software or configuration to a file.")

FORMATS = ("ndjson", "csv", "json", "parquet")
_SUFFIX = {".ndjson": "ndjson", ".jsonl": "ndjson", ".csv": "csv", ".json": "json", ".parquet": "parquet"}
_BATCH = 50_000


def _format(path: Path, given: str | None) -> str:
    from mdekit.errors import ConfigurationError

    if given:
        if given.lower() not in FORMATS:
            raise ConfigurationError(f"bad --format {given!r}; choose from: {', '.join(FORMATS)}")
        return given.lower()
    found = _SUFFIX.get(path.suffix.lower())
    if found is None:
        raise ConfigurationError(f"cannot tell the format of {path.name!r}: name it .ndjson, .csv, .json or "
                                 ".parquet, or pass --format")  # fmt: skip
    return found


def _bar(rows: Iterable[Any], label: str) -> Iterator[Any]:
    """*rows*, with a progress bar (rows so far, rate) on stderr when it is a terminal."""
    import sys

    from mdekit.cli.output import is_tty

    if not is_tty(sys.stderr):
        yield from rows
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description} {task.completed:,} rows"), TimeElapsedColumn())
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(label)
        for n, row in enumerate(rows, 1):
            yield row
            if n % 1000 == 0:
                bar.update(task, completed=n)


def _parquet(rows: Iterator[dict[str, Any]], path: Path) -> int:
    from mdekit.errors import ConfigurationError

    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigurationError("parquet output needs pyarrow: pip install 'mdekit[arrow]'") from None
    writer, n, batch = None, 0, []
    try:
        for row in rows:
            batch.append(row)
            if len(batch) >= _BATCH:
                writer = _write_batch(pa, pq, writer, batch, path)
                n, batch = n + len(batch), []
        if batch or writer is None:
            writer = _write_batch(pa, pq, writer, batch, path)
            n += len(batch)
    finally:
        if writer is not None:
            writer.close()
    return n


def _write_batch(pa: Any, pq: Any, writer: Any, batch: list[dict[str, Any]], path: Path) -> Any:
    if writer is None:  # the first batch decides the schema; a column empty in it is text
        table = pa.Table.from_pylist(batch)
        fields = [f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]
        table = table.cast(pa.schema(fields))
        writer = pq.ParquetWriter(str(path), table.schema)
    else:
        table = pa.Table.from_pylist(batch, schema=writer.schema)
    writer.write_table(table)
    return writer


# the three exports take the same options
_To = Annotated[Path, typer.Option(..., "--to", help="File to write.")]
_Format = Annotated[str | None, typer.Option("--format", help="ndjson, csv, json or parquet.")]
_Via = Annotated[str, typer.Option("--via", help="files (gzip downloads) or json (paged).")]


@app.command("vulnerabilities", cls=Connected)
def vulnerabilities(ctx: typer.Context, to: _To, fmt: _Format = None, via: _Via = "files") -> None:
    """Every (machine, software version, CVE) of the organization."""
    _export(ctx, "vulnerabilities", to, fmt, via)


@app.command("software", cls=Connected)
def software(ctx: typer.Context, to: _To, fmt: _Format = None, via: _Via = "files") -> None:
    """Every (machine, software version) of the organization."""
    _export(ctx, "software", to, fmt, via)


@app.command("config", cls=Connected)
def config(ctx: typer.Context, to: _To, fmt: _Format = None, via: _Via = "files") -> None:
    """Every (machine, configuration) assessment of the organization."""
    _export(ctx, "config", to, fmt, via)


_JSON = {
    "vulnerabilities": "software_vulnerabilities",
    "software": "software_inventory",
    "config": "secure_config",
}


def _export(ctx: typer.Context, kind: str, to: Path, fmt_given: str | None, via: str) -> None:
    from mdekit.cli.filters import choice
    from mdekit.cli.output import as_dict, emit, info

    opts = options(ctx)
    fmt = _format(to, fmt_given)
    how = choice(via, ("files", "json"), "--via")
    client = opts.single().client()
    rows = client.exports.download(kind) if how == "files" else getattr(client.exports, _JSON[kind])()
    dicts = (as_dict(r) for r in _bar(rows, f"export {kind}"))
    part = to.with_name(to.name + ".part")  # the file appears whole or not at all
    try:
        if fmt == "parquet":
            n = _parquet(dicts, part)
        else:
            with part.open("w", encoding="utf-8", newline="") as out:
                n = emit(dicts, fmt, stream=out, csv_raw=opts.csv_raw)
        part.replace(to)
    finally:
        part.unlink(missing_ok=True)
    info(f"wrote {n:,} rows to {to}")
