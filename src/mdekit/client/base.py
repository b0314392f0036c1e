"""The seam between API families and the engine: endpoint declarations, list calls, lazy pagers.

A family is a module of pure *builders* (arguments -> :class:`~mdekit.client.core.Call` or
:class:`ListCall`) plus ONE class declaring its methods, for the sync and the async client alike::

    def _get(alert_id: str) -> Call[Alert]:   # its docstring becomes the method's
        return make_call("alerts.get", Alert.model_validate, id=alert_id)

    class Alerts(Family[C]):
        get = endpoint(_get)          # client.alerts.get(id) -> Alert   (await it on AsyncDefender)
        list = listing(_list)         # -> Pager[Alert]                  (AsyncPager[Alert])
        wait = procedure(_wait_flow)  # a multi-request flow, written once

and one line in the client (``alerts: Alerts[C]`` in :class:`~mdekit.client.defender._Common`).
The catalogue operation a builder names decides everything else: HTTP method and path, the
resource (Defender, XDR or Graph: base URL and token scope), the roles checked before sending,
the rate-limit bucket and whether a failed request may be replayed.

The descriptors reach the client through its public seam only - ``client.execute(call)``,
``client.paginate(list_call)``, ``client.run(flow)`` and ``client.options`` - which the sync client
answers by blocking and the async one with awaitables; so one declaration serves both.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    Literal,
    NotRequired,
    ParamSpec,
    Protocol,
    Self,
    TypeAlias,
    TypeVar,
    cast,
    overload,
)

from pydantic import TypeAdapter, ValidationError, create_model
from pydantic.fields import FieldInfo
from typing_extensions import TypedDict

from mdekit.catalog import OPERATIONS, Operation, operation
from mdekit.client.core import Call, Reply, expand_path
from mdekit.client.downloads import AsyncFileRows, FileRows, FilesCall
from mdekit.client.gcpause import paused_gc
from mdekit.client.odata import Names, orderby_param, select_param
from mdekit.client.paging import MAX_PAGE, Cursor, first_cursor, link_ahead, next_cursor
from mdekit.client.readahead import Ahead, AsyncAhead
from mdekit.errors import ApiError, ConfigurationError, scrub
from mdekit.models.base import MdeModel

if TYPE_CHECKING:
    from mdekit.client.flow import Flow, Options

__all__ = [
    "AsyncClient",
    "AsyncPager",
    "C",
    "Family",
    "ListCall",
    "Page",
    "Pager",
    "SubList",
    "SyncClient",
    "Walk",
    "count_flow",
    "downloading",
    "endpoint",
    "listing",
    "make_list",
    "partial_model",
    "procedure",
    "raw_values",
    "read_ahead",
    "sub_list",
    "values",
]

P = ParamSpec("P")
T = TypeVar("T")
#: The client a family instance belongs to: the seam of :class:`~mdekit.Defender` (:class:`SyncClient`)
#: or of :class:`~mdekit.AsyncDefender` (:class:`AsyncClient`).
C = TypeVar("C", "SyncClient", "AsyncClient")


class SyncClient(Protocol):
    """What a family sees of the blocking client (:class:`~mdekit.Defender`): the public seam only."""

    @property
    def options(self) -> Options:
        """The request-flow switches flows run with."""
        ...

    def clock(self) -> float:
        """The client's clock (epoch seconds)."""
        ...

    def execute(self, call: Call[T]) -> T:
        """Run one call to its parsed result."""
        ...

    def paginate(self, call: ListCall[T]) -> Pager[T]:
        """A lazy pager over a list call."""
        ...

    def download(self, call: FilesCall[T]) -> FileRows[T]:
        """The rows of a file export, streamed."""
        ...

    def run(self, flow: Flow[T]) -> T:
        """Run a request flow to its result."""
        ...


