"""Building blocks of the API families: endpoint decorators, list calls and lazy pagers.

Each family module writes an endpoint ONCE as a pure *builder* (arguments -> :class:`Call` or
:class:`ListCall`) and exposes it twice with one line each::

    class Alerts(Family):            get = endpoint(_get)
    class AsyncAlerts(AsyncFamily):  get = aendpoint(_get)

so the sync and async clients share every request shape and stay fully typed.
"""

from __future__ import annotations

import functools
import gc
import json
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, Generic, NotRequired, ParamSpec, TypeVar, cast

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from mdekit.catalog import Operation, operation
from mdekit.client.core import Call, Reply
from mdekit.client.paging import Cursor, first_cursor, next_cursor
from mdekit.errors import ApiError, scrub
from mdekit.models.base import MdeModel

if TYPE_CHECKING:
    from mdekit.client.defender import AsyncDefender, Defender

__all__ = [
    "AsyncFamily",
    "AsyncPager",
    "Family",
    "ListCall",
    "Page",
    "Pager",
    "aendpoint",
    "alisting",
    "endpoint",
    "listing",
    "make_list",
    "raw_values",
    "values",
]

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class ListCall(Generic[T]):
    """A paged list operation: path, OData query, page size, item cap and item type."""

    op: Operation
    path: str
    params: Mapping[str, str]
    item_type: Any
    adapter: TypeAdapter[Any] = field(compare=False, repr=False)
    page_size: int | None = None
    limit: int | None = None


@functools.cache
def _page_adapter(item_type: Any) -> TypeAdapter[Any]:
    return TypeAdapter(list[item_type])


@functools.cache
def _envelope_adapter(item_type: Any) -> TypeAdapter[Any]:
    """``{"value": [item...], "@odata.nextLink"?}`` validated straight from JSON bytes (fast path)."""
    fields: dict[str, Any] = {"value": list[item_type], "@odata.nextLink": NotRequired[str | None]}
    envelope: Any = TypedDict("envelope", fields)  # type: ignore[misc]  # built at run time per item type
    return TypeAdapter(envelope)


def _lenient_items(item_type: Any, items: list[Any]) -> list[Any]:
    """Slow path for a page with an odd record: validate item by item, setting bad fields aside."""
    if isinstance(item_type, type) and issubclass(item_type, MdeModel):
        return [item_type.model_validate(i) for i in items]
    return _page_adapter(item_type).validate_python(items)


