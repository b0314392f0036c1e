"""Paging rules, without I/O: which request fetches the next page, and a resumable page token.

The service returns at most 10,000 items per page. Without ``$top`` it adds ``@odata.nextLink``
when more exist; with ``$top`` it never does (service-facts §5.2). So the client:

1. follows ``@odata.nextLink`` whenever present (only its path and query: the token is never sent
   to a host other than the configured one);
2. otherwise pages with ``$top``/``$skip`` until a short page - also after a full 10,000-item page
   without a link, which is how listings reach past 10,000 either way.

A :class:`Cursor` says how to fetch one page; its :meth:`Cursor.token` is an opaque string a caller
stores to resume later with ``pages(start=token)``.

:func:`link_ahead` reads a page's ``@odata.nextLink`` from the end of its raw bytes, so the next page
can be requested while this one is still being parsed (the pagers check the guess once it is).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mdekit.errors import ConfigurationError

__all__ = ["MAX_PAGE", "Cursor", "first_cursor", "link_ahead", "next_cursor"]

#: The service's largest page (``$top`` maximum for most list APIs).
MAX_PAGE = 10_000


@dataclass(frozen=True)
class Cursor:
    """How to fetch one page: a followed link (path + query), or ``$skip`` with an optional ``$top``."""

    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    skip: int = 0
    top: int | None = None
    link: bool = False  #: params came from ``@odata.nextLink`` (sent verbatim)

    def query(self) -> dict[str, str]:
        """The query string parameters for this page."""
        if self.link:
            return dict(self.params)
        out = dict(self.params)
        if self.top is not None:
            out["$top"] = str(self.top)
        if self.skip:
            out["$skip"] = str(self.skip)
        return out

    def token(self) -> str:
        """An opaque, URL-safe string from which :func:`from_token` rebuilds this cursor."""
        data = {"p": self.path, "q": dict(self.params), "s": self.skip, "t": self.top, "l": self.link}
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> Cursor:
        """Rebuild a cursor from :meth:`token`; :class:`ConfigurationError` if it is not one."""
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            return cls(str(data["p"]), dict(data["q"]), int(data["s"]), data["t"], bool(data["l"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"not a page token: {type(exc).__name__}") from None


def first_cursor(path: str, params: Mapping[str, str], page_size: int | None) -> Cursor:
    """The first page: with ``page_size`` → ``$top`` paging; without → let the service link pages."""
    params = {k: v for k, v in params.items() if k not in ("$top", "$skip")}
    return Cursor(path, params, 0, page_size)


def next_cursor(
    cursor: Cursor, body: Any, count: int, *, max_page: int = MAX_PAGE, link_only: bool = False
) -> Cursor | None:
    """The page after *cursor*, given its JSON *body* and its item *count*; ``None`` at the end.

    *max_page* is the operation's largest page (``$top`` maximum); *link_only* lists (the
    assessment exports: ``pageSize`` and ``$skiptoken``, no ``$skip``) end with the last link.
    """
    link = body.get("@odata.nextLink") if isinstance(body, dict) else None
    if isinstance(link, str) and link:
        parts = urlsplit(link)
        return Cursor(
            parts.path or cursor.path, dict(parse_qsl(parts.query, keep_blank_values=True)), link=True
        )
    expected = cursor.top if cursor.top is not None else max_page
    if link_only or count < expected or count == 0:
        return None
    skip = cursor.skip + count
    if cursor.link:  # a followed link ran out: continue from its $skip with explicit paging
        base = {k: v for k, v in cursor.params.items() if k not in ("$top", "$skip", "$skiptoken")}
        skip = int(cursor.params.get("$skip", "0") or 0) + count
        return Cursor(cursor.path, base, skip, max_page)
    return Cursor(cursor.path, cursor.params, skip, cursor.top if cursor.top is not None else max_page)


_STRING = rb'"(?:[^"\\]|\\.)*"'
#: ``"@odata.nextLink": "<JSON string>"`` as the answer's last member (where the MDE API puts it).
_LINK_AT_END = re.compile(rb'"@odata\.nextLink"\s*:\s*(' + _STRING + rb")\s*}\s*$")
#: ... or among its first members, after other ``@odata.*`` annotations only (Microsoft Graph's order).
_LINK_AT_START = re.compile(
    rb'\s*{(?:\s*"@odata\.(?!nextLink")\w+"\s*:\s*(?:' + _STRING + rb"|-?\d+)\s*,)*"
    rb'\s*"@odata\.nextLink"\s*:\s*(' + _STRING + rb")\s*[,}]"
)
#: How much of a page's end or start :func:`link_ahead` reads (a link is a few hundred bytes).
_SPAN = 8192


def link_ahead(cursor: Cursor, content: bytes) -> Cursor | None:
    """The page after *cursor* as the raw answer *content* announces it, without parsing the page:
    its ``@odata.nextLink`` when that is the answer's last member, or one of its first after
    annotations only (``None`` otherwise, or if the link is not a JSON string).

    A guess (an answer naming the link twice means the last one), so the caller compares it with
    :func:`next_cursor` of the parsed page and drops a request sent on a wrong guess.
    """
    found = _LINK_AT_END.search(content, max(0, len(content) - _SPAN)) or _LINK_AT_START.match(
        content, 0, _SPAN
    )
    if found is None:
        return None
    try:
        link = json.loads(found.group(1))
    except ValueError:
        return None
    return next_cursor(cursor, {"@odata.nextLink": link}, 0) if isinstance(link, str) and link else None