class AsyncClient(Protocol):
    """What a family sees of the asyncio client (:class:`~mdekit.AsyncDefender`)."""

    @property
    def options(self) -> Options:
        """The request-flow switches flows run with."""
        ...

    def clock(self) -> float:
        """The client's clock (epoch seconds)."""
        ...

    async def execute(self, call: Call[T]) -> T:
        """Run one call to its parsed result."""
        ...

    def paginate(self, call: ListCall[T]) -> AsyncPager[T]:
        """A lazy async pager over a list call."""
        ...

    def download(self, call: FilesCall[T]) -> AsyncFileRows[T]:
        """The rows of a file export, streamed (``async for``)."""
        ...

    async def run(self, flow: Flow[T]) -> T:
        """Run a request flow to its result."""
        ...


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
    #: The operation's largest page (its ``$top`` maximum).
    max_page: int = MAX_PAGE
    #: Pages only by ``@odata.nextLink`` (no ``$top``/``$skip``), as the assessment exports do.
    link_only: bool = False


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
    name: str,
    item_type: type[T],
    params: Mapping[str, Any],
    *,
    page_size: int | None,
    limit: int | None,
    link_only: bool = False,
    select: Names | None = None,
    order_by: Names | None = None,
    **path: str,
) -> ListCall[T]:
    """Build a :class:`ListCall` for list operation *name* (``None`` params dropped; *path* fills
    the operation's ``{id}``). The page size is checked against the catalogue's ``max_top``;
    *link_only* lists take no ``$top`` (their page size is an ordinary parameter).

    *select* (``$select``) and *order_by* (``$orderby``) are every list's shared options: names as
    the service spells them or as the item model's fields (``computer_dns_name``). With *select*
    the items are :func:`partial_model` records: the properties not selected are ``None``.
    """
    op = operation(name)
    largest = op.max_top or MAX_PAGE
    if page_size is not None and not 1 <= page_size <= largest:
        raise ConfigurationError(f"page_size must be between 1 and {largest}")
    if link_only and (select is not None or order_by is not None):
        raise ConfigurationError(f"{name} pages by link only: it takes no select or order_by")
    aliases = _aliases(item_type)
    query = {k: str(v) for k, v in params.items() if v is not None}
    for option, text in (
        ("$select", select_param(select, aliases)),
        ("$orderby", orderby_param(order_by, aliases)),
    ):
        if text is not None:
            query[option] = text
    if select is not None:
        item_type = partial_model(item_type)
    if limit is not None and page_size is None and limit < largest and not link_only:
        page_size = max(limit, 1)
    return ListCall(
        op,
        expand_path(op, **path) if path else op.path,
        query,
        item_type,
        _page_adapter(cast(Any, item_type)),
        page_size,
        limit,
        largest,
        link_only,
    )


