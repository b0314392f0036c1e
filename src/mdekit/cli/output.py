"""Output rendering shared by every ``mde`` command: table, JSON, NDJSON or CSV.

The small API (everything else is private)::

    fmt = resolve_format(output)                    # "table" on a terminal, "json" when piped
    emit(rows, fmt, columns=["id", "severity"])     # a list, streamed in every format
    emit_one(obj, fmt)                              # one record (key/value table)
    for item in progress(items, total=n, label="alerts"): ...   # stderr bar, see progress()
    info("Isolating 3 machines")                    # human notes on stderr (never stdout)

Rows may be mappings, pydantic models, dataclasses or objects with ``to_dict()``; they are
turned into plain JSON-able dicts by :func:`as_dict`. Tables and CSV flatten values (lists joined
with ``", "``, nested objects as compact JSON); JSON and NDJSON keep the full record.

Data from the API is never trusted by the terminal or a spreadsheet:

- Tables (and :func:`info` lines) show control characters as visible escapes (``\\x1b``,
  ``\\n``, ``\\u202e``: C0, C1, DEL, bidirectional overrides), so a value cannot retitle the
  terminal, move the cursor or reorder text; and values are never read as rich markup
  (``[bold red]`` prints as typed). JSON escapes the same characters (``\\u009b``), which is the
  same JSON value.
- CSV cells that a spreadsheet would run as a formula (first character ``=``, ``+``, ``-``,
  ``@``, tab or carriage return) get a leading ``'`` (numbers stay numbers); ``--csv-raw``
  writes the values untouched.

Tables stream: the first rows decide the column widths and print at once, the rest follow in
chunks (a later value longer than its column wraps inside it; ids are never cut).
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
from itertools import islice
from typing import IO, Any, TypeVar

__all__ = [
    "FORMATS",
    "OUTPUT_HELP",
    "as_dict",
    "cell",
    "csv_cell",
    "emit",
    "emit_one",
    "fit_columns",
    "info",
    "is_tty",
    "progress",
    "resolve_format",
    "terminal",
    "terminal_safe",
]

FORMATS = ("table", "json", "ndjson", "csv")
OUTPUT_HELP = "Output: table, json, ndjson or csv (default: table on a terminal, json when piped)."

T = TypeVar("T")

#: Characters a terminal acts on (C0, DEL, C1) or that reorder text (bidi controls, separators).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: The same minus C0, which JSON escapes by itself.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: First characters that make Excel, LibreOffice or Google Sheets evaluate a cell (OWASP).
_FORMULA_CHARS = frozenset("=+-@\t\r")


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


def terminal_safe(text: str) -> str:
    """*text* with every character a terminal would act on shown as a visible escape.

    ``ESC ] 0 ; x BEL`` (an OSC that retitles the window) becomes ``\\x1b]0;x\\x07``; newline,
    CR and tab become ``\\n``, ``\\r``, ``\\t``; bidi overrides become ``\\u202e``.
    """
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda m: _escape(m.group()), text)


def _escape(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def csv_cell(value: Any) -> str:
    """*value* as a CSV cell; text a spreadsheet would run as a formula gets a leading ``'``.

    Numbers (``-5``, ``+1.5`` as JSON numbers) are left alone: a spreadsheet reads them as
    numbers. ``--csv-raw`` writes :func:`cell` values untouched instead.
    """
    text = cell(value)
    if text[:1] in _FORMULA_CHARS and not isinstance(value, int | float):
        return "'" + text
    return text


def _json(obj: Any, *, indent: int | None = None, compact: bool = False) -> str:
    separators = (",", ":") if compact else None
    text = json.dumps(obj, ensure_ascii=False, indent=indent, separators=separators)
    if (not text.isascii() or "\x7f" in text) and _JSON_UNSAFE.search(text):  # ASCII: one fast scan
        text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)  # same JSON, terminal-safe
    return text


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
    csv_raw: bool = False,
    keep: Sequence[str] = (),
) -> int:
    """Write *rows* in *fmt*; returns how many were written.

    *columns* selects and orders the table/CSV columns (JSON and NDJSON always carry the whole
    record); *keep* names table columns that must stay visible on a narrow terminal (others give
    way first). Every format streams, so a long listing starts printing at once.
    """
    out = stream or sys.stdout
    dicts = (as_dict(r) for r in rows)
    if fmt == "ndjson":
        return _emit_ndjson(dicts, out)
    if fmt == "json":
        return _emit_json(dicts, out)
    if fmt == "csv":
        return _emit_csv(dicts, out, columns, raw=csv_raw)
    return _emit_table(dicts, out, columns, title, keep=keep)


def emit_one(
    obj: Any, fmt: str, *, stream: IO[str] | None = None, title: str | None = None, csv_raw: bool = False
) -> None:
    """Write one record: JSON/NDJSON as one object, CSV as a one-row sheet, table as key/value."""
    out = stream or sys.stdout
    row = as_dict(obj)
    if fmt in ("json", "ndjson"):
        out.write(_json(row, indent=2 if fmt == "json" else None) + "\n")
    elif fmt == "csv":
        _emit_csv(iter([row]), out, None, raw=csv_raw)
    else:
        pairs = ({"field": k, "value": v} for k, v in row.items())
        _emit_table(pairs, out, ["field", "value"], title, header=False)


def _emit_ndjson(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    n = 0
    for row in rows:
        out.write(_json(row, compact=True) + "\n")
        n += 1
    out.flush()
    return n


def _emit_json(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    n = 0
    for row in rows:
        # "[" only with the first row: a request that fails before any row leaves stdout empty.
        out.write(("," if n else "[") + "\n  " + _json(row))
        n += 1
    out.write("\n]\n" if n else "[]\n")
    out.flush()
    return n


def _emit_csv(
    rows: Iterator[dict[str, Any]], out: IO[str], columns: Sequence[str] | None, *, raw: bool
) -> int:
    writer = csv.writer(_RowEnds(out), lineterminator="\r\n")  # CR and LF in a cell get quoted
    text = cell if raw else csv_cell
    names: list[str] | None = list(columns) if columns else None
    n = 0
    for row in rows:
        if names is None:  # without columns, the first row's keys decide (one list, one shape)
            names = list(row)
        if n == 0:
            writer.writerow([text(c) for c in names])
        picked = _pick(row, names)
        writer.writerow([text(picked.get(c)) for c in names])
        n += 1
    if n == 0 and names:
        writer.writerow([text(c) for c in names])
    out.flush()
    return n


class _RowEnds:
    """Writes csv rows ending in ``\n``: the writer ends them in ``\r\n`` only so that it quotes
    cells holding a CR (with ``\n`` alone it would leave a bare CR that splits the row)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def write(self, text: str) -> int:
        return self.out.write(text[:-2] + "\n" if text.endswith("\r\n") else text)


