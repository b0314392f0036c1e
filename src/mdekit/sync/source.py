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
from urllib.parse import urlsplit

from mdekit.catalog import operation
from mdekit.client.base import parse_page
from mdekit.client.flow import page_flow
from mdekit.client.paging import Cursor, first_cursor, next_cursor
from mdekit.sync.entities import Entity

if TYPE_CHECKING:
    from mdekit.client.defender import Defender
    from mdekit.client.transport import SyncEngine

__all__ = ["RawPage", "Source", "iso_filter"]

_XDR_HOST = "api.security.microsoft.com"


@dataclass
class RawPage:
    """One page: its records (dicts, as the API sent them) and the token of the next page."""

    records: list[dict[str, Any]]
    next_token: str | None


def iso_filter(field: str, floor: str | None) -> dict[str, str]:
    """``$filter`` for records whose *field* is at or after *floor* (none without a floor)."""
    return {"$filter": f"{field} ge {floor}"} if floor else {}


class Source:
    """One tenant's Defender API, as seen through a configured :class:`Defender` client."""

    def __init__(self, name: str, client: Defender) -> None:
        self.name = name
        self.client = client
        self._engines: dict[bool, SyncEngine] = {False: client._engine}

    def _engine(self, xdr: bool) -> SyncEngine:
        if xdr not in self._engines:
            from mdekit.client.tokens import TokenProvider
            from mdekit.client.transport import SyncEngine

            c = self.client
            tokens = TokenProvider(
                c.tokens.credential, f"https://{_XDR_HOST}/.default", clock=c.tokens.clock, skew=c.tokens.skew
            )
            self._engines[xdr] = SyncEngine(c._http, tokens, c.limiter, c.sleep)
        return self._engines[xdr]

    def _path(self, entity: Entity) -> str:
        path = operation(entity.operation).path
        host = (urlsplit(self.client.base_url).hostname or "").lower()
        # A real Defender host keeps the XDR API on its own host; the emulator (or a proxy) serves both.
        # UNVERIFIED: the XDR host of the government clouds; commercial is used for every real host.
        if entity.xdr and host.endswith(("securitycenter.microsoft.com", "securitycenter.windows.com")):
            return f"https://{_XDR_HOST}{path}"
        return path

    def pages(self, entity: Entity, floor: str | None, start: str | None) -> Iterator[RawPage]:
        """Pages of *entity* changed at or after *floor* (all without), from token *start* or the first."""
        op = operation(entity.operation)
        if start:
            cursor: Cursor | None = Cursor.from_token(start)
        else:
            params = iso_filter(entity.version_field, floor) if entity.mode == "incremental" else {}
            cursor = first_cursor(self._path(entity), params, op.max_top)
        engine = self._engine(entity.xdr)
        while cursor is not None:
            reply = engine.run(page_flow(op, cursor.path, cursor.query(), self.client._opts))
            items, body = parse_page(reply, dict[str, Any])
            nxt = next_cursor(cursor, body, len(items))
            yield RawPage(items, nxt.token() if nxt else None)
            cursor = nxt


def dump(record: dict[str, Any]) -> str:
    """A record as compact JSON text (what sinks store)."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)