class SubList(Protocol[T]):
    """The builder of one item's sub-collection (``/machines/{id}/alerts``...): the item's id, then
    the options every list takes (as :func:`make_list`); ``filter`` is raw OData ``$filter``."""

    def __call__(
        self,
        id: str,
        /,
        *,
        filter: str | None = None,
        select: Names | None = None,
        order_by: Names | None = None,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> ListCall[T]: ...


def sub_list(name: str, item_type: type[T], doc: str) -> SubList[T]:
    """The :class:`SubList` builder of list operation *name* (a ``.../{id}/...`` path) with the
    method docstring *doc*: ``listing(sub_list(...))`` declares a family method returning a pager,
    so ``.all()``, iteration and ``.count()`` work as on the top-level lists."""

    def build(
        id: str,
        /,
        *,
        filter: str | None = None,
        select: Names | None = None,
        order_by: Names | None = None,
        page_size: int | None = None,
        limit: int | None = None,
    ) -> ListCall[T]:
        params = {"$filter": filter or None}
        return make_list(
            name, item_type, params, page_size=page_size, limit=limit, select=select, order_by=order_by, id=id
        )

    build.__doc__ = doc
    return build


def _aliases(item_type: Any) -> dict[str, str]:
    """The item model's snake_case field names -> their wire names (empty for a non-model type)."""
    if not (isinstance(item_type, type) and issubclass(item_type, MdeModel)):
        return {}
    return {n: f.alias for n, f in item_type.model_fields.items() if f.alias and f.alias != n}


def partial_model(model: type[T]) -> type[T]:
    """*model* for ``$select`` answers: a subclass whose required fields default to ``None``.

    A projection leaves out the properties not selected, ``id`` included if it was not asked for;
    the record is still a *model* (``isinstance`` holds, values are typed and parsed the same way),
    and ``model_fields_set`` names the properties the service returned. A model with no required
    field is returned unchanged.
    """
    return cast(type[T], _partial(cast(Any, model)))


@functools.cache
def _partial(model: Any) -> Any:
    if not (isinstance(model, type) and issubclass(model, MdeModel)):
        return model
    required = {n: f for n, f in model.model_fields.items() if f.is_required()}
    if not required:
        return model
    fields: dict[str, Any] = {
        n: (cast(Any, f.annotation) | None, FieldInfo(default=None, alias=f.alias))
        for n, f in required.items()
    }
    made: Any = create_model(model.__name__, __base__=model, __module__=model.__module__, **fields)
    made.__qualname__ = model.__qualname__
    made.__doc__ = (
        f"{model.__doc__ or model.__name__}\n\n(A ``$select`` projection: unselected fields are None.)"
    )
    return made


def parse_page(reply: Reply, item_type: Any) -> tuple[list[Any], Any]:
    """(items, body-with-nextLink) of one list page.

    Fast path: pydantic-core parses and validates the page bytes in one pass (no ``json.loads``
    dicts in between). A page with an odd record falls back to per-item lenient validation. A body
    that is not JSON (truncated, malformed) or has no ``value`` array is an :class:`ApiError`.
    """
    try:
        with paused_gc():  # the page's records are acyclic: collections would only cost time
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
    nxt = next_cursor(cursor, body, len(items), max_page=call.max_page, link_only=call.link_only)
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


class Walk(Generic[T]):
    """The paging state of one listing (cursor, items seen, resume token), shared by both pagers and
    by flows that read a whole listing (``while (page := walk.next()) is not None: yield from page``)."""

    def __init__(self, call: ListCall[T], start: str | None, opts: Options) -> None:
        self.call, self.opts = call, opts
        self.cursor: Cursor | None = _start(call, start)
        self.seen = 0

    def next(self) -> Flow[Page[T]] | None:
        """The flow fetching the next page, or ``None`` after the last one."""
        return None if self.cursor is None else self._fetch(self.cursor)

    def _fetch(self, cursor: Cursor) -> Flow[Page[T]]:
        reply = yield from self.request(cursor)
        return self.finish(cursor, reply)

    def request(self, cursor: Cursor) -> Flow[Reply]:
        """The flow fetching the page at *cursor*, unparsed."""
        from mdekit.client.flow import page_flow

        return page_flow(self.call.op, cursor.path, cursor.query(), self.opts)

    def finish(self, cursor: Cursor, reply: Reply) -> Page[T]:
        """The page *reply* answered for *cursor*, parsed; the walk moves past it."""
        items, nxt = _cut(self.call, cursor, reply, self.seen)
        self.seen += len(items)
        self.cursor = nxt
        return Page(items, nxt.token() if nxt else None)

    def guess(self, cursor: Cursor, reply: Reply) -> Cursor | None:
        """The page after *cursor* as its unparsed *reply* announces it (:func:`link_ahead`), unless
        ``limit`` may end the listing with this page (a request it would not need)."""
        call = self.call
        if call.limit is not None and self.seen + max(call.max_page, call.page_size or 0) >= call.limit:
            return None
        return link_ahead(cursor, reply.content)


def _handed(page: Page[T]) -> Flow[Page[T]]:
    """A flow of no step returning *page*: a page the pager hands over passes through the client's
    ``run`` like any result (where the blocking client binds machine actions to itself)."""
    return page
    yield  # a generator: the flow protocol


def _next_order(plan: Generator[Order, Reply | None, None], answer: Reply | None) -> Order | None:
    """The plan's next order (*answer*: the reply a ``wait`` asked for), ``None`` when it is done."""
    try:
        return plan.send(answer)
    except StopIteration:
        return None


#: What :func:`read_ahead` asks its pager to do: ``start`` a request (a function building its flow),
#: ``wait`` for its reply (sent back in, body read), ``drop`` it, or hand a ``page`` to the caller.
Order: TypeAlias = tuple[Literal["start", "wait", "drop", "page"], Any]


def read_ahead(walk: Walk[T]) -> Generator[Order, Reply | None, None]:
    """The read-ahead plan both pagers follow (each performs the orders its own way:
    :class:`~mdekit.client.readahead.Ahead` / :class:`~mdekit.client.readahead.AsyncAhead`).

    Page N+1 is requested before page N is parsed when N's raw answer ends with its
    ``@odata.nextLink`` (:meth:`Walk.guess`), otherwise as soon as N is parsed (``$top``/``$skip``
    paging needs N's item count); either way before N is handed over, so the service works on it
    while the caller consumes N. A guess that the parsed page contradicts is dropped and the right
    request sent. One request at a time, in the walk's order: retries, rate limits, tokens and
    ``limit`` behave as without read-ahead.
    """
    cursor = walk.cursor
    if cursor is None:
        return
    yield "start", functools.partial(walk.request, cursor)
    while cursor is not None:
        reply = yield "wait", None
        assert reply is not None
        guess = walk.guess(cursor, reply)
        if guess is not None:
            yield "start", functools.partial(walk.request, guess)
        page = [walk.finish(cursor, reply)]  # a box: handed over below, not kept by this frame
        del reply
        cursor = walk.cursor
        if cursor != guess:
            if guess is not None:
                yield "drop", None
            if cursor is not None:
                yield "start", functools.partial(walk.request, cursor)
        yield "page", page.pop()


@functools.cache
def _count_operation(op: Operation) -> Operation | None:
    """The catalogue's ``/$count`` segment of list *op* (same resource, path + ``/$count``), if any."""
    wanted = op.path.lower() + "/$count"
    return next(
        (o for o in OPERATIONS.values() if o.resource == op.resource and o.path.lower() == wanted), None
    )


def count_flow(call: ListCall[Any], opts: Options) -> Flow[int]:
    """How many items *call* lists: its ``$filter`` only (not ``limit``, ``$top``, paging or ``$select``).

    Where the service has the list's ``/$count`` segment (the MDE lists: a bare number, the docs'
    own example [DD:exposed-apis-odata-samples]) that is asked; otherwise (Microsoft Graph, whose
    security lists document ``$count`` the query option) the first page with ``$count=true`` and
    ``$top=1``, read from ``@odata.count``. Graph's ``ConsistencyLevel: eventual`` header is for
    directory objects' advanced queries and is not sent.
    """
    from mdekit.client.flow import page_flow

    if call.link_only:
        raise ConfigurationError(f"{call.op.name} pages by link only: the service cannot count it")
    query = {k: v for k, v in call.params.items() if k == "$filter"}
    counter = _count_operation(call.op)
    if counter is not None:
        reply = yield from page_flow(counter, call.path.rstrip("/") + "/$count", query, opts)
        return _number(reply, reply.content.decode("utf-8", "replace").strip().lstrip("\ufeff"))
    reply = yield from page_flow(call.op, call.path, {**query, "$count": "true", "$top": "1"}, opts)
    body = reply.json()
    return _number(reply, body.get("@odata.count") if isinstance(body, dict) else None)


def _number(reply: Reply, value: Any) -> int:
    """*value* as a count; an answer that holds none is an :class:`ApiError`."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    excerpt = scrub(reply.content[:200].decode("utf-8", "replace"))
    raise ApiError("the count answer holds no number", status=reply.status, body=excerpt)


class Pager(Generic[T]):
    """A lazy listing: iterate items, or :meth:`pages` (resumable with ``start=token``)."""

    def __init__(self, client: SyncClient, call: ListCall[T]) -> None:
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
        """Fetch pages lazily, from the beginning or from a :attr:`Page.next_token`; the next page is
        requested while the caller consumes this one (:func:`read_ahead`)."""
        plan = read_ahead(Walk(self._call, start, self._client.options))
        ahead = Ahead(self._client.run)
        try:
            answer: Reply | None = None
            while (order := _next_order(plan, answer)) is not None:
                kind, arg = order
                answer = None
                if kind == "start":
                    ahead.start(arg)
                elif kind == "wait":
                    answer = ahead.wait()
                elif kind == "drop":
                    ahead.drop()
                else:
                    page = self._client.run(_handed(arg))
                    self.next_token = page.next_token
                    yield page
                    del page
                del order, arg  # nothing of a page stays alive here while the next one is fetched
        finally:
            ahead.close()
            plan.close()

    def all(self) -> list[T]:
        """Every item, as a list."""
        return list(self)

    def count(self) -> int:
        """How many items the listing's filters match, asked of the service (one request, no paging;
        ``limit`` does not cap it). See :func:`count_flow`."""
        return self._client.run(count_flow(self._call, self._client.options))


class AsyncPager(Generic[T]):
    """The async twin of :class:`Pager` (``async for``)."""

    def __init__(self, client: AsyncClient, call: ListCall[T]) -> None:
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
        """As :meth:`Pager.pages` (the request ahead is a task)."""
        plan = read_ahead(Walk(self._call, start, self._client.options))
        ahead = AsyncAhead(self._client.run)
        try:
            answer: Reply | None = None
            while (order := _next_order(plan, answer)) is not None:
                kind, arg = order
                answer = None
                if kind == "start":
                    await ahead.start(arg)
                elif kind == "wait":
                    answer = await ahead.wait()
                elif kind == "drop":
                    await ahead.drop()
                else:
                    page = await self._client.run(_handed(arg))
                    self.next_token = page.next_token
                    yield page
                    del page
                del order, arg
        finally:
            ahead.close()
            plan.close()

    async def all(self) -> list[T]:
        """Every item, as a list."""
        return [item async for item in self]

    async def count(self) -> int:
        """As :meth:`Pager.count`."""
        return await self._client.run(count_flow(self._call, self._client.options))


class Family(Generic[C]):
    """Base of an API family (``client.alerts``, ...), for the sync and the async client alike.

    ``Family[SyncClient]`` (on :class:`~mdekit.Defender`) methods return results;
    ``Family[AsyncClient]`` (on :class:`~mdekit.AsyncDefender`) methods return awaitables (and
    listings async pagers). A family reaches its client through the seam the protocols name.
    """

    def __init__(self, client: C) -> None:
        self._client: C = client


class _Declared(Generic[P, T]):
    """Shared machinery of the family-method descriptors: name, docs, signature, binding.

    ``__get__`` on a family instance returns the bound method; each subclass says (in typing-only
    overloads) what that method returns on the sync and on the async client, and how it runs.
    """

    #: Leading parameters of the wrapped function that callers do not pass (a flow's ``self``).
    _hidden = 0

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn
        self.__doc__ = fn.__doc__
        self._name = fn.__name__.lstrip("_")

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @functools.cached_property
    def __signature__(self) -> inspect.Signature:
        """The caller's parameters (the builder's return type is not the method's: left out)."""
        sig = inspect.signature(self._fn)
        params = list(sig.parameters.values())[self._hidden :]
        return sig.replace(parameters=params, return_annotation=inspect.Signature.empty)

    def __get__(self, family: Family[Any] | None, owner: type) -> Any:
        if family is None:
            return self
        method = functools.partial(self._invoke, family)
        method.__doc__, method.__signature__ = self.__doc__, self.__signature__  # type: ignore[attr-defined]
        method.__name__ = method.__qualname__ = self._name  # type: ignore[attr-defined]
        return method

    def _invoke(self, family: Family[Any], /, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


class endpoint(_Declared[P, T]):
    """A family method that runs the :class:`Call` its builder returns; the result is the parsed answer."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        super().__init__(build)
        self._build = build

    if TYPE_CHECKING:

        @overload
        def __get__(self, family: None, owner: type) -> Self: ...
        @overload
        def __get__(self, family: Family[SyncClient], owner: type) -> Callable[P, T]: ...
        @overload
        def __get__(
            self, family: Family[AsyncClient], owner: type
        ) -> Callable[P, Coroutine[Any, Any, T]]: ...
        def __get__(self, family: Any, owner: type) -> Any: ...  # _Declared.__get__ at run time

    def _invoke(self, family: Family[Any], /, *args: Any, **kwargs: Any) -> Any:
        return family._client.execute(self._build(*args, **kwargs))


class procedure(endpoint[P, T]):
    """A family method written as a flow (``self, *args -> Flow[T]``): several requests, sleeps or
    token look-ups in one piece of logic, run by the sync client blocking and by the async one
    awaited. The flow reaches the client through ``self._client`` (``options``, ``clock()``)."""

    _hidden = 1  # the family instance

    def __init__(self, flow: Callable[Concatenate[Any, P], Generator[Any, Any, T]]) -> None:
        _Declared.__init__(self, flow)
        self._flow = flow

    def _invoke(self, family: Family[Any], /, *args: Any, **kwargs: Any) -> Any:
        return family._client.run(self._flow(family, *args, **kwargs))


class listing(_Declared[P, T]):
    """A family method returning a lazy pager over the :class:`ListCall` its builder returns."""

    def __init__(self, build: Callable[P, ListCall[T]]) -> None:
        super().__init__(build)
        self._list = build

    if TYPE_CHECKING:

        @overload
        def __get__(self, family: None, owner: type) -> Self: ...
        @overload
        def __get__(self, family: Family[SyncClient], owner: type) -> Callable[P, Pager[T]]: ...
        @overload
        def __get__(self, family: Family[AsyncClient], owner: type) -> Callable[P, AsyncPager[T]]: ...
        def __get__(self, family: Any, owner: type) -> Any: ...  # _Declared.__get__ at run time

    def _invoke(self, family: Family[Any], /, *args: Any, **kwargs: Any) -> Any:
        return family._client.paginate(self._list(*args, **kwargs))


class downloading(_Declared[P, T]):
    """A family method returning the streamed rows of the file export its builder describes."""

    def __init__(self, build: Callable[P, FilesCall[T]]) -> None:
        super().__init__(build)
        self._files = build

    if TYPE_CHECKING:

        @overload
        def __get__(self, family: None, owner: type) -> Self: ...
        @overload
        def __get__(self, family: Family[SyncClient], owner: type) -> Callable[P, FileRows[T]]: ...
        @overload
        def __get__(self, family: Family[AsyncClient], owner: type) -> Callable[P, AsyncFileRows[T]]: ...
        def __get__(self, family: Any, owner: type) -> Any: ...  # _Declared.__get__ at run time

    def _invoke(self, family: Family[Any], /, *args: Any, **kwargs: Any) -> Any:
        return family._client.download(self._files(*args, **kwargs))