# -- tables -----------------------------------------------------------------------------------------

_FIRST_CHUNK = 200  # rows that decide the column widths (printed as soon as they are in)
_CHUNK = 500  # rows per write after that
_ISO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
#: Prose columns may be cut with an ellipsis; every other column is shown whole or not at all
#: (a cut id or host name is worse than none: people copy them into the next command).
_PROSE = ("title", "description", "detail", "fix", "comment", "requestorcomment", "value", "error")
_PROSE_MIN, _PROSE_PREF, _PROSE_MAX, _GAP = 16, 28, 60, 3  # 1 padding each side + 1 separator


def _emit_table(
    rows: Iterator[dict[str, Any]],
    out: IO[str],
    columns: Sequence[str] | None,
    title: str | None,
    *,
    header: bool = True,
    keep: Sequence[str] = (),
) -> int:
    console = terminal(out)
    first = list(islice(rows, _FIRST_CHUNK))
    if not first:
        console.print("(no results)", style="dim")
        return 0
    names = list(columns) if columns else list(first[0])
    labels = [terminal_safe(n) for n in names]
    cells = [_row_cells(row, names) for row in first]
    widths, shown = fit_columns(labels, cells, console.width, keep=keep)
    prose = {i for i in shown if names[i].lower() in _PROSE and names[i] not in keep}
    layout = [(widths[i], i in prose) for i in shown]
    if title:
        console.print(terminal_safe(title), style="italic", justify="center")
    out.write("\n")
    if header:
        console.print(_line([labels[i] for i in shown], layout), style="bold")
        out.write(" " + "─" * (sum(w + 2 for w, _ in layout) + len(layout) - 1) + "\n")
    count = _write_rows(out, cells, shown, layout)
    while chunk := list(islice(rows, _CHUNK)):
        out.flush()
        count += _write_rows(out, [_row_cells(row, names) for row in chunk], shown, layout)
    out.write("\n")
    out.flush()
    hidden = [labels[i] for i in range(len(names)) if i not in shown]
    if hidden:
        info(_hidden_note(hidden))
    return count


def _hidden_note(hidden: list[str], named: int = 4) -> str:
    """One short line about the columns that did not fit (a hunting table hides dozens)."""
    listed = ", ".join(hidden[:named]) + (f", +{len(hidden) - named} more" if len(hidden) > named else "")
    count = f"{len(hidden)} column{'s' * (len(hidden) != 1)}"
    return f"({count} hidden at this width: {listed}; -o json shows all)"


def _row_cells(row: dict[str, Any], names: list[str]) -> list[str]:
    picked = _pick(row, names)
    return [terminal_safe(_table_cell(picked.get(n))) for n in names]


