"""Page parsing on a 25,000-alert tenant: exactly the server's ids, one page alive, bad pages -> ApiError.

The client validates each page straight from its bytes and hands items out one by one, dropping
them from the page as it goes. These tests hold it to what a user sees: the same ids in the same
order as the raw pages (``@odata.nextLink`` and ``$top``/``$skip`` paths, sync in-process and async
over HTTPS), consumed records freed at once, and a truncated or malformed page raising a clean
:class:`~mdekit.errors.ApiError`, never a JSON or pydantic exception.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mdekit.client.defender import Defender
from mdekit.errors import ApiError

TOTAL = 25_000


@pytest.fixture(scope="module")
def big(env: Any, full_app: dict[str, Any]) -> dict[str, Any]:
    env.seed({"machines": 100, "alerts": TOTAL})
    return full_app


@pytest.fixture(autouse=True)
def no_quota(env: Any) -> Iterator[None]:
    """Quotas off: the raw reference reads have no retry loop (quotas have their own tests)."""
    env.state.defender.throttle.configure(enabled=False)
    yield
    env.state.defender.throttle.reset()


@pytest.fixture(scope="module")
def server_ids(env: Any, big: dict[str, Any]) -> list[str]:
    """The server's ids in order (the service's order is the same with nextLink or $top/$skip)."""
    env.state.defender.throttle.configure(enabled=False)
    ids = _raw_ids(env, big, None)
    assert len(ids) == TOTAL == len(set(ids))
    assert ids[:12_000] == _raw_ids(env, big, 6000)[:12_000]
    return ids


def _raw_ids(env: Any, app: dict[str, Any], page_size: int | None) -> list[str]:
    """The server's ids, in order, read with bare httpx + json (following nextLink, or $top/$skip)."""
    with env.client(app) as c:
        token = c.tokens.get().value
    ids: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=env.server.url, transport=env.asgi, headers=headers) as http:
        url: str | None = "/api/alerts" + (f"?$top={page_size}" if page_size else "")
        while url:
            body = http.get(url).json()
            ids += [a["id"] for a in body["value"]]
            if page_size is None:
                url = body.get("@odata.nextLink")
            elif len(body["value"]) == page_size:
                url = f"/api/alerts?$top={page_size}&$skip={len(ids)}"
            else:
                url = None
    return ids


@pytest.mark.parametrize("page_size", [None, 4000], ids=["nextLink", "top-skip"])
def test_listing_yields_exactly_the_server_ids_in_order(
    env: Any, big: dict[str, Any], server_ids: list[str], page_size: int | None
) -> None:
    with env.client(big) as c:
        got = [a.id for a in c.alerts.list(page_size=page_size)]
        paged = [a.id for p in c.alerts.list(page_size=page_size).pages() for a in p.items]
    assert got == server_ids and paged == server_ids


async def test_async_listing_over_https_yields_the_server_ids(
    env: Any, big: dict[str, Any], server_ids: list[str]
) -> None:
    async with env.aclient(big) as c:
        got = [a.id async for a in c.alerts.list()]
    assert got == server_ids


def test_limit_cuts_inside_a_page(env: Any, big: dict[str, Any], server_ids: list[str]) -> None:
    with env.client(big) as c:
        pager = c.alerts.list(limit=12_345)
        got = [a.id for a in pager]
    assert got == server_ids[:12_345] and pager.next_token is None


def test_consumed_items_are_freed_at_once(env: Any, big: dict[str, Any]) -> None:
    """A listing holds no reference to what the caller has let go of (constant memory)."""
    with env.client(big) as c:
        it = iter(c.alerts.list(page_size=2500))
        refs = [weakref.ref(next(it)) for _ in range(3000)]  # page 1 and part of page 2
    assert sum(r() is not None for r in refs) == 0


class _Mangling(httpx.BaseTransport):
    """Real emulator answers, with the body of the *nth* ``/api/alerts`` page replaced by ``mangle(body)``."""

    def __init__(self, inner: httpx.BaseTransport, nth: int, mangle: Callable[[bytes], bytes]) -> None:
        self.inner, self.nth, self.mangle, self.seen = inner, nth, mangle, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.inner.handle_request(request)
        if request.url.path != "/api/alerts":
            return resp
        self.seen += 1
        if self.seen != self.nth:
            return resp
        headers = [(k, v) for k, v in resp.headers.items() if k.lower() != "content-length"]
        return httpx.Response(resp.status_code, headers=headers, content=self.mangle(resp.read()))


BAD_PAGES: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda b: b[: len(b) // 2],
    "cut-after-an-item": lambda b: b[: b.index(b"},{", 1000) + 1],
    "not-utf8": lambda b: b[:100] + b"\xff\xfe" + b[102:],
    "garbage": lambda b: b"<html>502 Bad Gateway</html>",
    "no-value": lambda b: b'{"@odata.context": "x", "values": []}',
    "value-not-a-list": lambda b: b'{"value": {"id": "x"}}',
    "empty": lambda b: b"",
}


def _mangled_client(env: Any, app: dict[str, Any], transport: httpx.BaseTransport) -> Defender:
    return Defender.from_secret(
        app["tenant"],
        app["appId"],
        app["secret"],
        base_url=env.server.url,
        authority=env.server.url,
        transport=transport,
        token_transport=env.asgi,
        clock=env.state.clock.time,
        sleep=env.advance,
    )


def _assert_clean(err: ApiError, secret: str) -> None:
    assert type(err) is ApiError and err.status == 200  # not a JSONDecodeError / ValidationError
    assert ("not valid JSON" in str(err)) or ("no 'value' array" in str(err))
    assert "\n" not in str(err) and len(str(err)) < 300 and secret not in str(err)
    # no JSON/pydantic exception chained on (a traceback would show it)
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)


@pytest.mark.parametrize("kind", list(BAD_PAGES))
def test_bad_page_is_a_clean_api_error(env: Any, big: dict[str, Any], kind: str) -> None:
    seen: list[str] = []
    with (
        _mangled_client(env, big, _Mangling(env.asgi, nth=2, mangle=BAD_PAGES[kind])) as c,
        pytest.raises(ApiError) as info,
    ):
        seen.extend(a.id for a in c.alerts.list(page_size=500))
    assert len(seen) == 500  # the good first page was delivered in full, then the clean error
    _assert_clean(info.value, big["secret"])


def test_truncated_linked_page_is_a_clean_api_error(
    env: Any, big: dict[str, Any], server_ids: list[str]
) -> None:
    seen: list[str] = []
    with (
        _mangled_client(env, big, _Mangling(env.asgi, nth=2, mangle=BAD_PAGES["truncated"])) as c,
        pytest.raises(ApiError) as info,
    ):
        seen.extend(a.id for a in c.alerts.list())
    assert seen == server_ids[:10_000]
    _assert_clean(info.value, big["secret"])
