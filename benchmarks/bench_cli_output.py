"""The CLI's renderer on a long listing: time to the first table line, and each format's total time.

Run: .venv/bin/python benchmarks/bench_cli_output.py [ROWS]   (default 30,000 alert-shaped rows)

Every format goes through ``mdekit.cli.output.emit`` into an in-memory stream (no terminal, no
network); the baseline, measured in the same run, is the same rows written by a bare loop
(``json.dumps`` per row / ``csv.writer`` / fixed-width ``ljust``). The table line also shows
when the first row reached the stream, as a share of the whole run: tables stream, so that
share stays small however long the listing is.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any

from mdekit.cli import output


def _rows(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"da63929095310843{i:07d}_1559105321",
            "severity": ("High", "Medium", "Low")[i % 3],
            "status": "New",
            "title": "Suspicious PowerShell command line" + " (encoded)" * (i % 3),
            "computerDnsName": f"desktop-{i:06d}.contoso.local",
            "alertCreationTime": "2024-05-01T10:11:12.1234567Z",
            "machineTags": ["vip", "finance"],
        }
        for i in range(n)
    ]


class _FirstWrite(io.StringIO):
    """Notes when the first row line arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.first: float | None = None

    def write(self, text: str) -> int:
        if self.first is None and "da6392" in text:
            self.first = time.perf_counter()
        return super().write(text)


def _bare(fmt: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    out = io.StringIO()
    if fmt in ("json", "ndjson"):
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([output.cell(row.get(c)) for c in columns])
    else:
        for row in rows:
            out.write("  ".join(output.cell(row.get(c)).ljust(20) for c in columns) + "\n")


def _timed(fmt: str, rows: list[dict[str, Any]], columns: list[str]) -> tuple[float, float, float]:
    def stream() -> Iterator[dict[str, Any]]:
        yield from rows

    out = _FirstWrite()
    start = time.perf_counter()
    output.emit(stream(), fmt, columns=columns, stream=out)
    total = time.perf_counter() - start
    start_bare = time.perf_counter()
    _bare(fmt, rows, columns)
    bare = time.perf_counter() - start_bare
    return total, bare, ((out.first or start) - start)


def main() -> None:
    """Measure and print the figures."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
    rows = _rows(n)
    columns = ["id", "severity", "status", "title", "computerDnsName", "alertCreationTime"]
    print(f"rows: {n:,}; best of 3 alternating rounds (emit, then the bare loop)")
    for fmt in ("table", "json", "ndjson", "csv"):
        runs = [_timed(fmt, rows, columns) for _ in range(3)]
        total = min(r[0] for r in runs)
        bare = min(r[1] for r in runs)
        first = statistics.median(r[2] for r in runs)
        extra = (
            f"  first row after {first * 1000:6.1f} ms ({first / total:5.1%} of the run)"
            if fmt == "table"
            else ""
        )
        print(f"{fmt:7} emit {total:6.2f} s   bare loop {bare:6.2f} s   ratio {total / bare:5.2f}x{extra}")


if __name__ == "__main__":
    main()