def make_list(
    name: str, item_type: type[T], params: Mapping[str, Any], *, page_size: int | None, limit: int | None
) -> ListCall[T]:
    """Build a :class:`ListCall` for list operation *name* (``None`` params dropped)."""
    if page_size is not None and not 1 <= page_size <= 10_000:
        from mdekit.errors import ConfigurationError

        raise ConfigurationError("page_size must be between 1 and 10000")
    query = {k: str(v) for k, v in params.items() if v is not None}
    op = operation(name)
    if limit is not None and page_size is None and limit < 10_000:
        page_size = max(limit, 1)
    return ListCall(op, op.path, query, item_type, _page_adapter(cast(Any, item_type)), page_size, limit)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a page of records is built.

    Validating a 10,000-item page allocates ~150,000 container objects; each allocation burst
    triggers collections that traverse the whole heap again and again, yet a freshly built,
    acyclic tree of records can hold no garbage cycle. Pausing saves those passes (~25 % of page
    time, more in a big process). pydantic-core holds the GIL for the whole build, so no other
    thread runs meanwhile; the collector is re-enabled only if it was enabled before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_page(reply: Reply, item_type: Any) -> tuple[list[Any], Any]:
    """(items, body-with-nextLink) of one list page.

    Fast path: pydantic-core parses and validates the page bytes in one pass (no ``json.loads``
    dicts in between). A page with an odd record falls back to per-item lenient validation. A body
    that is not JSON (truncated, malformed) or has no ``value`` array is an :class:`ApiError`.
    """
    try:
        with _gc_paused():
            env = _envelope_adapter(item_type).validate_json(reply.content)
        return env["value"], env
    except ValidationError:
        pass
    try:
        body = json.loads(reply.content)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError too
        excerpt = scrub(reply.content[:200].decode("utf-8", "replace"))
        raise ApiError(
            f"list page is not valid JSON (truncated or malformed: {type(exc).__name__}: {exc})",
            status=reply.status,
            body=excerpt,
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise ApiError("list answer has no 'value' array", status=reply.status, body=body)
    return _lenient_items(item_type, body["value"]), body


def raw_values(body: Any) -> list[dict[str, Any]]:
    """The ``value`` array of a collection answer (dict items only)."""
    items = body.get("value") if isinstance(body, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def values(model: type[T]) -> Callable[[Any], list[T]]:
    """A parser turning a collection answer into a list of *model*."""
    adapter = _page_adapter(cast(Any, model))

    def parse(body: Any) -> list[T]:
        items = raw_values(body)
        try:
            result: list[T] = adapter.validate_python(items)
        except ValidationError:
            result = _lenient_items(model, items)
        return result

    return parse


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page: its items and the token that resumes the listing after it (``None`` at the end)."""

    items: list[T]
    next_token: str | None


def _start(call: ListCall[Any], start: str | None) -> Cursor:
    return Cursor.from_token(start) if start else first_cursor(call.path, call.params, call.page_size)


def _cut(call: ListCall[Any], cursor: Cursor, reply: Reply, seen: int) -> tuple[list[Any], Cursor | None]:
    """(items, next cursor) of one fetched page, capped at ``call.limit``.

    The reply bytes and the parsed envelope die with this frame, so while the caller hands out the
    items nothing else of the page is alive (constant memory, whatever the total).
    """
    items, body = parse_page(reply, call.item_type)
    nxt = next_cursor(cursor, body, len(items))
    if call.limit is not None and seen + len(items) >= call.limit:
        items, nxt = items[: call.limit - seen], None
    return items, nxt


def _drain(items: list[T]) -> Iterator[T]:
    """Yield *items* in order, dropping each from the list as it goes.

    An item is then owned by the caller alone and freed as soon as the caller lets go of it, so
    a listing holds at most one page of records, shrinking as it is consumed, never two.
    """
    items.reverse()
    pop = items.pop
    while items:
        yield pop()


class Pager(Generic[T]):
    """A lazy listing: iterate items, or :meth:`pages` (resumable with ``start=token``)."""

    def __init__(self, client: Defender, call: ListCall[T]) -> None:
        self._client = client
        self._call = call
        #: Token of the page after the last one fetched (``None`` before the first and at the end).
        self.next_token: str | None = None

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            items = page.items
            del page  # only `items` holds this page now, and _drain empties it
            yield from _drain(items)

    def pages(self, start: str | None = None) -> Iterator[Page[T]]:
        """Fetch pages lazily, from the beginning or from a :attr:`Page.next_token`."""
        from mdekit.client.flow import page_flow

        call, seen = self._call, 0
        cursor: Cursor | None = _start(call, start)
        while cursor is not None:
            flow = page_flow(call.op, cursor.path, cursor.query(), self._client._opts)
            items, nxt = _cut(call, cursor, self._client._engine.run(flow), seen)
            seen += len(items)
            self.next_token = nxt.token() if nxt else None
            yield Page(self._client._bind(items), self.next_token)
            del items  # nothing of this page stays alive while the next one is fetched
            cursor = nxt

    def all(self) -> list[T]:
        """Every item, as a list."""
        return list(self)


class AsyncPager(Generic[T]):
    """The async twin of :class:`Pager` (``async for``)."""

    def __init__(self, client: AsyncDefender, call: ListCall[T]) -> None:
        self._client = client
        self._call = call
        self.next_token: str | None = None

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            items = page.items
            del page
            for item in _drain(items):
                yield item

    async def pages(self, start: str | None = None) -> AsyncIterator[Page[T]]:
        """As :meth:`Pager.pages`."""
        from mdekit.client.flow import page_flow

        call, seen = self._call, 0
        cursor: Cursor | None = _start(call, start)
        while cursor is not None:
            flow = page_flow(call.op, cursor.path, cursor.query(), self._client._opts)
            items, nxt = _cut(call, cursor, await self._client._engine.run(flow), seen)
            seen += len(items)
            self.next_token = nxt.token() if nxt else None
            yield Page(items, self.next_token)
            del items
            cursor = nxt

    async def all(self) -> list[T]:
        """Every item, as a list."""
        return [item async for item in self]


class Family:
    """Base of a sync API family (``client.alerts``, ...)."""

    def __init__(self, client: Defender) -> None:
        self._client = client


class AsyncFamily:
    """Base of an async API family."""

    def __init__(self, client: AsyncDefender) -> None:
        self._client = client


def endpoint(build: Callable[P, Call[T]]) -> Callable[Concatenate[Family, P], T]:
    """A sync family method that runs the call *build* describes."""

    @functools.wraps(build)
    def method(self: Family, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._client.execute(build(*args, **kwargs))

    return method


def aendpoint(build: Callable[P, Call[T]]) -> Callable[Concatenate[AsyncFamily, P], Coroutine[Any, Any, T]]:
    """An async family method that runs the call *build* describes."""

    @functools.wraps(build)
    async def method(self: AsyncFamily, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._client.execute(build(*args, **kwargs))

    return method


def listing(build: Callable[P, ListCall[T]]) -> Callable[Concatenate[Family, P], Pager[T]]:
    """A sync family method returning a lazy :class:`Pager`."""

    @functools.wraps(build)
    def method(self: Family, /, *args: P.args, **kwargs: P.kwargs) -> Pager[T]:
        return Pager(self._client, build(*args, **kwargs))

    return method


def alisting(build: Callable[P, ListCall[T]]) -> Callable[Concatenate[AsyncFamily, P], AsyncPager[T]]:
    """An async family method returning a lazy :class:`AsyncPager`."""

    @functools.wraps(build)
    def method(self: AsyncFamily, /, *args: P.args, **kwargs: P.kwargs) -> AsyncPager[T]:
        return AsyncPager(self._client, build(*args, **kwargs))

    return method
