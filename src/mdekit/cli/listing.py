"""The one way every ``list`` command prints: fan out over tenants, page with progress, emit.

::

    show_list(opts, lambda client: client.alerts.list(filter=f, top=top),
              columns=ALERT_COLUMNS, label="alerts", total=top)

With several tenants (``--tenant`` repeated or ``--all-profiles``) each row is tagged with a
``tenant`` field (first column) so merged output says where each record came from.

A ``Queried`` command also hands its :class:`~mdekit.cli.common.ListQuery` (``query=``), whose
``args`` its *fetch* passed to the client's list: ``--select`` then narrows every format to the
properties the service returned (in the entity's key order), and ``--count`` prints the number of
matches instead of rows (``{"count": N}`` in JSON, one row per tenant when fanning out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import typer

from mdekit.cli.common import ListQuery, Options, Target, fan_out, list_query, options
from mdekit.cli.output import as_dict, progress
from mdekit.errors import ConfigurationError

__all__ = ["show_list", "show_one", "show_queried"]


def show_list(
    opts: Options,
    fetch: Callable[[Any], Iterable[Any]],
    *,
    columns: list[str],
    label: str,
    total: int | None = None,
    query: ListQuery | None = None,
) -> int:
    """List with *fetch(client)* for every target of *opts*; returns the number of rows."""
    targets = opts.targets()
    tagged = len(targets) > 1
    if query is not None and query.count:
        if total is not None:
            raise ConfigurationError("--count counts every match: give it without --top")
        return _show_count(opts, fetch, targets)
    names = query.select if query is not None else None

    def work(target: Target) -> Iterable[Any]:
        return fetch(target.client())

    def rows() -> Iterator[dict[str, Any]]:
        for target, item in fan_out(targets, work):
            row = _selected(item, names) if names else as_dict(item)
            yield {"tenant": target.label, **row} if tagged else row

    stream = progress(rows(), total=total, label=label, min_items=200)
    # with --select the rows' own keys are the columns (what the service returned, in its order)
    shown: list[str] | None = None if names else (["tenant", *columns] if tagged else columns)
    return opts.emit(stream, columns=shown)  # the format is checked before the first request goes out


def show_queried(
    ctx: typer.Context,
    fetch: Callable[[Any, dict[str, Any]], Iterable[Any]],
    *,
    columns: list[str],
    label: str,
) -> int:
    """:func:`show_list` for a ``Queried`` command whose list takes no more than its own arguments
    (an item's sub-collection: ``lambda c, q: c.files.alerts(sha1, **q)``): *fetch* gets the
    client and the ``select=``/``order_by=`` of ``--select``/``--order-by``."""
    query = list_query(ctx)
    return show_list(options(ctx), lambda c: fetch(c, query.args), columns=columns, label=label, query=query)


def _squash(name: str) -> str:
    """A property name compared loosely: ``computer_dns_name`` ~ ``computerDnsName``."""
    return name.replace("_", "").lower()


def _selected(item: Any, names: list[str]) -> dict[str, Any]:
    """*item*'s selected properties only (a projection's unset fields, and the ``id`` and
    ``@odata.type`` Graph always adds, are not shown), in the order the record holds them."""
    dump = getattr(item, "model_dump", None)
    row = dict(dump(by_alias=True, mode="json", exclude_unset=True)) if callable(dump) else as_dict(item)
    wanted = {_squash(p) for n in names for p in n.split(",")}
    return {k: v for k, v in row.items() if _squash(k) in wanted}


def _show_count(opts: Options, fetch: Callable[[Any], Any], targets: list[Target]) -> int:
    """``--count``: the number of matches per target (the list's ``count()``: one request each)."""
    counted = [(t, fetch(t.client()).count()) for t in targets]
    if len(counted) == 1 and opts.fmt in ("table", "csv"):
        import sys

        sys.stdout.write(f"{counted[0][1]}\n")
        return 1
    if len(counted) == 1:
        opts.emit_one({"count": counted[0][1]})
        return 1
    return opts.emit(({"tenant": t.label, "count": n} for t, n in counted), columns=["tenant", "count"])


def show_one(opts: Options, fetch: Callable[[Any], Any]) -> None:
    """Print one record fetched with *fetch(client)* (a single tenant)."""
    target = opts.single()
    opts.emit_one(fetch(target.client()))
