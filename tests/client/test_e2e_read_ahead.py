"""Read-ahead paging: the next page is requested while the caller consumes this one, and nothing a
user sees changes - the same items, errors where they were, no thread or connection left behind.

Real emulator answers throughout; the transports below only watch the requests or cut a body short
(a failure the emulator cannot produce on purpose).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mdekit.catalog import GRAPH, MDE
from mdekit.client.base import ListCall, Page, Walk, read_ahead
from mdekit.client.core import Reply
from mdekit.client.defender import Defender
from mdekit.client.paging import Cursor, first_cursor, link_ahead

TOTAL = 25_000


@pytest.fixture(scope="module")
def big(env: Any, full_app: dict[str, Any]) -> dict[str, Any]:
    env.seed({"machines": 50, "alerts": TOTAL})
    return full_app


@pytest.fixture(autouse=True)
def no_quota(env: Any) -> Iterator[None]:
    env.state.defender.throttle.configure(enabled=False)
    yield
    env.state.defender.throttle.reset()


@pytest.fixture(scope="module")
def server_ids(env: Any, big: dict[str, Any]) -> list[str]:
    """The server's ids in order, read without read-ahead (``Walk.next`` flows, one after another)."""
    env.state.defender.throttle.configure(enabled=False)
    with env.client(big) as c:
        call = c.alerts.list()._call
        walk = Walk(call, None, c.options)
        ids: list[str] = []
        while (flow := walk.next()) is not None:
            ids += [a.id for a in c.run(flow).items]
    assert len(ids) == TOTAL == len(set(ids))
    return ids


