"""Output rendering shared by every ``mde`` command: table, JSON, NDJSON or CSV.

The small API (everything else is private)::

    fmt = resolve_format(output)                    # "table" on a terminal, "json" when piped
    emit(rows, fmt, columns=["id", "severity"])     # a list (streams json/ndjson/csv)
    emit_one(obj, fmt)                              # one record (key/value table)
    for item in progress(items, total=n, label="alerts"): ...   # stderr bar, TTY only
    info("Isolating 3 machines")                    # human notes on stderr (never stdout)

Rows may be mappings, pydantic models, dataclasses or objects with ``to_dict()``; they are
turned into plain JSON-able dicts by :func:`as_dict`. Tables and CSV flatten values (lists joined
with ``", "``, nested objects as compact JSON); JSON and NDJSON keep the full record. Rich is
imported only when a table or a progress bar is actually drawn.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, TypeVar

__all__ = [
    "FORMATS",
    "OUTPUT_HELP",
    "as_dict",
    "cell",
    "emit",
    "emit_one",
    "fit_columns",
    "info",
    "is_tty",
    "progress",
    "resolve_format",
]

FORMATS = ("table", "json", "ndjson", "csv")
OUTPUT_HELP = "Output: table, json, ndjson or csv (default: table on a terminal, json when piped)."

T = TypeVar("T")


def is_tty(stream: IO[str] | None = None) -> bool:
    """True when *stream* (stdout by default) is an interactive terminal."""
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def resolve_format(output: str | None, stream: IO[str] | None = None) -> str:
    """The format to use: *output* if given (validated), else table on a TTY and JSON when piped.

    ``MDEKIT_OUTPUT`` sets a default. An unknown name raises ``ConfigurationError`` (exit 2).
    """
    chosen = (output or os.environ.get("MDEKIT_OUTPUT") or "").strip().lower()
    if not chosen:
        return "table" if is_tty(stream) else "json"
    if chosen not in FORMATS:
        from mdekit.errors import ConfigurationError

        raise ConfigurationError(f"unknown output format {output!r}; choose one of: {', '.join(FORMATS)}")
    return chosen


def as_dict(obj: Any) -> dict[str, Any]:
    """A plain, JSON-able dict for a mapping, pydantic model, dataclass or ``to_dict()`` object."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    dump = getattr(obj, "model_dump", None)
    if callable(dump):  # pydantic: keep the wire names and the extra (unknown) fields
        return dict(dump(by_alias=True, mode="json"))
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return as_dict(to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return as_dict(dataclasses.asdict(obj))
    return {"value": _jsonable(obj)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "model_dump") or dataclasses.is_dataclass(value):
        return as_dict(value)
    return str(value)


def cell(value: Any) -> str:
    """One value as table/CSV text: ``None`` empty, lists joined, objects as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        if all(not isinstance(v, Mapping | list | tuple) for v in value):
            return ", ".join(cell(v) for v in value)
        return json.dumps(_jsonable(value), separators=(",", ":"))
    if isinstance(value, Mapping):
        return json.dumps(_jsonable(value), separators=(",", ":"))
    return str(value)


def _pick(row: dict[str, Any], columns: Sequence[str] | None) -> dict[str, Any]:
    if not columns:
        return row
    lowered = {k.lower(): v for k, v in row.items()}
    return {c: row.get(c, lowered.get(c.lower())) for c in columns}


def emit(
    rows: Iterable[Any],
    fmt: str,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    stream: IO[str] | None = None,
) -> int:
    """Write *rows* in *fmt*; returns how many were written.

    *columns* selects and orders the table/CSV columns (JSON and NDJSON always carry the whole
    record). JSON, NDJSON and CSV stream row by row, so a long listing starts printing at once.
    """
    out = stream or sys.stdout
    dicts = (as_dict(r) for r in rows)
    if fmt == "ndjson":
        return _emit_ndjson(dicts, out)
    if fmt == "json":
        return _emit_json(dicts, out)
    if fmt == "csv":
        return _emit_csv(dicts, out, columns)
    return _emit_table(list(dicts), out, columns, title)


def emit_one(obj: Any, fmt: str, *, stream: IO[str] | None = None, title: str | None = None) -> None:
    """Write one record: JSON/NDJSON as one object, CSV as a one-row sheet, table as key/value."""
    out = stream or sys.stdout
    row = as_dict(obj)
    if fmt in ("json", "ndjson"):
        indent = 2 if fmt == "json" else None
        out.write(json.dumps(row, indent=indent, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        _emit_csv(iter([row]), out, None)
    else:
        pairs = [{"field": k, "value": cell(v)} for k, v in row.items()]
        _emit_table(pairs, out, ["field", "value"], title, header=False)


def _emit_ndjson(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        n += 1
    out.flush()
    return n


def _emit_json(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    n = 0
    for row in rows:
        # "[" only with the first row: a request that fails before any row leaves stdout empty.
        out.write(("," if n else "[") + "\n  " + json.dumps(row, ensure_ascii=False))
        n += 1
    out.write("\n]\n" if n else "[]\n")
    out.flush()
    return n


def _emit_csv(rows: Iterator[dict[str, Any]], out: IO[str], columns: Sequence[str] | None) -> int:
    writer: Any = None
    n = 0
    for row in rows:
        picked = _pick(row, columns)
        if writer is None:
            # Without columns, the first row's keys decide (records of one list share a shape).
            writer = csv.DictWriter(out, fieldnames=list(picked), extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
        writer.writerow({k: cell(v) for k, v in picked.items()})
        n += 1
    if writer is None and columns:
        out.write(",".join(columns) + "\n")
    out.flush()
    return n


def _emit_table(
    rows: list[dict[str, Any]],
    out: IO[str],
    columns: Sequence[str] | None,
    title: str | None,
    *,
    header: bool = True,
) -> int:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False, soft_wrap=False)
    if not rows:
        console.print("[dim](no results)[/dim]" if is_tty(out) else "(no results)")
        return 0
    names = list(columns) if columns else list(rows[0])
    cells = [[_table_cell(_pick(row, names).get(n)) for n in names] for row in rows]
    widths, shown = fit_columns(names, cells, console.width)
    table = Table(title=title, show_header=header, header_style="bold", expand=False, box=_box(header))
    for i in shown:
        table.add_column(names[i], width=widths[i], no_wrap=True, overflow="ellipsis")
    for values in cells:
        table.add_row(*(values[i] for i in shown))
    console.print(table)
    hidden = [names[i] for i in range(len(names)) if i not in shown]
    if hidden:
        info(f"(hidden at this width: {', '.join(hidden)}; -o json shows all)")
    return len(rows)


_ISO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
#: Prose columns may be cut with an ellipsis; every other column is shown whole or not at all
#: (a cut id or host name is worse than none: people copy them into the next command).
_PROSE = ("title", "description", "detail", "fix", "comment", "requestorcomment", "value", "error")
_PROSE_MIN, _PROSE_PREF, _PROSE_MAX, _GAP = 16, 28, 60, 3  # rich: 1 padding each side + 1 separator


def fit_columns(names: list[str], cells: list[list[str]], width: int) -> tuple[list[int], list[int]]:
    """Column widths and which columns fit in *width* (columns in order of importance).

    Prose columns (title, description, ...) are always shown: they get at least 16 characters, and
    columns listed after them are dropped until the prose has 28 or more; every other column is
    shown whole or not at all. Space left over goes to the prose.
    """
    natural = [max([len(n)] + [len(row[i]) for row in cells]) for i, n in enumerate(names)]
    prose = {i for i, n in enumerate(names) if n.lower() in _PROSE}
    widths = [min(w, _PROSE_MIN) if i in prose else w for i, w in enumerate(natural)]
    budget = width - 1 - sum(widths[i] + _GAP for i in prose)
    shown = sorted(prose)
    for i in (i for i in range(len(names)) if i not in prose):
        if widths[i] + _GAP <= budget or not shown:
            shown.append(i)
            budget -= widths[i] + _GAP
    shown.sort()
    want = sum(min(natural[i], _PROSE_PREF) - widths[i] for i in prose)
    first_prose = min(prose, default=len(names))
    for i in sorted((i for i in shown if i > first_prose and i not in prose), reverse=True):
        if budget >= want:
            break
        shown.remove(i)  # a trailing column gives way to readable prose
        budget += widths[i] + _GAP
    for i in sorted(prose):
        grow = min(max(budget, 0), min(natural[i], _PROSE_MAX) - widths[i])
        widths[i] += grow
        budget -= grow
    return widths, shown


def _table_cell(value: Any) -> str:
    """Like :func:`cell`, but times shortened to minutes (UTC) - tables are for reading, not parsing."""
    text = cell(value)
    m = _ISO_TIME.match(text)
    if m and (m.group(5) in (None, "Z", "+00:00")):
        return f"{m.group(1)} {m.group(2)}"
    return text


def _box(header: bool) -> Any:
    from rich import box

    return box.SIMPLE_HEAD if header else box.SIMPLE


def info(message: str) -> None:
    """A human note on stderr (progress, confirmations) so stdout stays machine-readable."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def progress(
    items: Iterable[T], *, total: int | None = None, label: str = "items", min_items: int = 0
) -> Iterator[T]:
    """Yield *items*, drawing a progress bar on stderr when stderr is a terminal.

    Nothing is drawn when stderr is piped (logs and CI stay clean). *min_items* hides the bar for
    short listings whose *total* is known to be small.
    """
    if not is_tty(sys.stderr) or (total is not None and total < min_items):
        yield from items
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns: list[Any] = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    columns.append(TimeElapsedColumn())

    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(label, total=total)
        for item in items:
            yield item
            bar.advance(task)
