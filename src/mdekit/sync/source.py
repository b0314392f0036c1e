"""Pages of raw records through the mdekit client: its token lifecycle, pre-flight, rate limiter,
retries and paging past 10,000 (``@odata.nextLink`` or ``$top``/``$skip``) - no HTTP of our own.

A page comes with the token that resumes the listing after it (:meth:`Cursor.token`), which the
engine stores in the sink's checkpoint next to the page's records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mdekit.catalog import operation
from mdekit.client.base import parse_page
from mdekit.client.flow import page_flow
from mdekit.client.paging import Cursor, first_cursor, next_cursor
from mdekit.sync.entities import Entity

if TYPE_CHECKING:
    from mdekit.client.defender import Defender

__all__ = ["RawPage", "Source", "iso_filter"]


@dataclass
class RawPage:
    """One page: its records (dicts, as the API sent them) and the token of the next page."""

    records: list[dict[str, Any]]
    next_token: str | None


def iso_filter(field: str, floor: str | None) -> dict[str, str]:
    """``$filter`` for records whose *field* is at or after *floor* (none without a floor)."""
    return {"$filter": f"{field} ge {floor}"} if floor else {}


class Source:
    """One tenant's Defender API, as seen through a configured :class:`Defender` client.

    Each entity's catalogue operation names its resource (Defender or XDR API); the client's routes
    send it to that resource's host with that resource's token.
    """

    def __init__(
        self,
        name: str,
        client: Defender,
        *,
        page_size: int | None = None,
        hunting_row_limit: int | None = None,
    ) -> None:
        self.name = name
        self.client = client
        #: ``$top`` per page (default: the service's own page, or the operation's documented maximum).
        self.page_size = page_size
        #: Rows at which a hunting answer counts as cut (default: the service's 100,000).
        self.hunting_row_limit = hunting_row_limit or 100_000

    def pages(self, entity: Entity, floor: str | None, start: str | None) -> Iterator[RawPage]:
        """Pages of *entity* changed at or after *floor* (all without), from token *start* or the first."""
        op = operation(entity.operation)
        if start:
            cursor: Cursor | None = Cursor.from_token(start)
        else:
            params = iso_filter(entity.version_field, floor) if entity.mode == "incremental" else {}
            size = min(filter(None, (self.page_size, op.max_top)), default=None)
            cursor = first_cursor(op.path, params, size)
        while cursor is not None:
            reply = self.client.run(page_flow(op, cursor.path, cursor.query(), self.client.options))
            items, body = parse_page(reply, dict[str, Any])
            nxt = next_cursor(cursor, body, len(items))
            yield RawPage(items, nxt.token() if nxt else None)
            cursor = nxt


def dump(record: dict[str, Any]) -> str:
    """A record as compact JSON text (what sinks store)."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)