class _Watching(httpx.BaseTransport):
    """Real answers; counts the ``/api/alerts`` requests, sets ``second`` when the second arrives,
    and with *cut* set serves the *cut*-th one with a body that breaks off halfway."""

    def __init__(self, inner: httpx.BaseTransport, cut: int | None = None) -> None:
        self.inner, self.cut, self.seen = inner, cut, 0
        self.second = threading.Event()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.inner.handle_request(request)
        if request.url.path != "/api/alerts":
            return resp
        with self._lock:
            self.seen += 1
            nth = self.seen
        if nth == 2:
            self.second.set()
        if nth != self.cut:
            return resp
        body = resp.read()
        headers = [(k, v) for k, v in resp.headers.items() if k.lower() != "content-length"]
        return httpx.Response(resp.status_code, headers=headers, stream=_Broken(body[: len(body) // 2]))


class _Broken(httpx.SyncByteStream):
    """A body that stops with a read error after *head*."""

    def __init__(self, head: bytes) -> None:
        self.head = head

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        raise httpx.ReadError("connection reset by peer")


def _client(env: Any, app: dict[str, Any], transport: httpx.BaseTransport) -> Defender:
    return Defender.from_secret(
        app["tenant"], app["appId"], app["secret"], base_url=env.server.url, authority=env.server.url,
        transport=transport, token_transport=env.asgi, clock=env.state.clock.time, sleep=env.advance,
    )  # fmt: skip


def _helpers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "mdekit-page-ahead"]


def test_the_next_page_is_requested_before_this_one_is_consumed(env: Any, big: dict[str, Any]) -> None:
    watch = _Watching(env.asgi)
    with _client(env, big, watch) as c:
        it = iter(c.alerts.list())
        first = next(it)  # one item of page 1 taken: page 2 is on its way already
        assert watch.second.wait(timeout=60)
        rest = [a.id for a in it]
    assert len(rest) == TOTAL - 1 and first.id not in rest
    assert watch.seen == 3  # 25,000 alerts in 10,000-alert pages: no request more than without read-ahead


def test_a_body_cut_short_is_fetched_again(env: Any, big: dict[str, Any], server_ids: list[str]) -> None:
    watch = _Watching(env.asgi, cut=2)  # page 2, requested ahead, breaks off halfway
    with _client(env, big, watch) as c:
        got = [a.id for a in c.alerts.list()]
    assert got == server_ids
    assert watch.seen == 4  # page 2 twice


def test_an_abandoned_listing_leaves_no_helper_and_no_connection(env: Any, big: dict[str, Any]) -> None:
    watch = _Watching(env.asgi)
    with _client(env, big, watch) as c:
        for _ in c.alerts.list():
            break  # the generator closes here, with page 2 requested ahead
        assert watch.second.wait(timeout=60)
    for helper in _helpers():
        helper.join(timeout=60)
    assert not _helpers() and watch.seen == 2  # nothing requested after the abandoned read-ahead
    # (an unclosed connection or response would fail the test: ResourceWarning is an error here)


def test_a_listing_whose_token_is_resumed_reads_ahead_from_there(
    env: Any, big: dict[str, Any], server_ids: list[str]
) -> None:
    with env.client(big) as c:
        pages = c.alerts.list().pages()
        token = next(pages).next_token
        pages.close()
        assert token is not None
        got = [a.id for p in c.alerts.list().pages(start=token) for a in p.items]
    assert got == server_ids[10_000:]


async def test_async_listing_reads_ahead_and_stops_cleanly(
    env: Any, big: dict[str, Any], server_ids: list[str]
) -> None:
    async with env.aclient(big) as c:
        got = [a.id async for a in c.alerts.list()]
        pages = c.alerts.list().pages()
        async for _ in pages:
            break  # the request ahead is cancelled with the generator
        await pages.aclose()
    assert got == server_ids


# -- the plan, without I/O ---------------------------------------------------------------------


class _Walk(Walk[Any]):
    """A walk over three pages whose guesses are given (a wrong one must be dropped)."""

    def __init__(self, guesses: list[Cursor | None]) -> None:
        self.cursor: Cursor | None = Cursor("/p", {"n": "0"}, link=True)
        self.seen, self.guesses = 0, guesses

    def request(self, cursor: Cursor) -> Any:
        return cursor  # the plan hands it on unchanged: the test reads it back

    def finish(self, cursor: Cursor, reply: Reply) -> Page[Any]:
        n = int(cursor.params["n"])
        self.cursor = Cursor("/p", {"n": str(n + 1)}, link=True) if n < 2 else None
        return Page([n], None)

    def guess(self, cursor: Cursor, reply: Reply) -> Cursor | None:
        return self.guesses.pop(0)


def _orders(walk: Walk[Any]) -> list[tuple[str, Any]]:
    plan, out, answer = read_ahead(walk), [], None
    while True:
        try:
            kind, arg = plan.send(answer)
        except StopIteration:
            return out
        answer = Reply(200, {}, b"") if kind == "wait" else None
        out.append((kind, arg() if kind == "start" else arg.items if kind == "page" else None))


def _at(n: int) -> Cursor:
    return Cursor("/p", {"n": str(n)}, link=True)


def test_plan_requests_a_right_guess_before_parsing_and_drops_a_wrong_one() -> None:
    orders = _orders(_Walk([_at(1), _at(7), None]))
    assert orders == [
        ("start", _at(0)), ("wait", None),
        ("start", _at(1)), ("page", [0]), ("wait", None),  # guessed right: sent before page 0 was parsed
        ("start", _at(7)), ("drop", None), ("start", _at(2)), ("page", [1]), ("wait", None),  # wrong
        ("page", [2]),  # no guess and no page after: nothing more requested
    ]  # fmt: skip


def test_link_ahead_reads_the_answers_last_member_only() -> None:
    start = first_cursor("/api/alerts", {}, None)
    tail = b'{"value": [{"id": "a"}], "@odata.nextLink": "https://h/api/alerts?$skiptoken=x%20y"}\n'
    assert link_ahead(start, tail) == Cursor("/api/alerts", {"$skiptoken": "x y"}, link=True)
    inside = b'{"value": [{"note": "\\"@odata.nextLink\\": \\"https://h/api/x\\"}"}]}'
    assert link_ahead(start, inside) is None
    graph = b'{"@odata.context": "c", "@odata.count": 7, "@odata.nextLink": "https://h/a?$skiptoken=g",'
    assert link_ahead(start, graph + b' "value": []}') == Cursor("/a", {"$skiptoken": "g"}, link=True)
    nested = b'{"value": [{"@odata.nextLink": "https://h/api/alerts?$skiptoken=x"}]}'
    assert link_ahead(start, nested) is None  # a record's member, not the answer's
    later = b'{"value": [], "more": 1, "@odata.nextLink": "https://h/api/x", "other": 2}'
    assert link_ahead(start, later) is None  # neither first nor last: found once the page is parsed
    assert link_ahead(start, b'{"value": []}') is None


def test_limit_ending_the_listing_on_this_page_sends_no_guess(env: Any, big: dict[str, Any]) -> None:
    watch = _Watching(env.asgi)
    with _client(env, big, watch) as c:
        got = [a.id for a in c.alerts.list(limit=15_000)]
    assert len(got) == 15_000 and watch.seen == 2


@pytest.mark.parametrize("api", ["mde", "graph"])
def test_walk_guess_is_the_parsed_next_cursor(env: Any, big: dict[str, Any], api: str) -> None:
    """The MDE API puts the link last, Graph before ``value``: both are read ahead."""
    graph_role = {"resource": GRAPH.identifier_uris[0], "role": "SecurityAlert.Read.All"}
    with env.client(env.app([*MDE.roles, graph_role])) as c:
        call: ListCall[Any] = c.alerts.list(api=api)._call
        walk = Walk(call, None, c.options)
        start = walk.cursor
        assert start is not None
        reply = c.run(walk.request(start))
        guess = walk.guess(start, reply)
        walk.finish(start, reply)
    assert guess is not None and guess == walk.cursor
