"""Stored rows in their answer form, remembered (issue 19).

Machines, indicators and machine actions keep their JSON with 7-digit times (``...1234560Z``):
filters, sorting and the code that loads them compare those. An answer writes times as the service
does (:func:`~mdekit.emulator.clock.dotnet_times`: trailing zeros dropped), and rewriting a 100-item
page on every list request cost 90-250 µs - more than the rest of the request in process. Alerts
store their rendering itself (:mod:`~mdekit.emulator.defender.renderings`); these lists remember
the answer form of each row they served instead, with no schema change.

A remembered form is used only while the row's stored JSON is exactly the text it was made from
(compared on every use: ~50 ns for 1 KB), so no write path has to tell it anything: a changed,
deleted or reused rowid just makes it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mdekit.emulator.clock import dotnet_times
from mdekit.emulator.defender.jsonio import Fragment, Rendered

__all__ = ["AnswerForms"]


class AnswerForms:
    """One table's rows in answer form, by rowid (a bounded memo, safe to share between threads:
    an entry is replaced whole, and checked against the row it is used for)."""

    def __init__(self, limit: int = 4096) -> None:
        # ~2 KB an entry (the stored text and its answer form): a few MB at most
        self.limit = limit
        self._known: dict[int, tuple[str, Fragment]] = {}

    def rendered(self, rows: Sequence[Any], column: str = "data") -> Rendered:
        """*rows*' stored JSON (column *column*, rowid ``n``) in answer form, spliced as it is."""
        known = self._known
        out = Rendered()
        for row in rows:
            data, n = row[column], row["n"]
            found = known.get(n)
            if found is None or found[0] != data:
                if len(known) >= self.limit:
                    known.clear()  # a page larger than the memo: the same work as before it
                found = known[n] = (data, Fragment(dotnet_times(data)))
            out.append(found[1])
        return out