def _write_rows(
    out: IO[str], cells: list[list[str]], shown: list[int], layout: list[tuple[int, bool]]
) -> int:
    for values in cells:
        parts = [_fit(values[i], width, cut) for i, (width, cut) in zip(shown, layout, strict=True)]
        for k in range(max(len(p) for p in parts)):
            out.write(_line([p[k] if k < len(p) else "" for p in parts], layout) + "\n")
    return len(cells)


def _fit(text: str, width: int, cut: bool) -> list[str]:
    """A cell's lines: prose cut with an ellipsis, anything else wrapped (an id is never cut)."""
    if text.isascii():  # the common case, without rich: one character, one cell
        if len(text) <= width:
            return [text]
        if cut:
            return [text[: width - 1] + "…"]
        return [text[i : i + width] for i in range(0, len(text), width)]
    from rich.cells import cell_len, chop_cells, set_cell_size

    if cell_len(text) <= width:
        return [text]
    return [set_cell_size(text, width - 1) + "…"] if cut else chop_cells(text, width)


def _line(values: list[str], layout: list[tuple[int, bool]]) -> str:
    padded = [_pad(v, w) for v, (w, _) in zip(values, layout, strict=True)]
    return ("  " + "   ".join(padded)).rstrip()


def _pad(text: str, width: int) -> str:
    if text.isascii():
        return text.ljust(width)
    from rich.cells import set_cell_size

    return set_cell_size(text, width)


def _cells(text: str) -> int:
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def fit_columns(
    names: list[str], cells: list[list[str]], width: int, *, keep: Sequence[str] = ()
) -> tuple[list[int], list[int]]:
    """Column widths and which columns fit in *width* (columns in order of importance).

    Columns named in *keep* are shown first, whole (the first of them wraps inside its column if
    they would not fit on the line otherwise). Prose columns (title, description, ...) get
    at least 16 characters: without *keep* they are always shown, and columns listed after them
    are dropped until the prose has 28 or more; with *keep* they show when there is room. Every
    other column is shown whole or not at all. Space left over goes to the prose.
    """
    natural = [max([_cells(n)] + [_cells(row[i]) for row in cells]) for i, n in enumerate(names)]
    kept = [i for i, n in enumerate(names) if n in keep]
    prose = {i for i, n in enumerate(names) if n.lower() in _PROSE and i not in kept}
    widths = [min(w, _PROSE_MIN) if i in prose else w for i, w in enumerate(natural)]
    budget = width - 1 - sum(widths[i] + _GAP for i in kept)
    if kept and budget < 0:  # the first kept column (a name) wraps inside a narrower column
        widths[kept[0]] = max(8, widths[kept[0]] + budget)
        budget = width - 1 - sum(widths[i] + _GAP for i in kept)
    shown = list(kept)
    for i in sorted(prose):
        if not kept or widths[i] + _GAP <= budget:
            shown.append(i)
            budget -= widths[i] + _GAP
    for i in (i for i in range(len(names)) if i not in prose and i not in kept):
        if widths[i] + _GAP <= budget or not shown:
            shown.append(i)
            budget -= widths[i] + _GAP
    shown.sort()
    prose &= set(shown)
    want = sum(min(natural[i], _PROSE_PREF) - widths[i] for i in prose)
    first_prose = min(prose, default=len(names))
    for i in sorted((i for i in shown if i > first_prose and i not in prose and i not in kept), reverse=True):
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


def terminal(file: IO[str] | None = None, **options: Any) -> Any:
    """A rich ``Console`` on *file* (stdout) that reads no markup from text and, when the reader
    of a pipe goes away, raises ``BrokenPipeError`` for ``mde`` to end with exit 141 (rich's own
    console would exit 1, which means an API error)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    settings: dict[str, Any] = {"highlight": False, "markup": False, "emoji": False, "soft_wrap": True}
    return _Console(file=file or sys.stdout, **{**settings, **options})


def info(message: str) -> None:
    """A human note on stderr (progress, confirmations) so stdout stays machine-readable.

    Control characters in it (data quoted from the API) are shown as escapes, line by line.
    """
    sys.stderr.write("\n".join(terminal_safe(line) for line in message.split("\n")) + "\n")
    sys.stderr.flush()


def progress(
    items: Iterable[T], *, total: int | None = None, label: str = "items", min_items: int = 0
) -> Iterator[T]:
    """Yield *items*, drawing a progress bar on stderr while stdout goes elsewhere.

    The bar shows when stderr is a terminal and stdout is not (``-o csv > rows.csv``): on a
    terminal the rows themselves show the progress, and a bar would tear them. Nothing is drawn
    when stderr is piped (logs and CI stay clean). *min_items* hides the bar for short listings
    whose *total* is known to be small.
    """
    if not is_tty(sys.stderr) or is_tty(sys.stdout) or (total is not None and total < min_items):
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
