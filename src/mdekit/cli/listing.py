"""The one way every ``list`` command prints: fan out over tenants, page with progress, emit.

::

    show_list(opts, lambda client: client.alerts.list(filter=f, top=top),
              columns=ALERT_COLUMNS, label="alerts", total=top)

With several tenants (``--tenant`` repeated or ``--all-profiles``) each row is tagged with a
``tenant`` field (first column) so merged output says where each record came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mdekit.cli.common import Options, Target, fan_out
from mdekit.cli.output import as_dict, progress

__all__ = ["show_list", "show_one"]


def show_list(
    opts: Options,
    fetch: Callable[[Any], Iterable[Any]],
    *,
    columns: list[str],
    label: str,
    total: int | None = None,
) -> int:
    """List with *fetch(client)* for every target of *opts*; returns the number of rows."""
    targets = opts.targets()
    tagged = len(targets) > 1

    def work(target: Target) -> Iterable[Any]:
        return fetch(target.client())

    def rows() -> Iterator[dict[str, Any]]:
        for target, item in fan_out(targets, work):
            row = as_dict(item)
            yield {"tenant": target.label, **row} if tagged else row

    stream = progress(rows(), total=total, label=label, min_items=200)
    return opts.emit(  # the format is checked before the first request goes out
        stream, columns=(["tenant", *columns] if tagged else columns)
    )


def show_one(opts: Options, fetch: Callable[[Any], Any]) -> None:
    """Print one record fetched with *fetch(client)* (a single tenant)."""
    target = opts.single()
    opts.emit_one(fetch(target.client()))
