"""Paging a 25,000-alert tenant: past 10,000, resumable, and through 429 storms with nothing lost.

Needs the emulated Defender API (issue 3); seeded once for the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mdekit.catalog import Limit, Operation
from mdekit.client.ratelimit import RateLimiter
from mdekit.client.retry import RetryPolicy

TOTAL = 25_000


@pytest.fixture(scope="module")
def big(env: Any, full_app: dict[str, Any]) -> dict[str, Any]:
    env.seed({"machines": 100, "alerts": TOTAL})
    return full_app


@pytest.fixture
def throttle(env: Any) -> Iterator[Any]:
    t = env.state.defender.throttle
    yield t
    t.reset()


def _ids(items: Any) -> list[str]:
    return [a.id for a in items]


def test_default_listing_reaches_past_10000(env: Any, big: dict[str, Any]) -> None:
    with env.client(big) as c:
        ids = _ids(c.alerts.list())
    assert len(ids) == TOTAL and len(set(ids)) == TOTAL


def test_pages_resume_from_token(env: Any, big: dict[str, Any]) -> None:
    with env.client(big) as c:
        pager = c.alerts.list(page_size=7000)
        pages = pager.pages()
        first = [next(pages), next(pages)]
        token = first[-1].next_token
        assert token and pager.next_token == token
        rest = list(c.alerts.list(page_size=7000).pages(start=token))
    ids = [a.id for p in first + rest for a in p.items]
    assert len(ids) == TOTAL and len(set(ids)) == TOTAL
    assert rest[-1].next_token is None and len(rest) == 2


def test_429_storm_loses_and_duplicates_nothing(env: Any, big: dict[str, Any], throttle: Any) -> None:
    throttle.configure(scale=0.03)  # alerts.list: 3 calls/min -> most pages meet a 429 first
    env.control.delete("/_emulator/requests")
    retry = RetryPolicy(max_attempts=30, max_total=1e6)
    with env.client(big, rate_limit=False, retry=retry) as c:
        ids = _ids(c.alerts.list(page_size=2500))
    statuses = [e["status"] for e in env.control.get("/_emulator/requests").json()["value"]]
    assert statuses.count(429) >= 3
    assert len(ids) == TOTAL and len(set(ids)) == TOTAL


def test_client_limiter_avoids_429(env: Any, big: dict[str, Any], throttle: Any) -> None:
    throttle.configure(scale=0.03)

    def scaled(op: Operation) -> Limit:
        lim = op.limit
        return Limit(*(None if v is None else max(1, int(v * 0.03)) for v in (lim.per_minute, lim.per_hour)))

    env.control.delete("/_emulator/requests")
    limiter = RateLimiter(env.state.clock.time, margin=0.5, limits=scaled)
    with env.client(big, rate_limit=limiter, retry=RetryPolicy(max_attempts=1)) as c:
        ids = _ids(c.alerts.list(page_size=2500))
    statuses = [e["status"] for e in env.control.get("/_emulator/requests").json()["value"]]
    assert len(set(ids)) == TOTAL and 429 not in statuses


@pytest.fixture
def faults(env: Any) -> Iterator[Any]:
    yield env.faults
    env.control.delete("/_emulator/faults")


def test_fault_plan_429_and_5xx_bursts_lose_nothing(env: Any, big: dict[str, Any], faults: Any) -> None:
    faults({"method": "GET", "path": "/api/alerts", "status": 503, "every": 2})
    faults({"method": "GET", "path": "/api/alerts", "status": 429, "retryAfter": 7, "every": 3})
    faults({"method": "GET", "path": "/api/alerts", "status": 500, "nth": 5})
    env.control.delete("/_emulator/requests")
    with env.client(big, retry=RetryPolicy(max_attempts=10, max_total=1e6)) as c:
        ids = _ids(c.alerts.list(page_size=2500))
    statuses = [e["status"] for e in env.control.get("/_emulator/requests").json()["value"]]
    assert {429, 500, 503} <= set(statuses)
    assert len(ids) == TOTAL and len(set(ids)) == TOTAL


def test_ordered_listing_by_links_and_by_skip_pages_agree(env: Any, big: dict[str, Any]) -> None:
    """Issue 19: an ordered listing past 10,000 follows keyset links (the sort keys in
    ``$skiptoken``); ``page_size=`` pages by ``$top``/``$skip`` (positions the server remembers):
    the same alerts in the same order, none lost or repeated."""
    with env.client(big) as c:
        linked = list(c.alerts.list(order_by="alertCreationTime desc"))
        skipped = list(c.alerts.list(order_by="alertCreationTime desc", page_size=7000))
    ids = _ids(linked)
    assert len(ids) == TOTAL and len(set(ids)) == TOTAL and _ids(skipped) == ids
    times = [a.alert_creation_time for a in linked]
    assert times == sorted(times, reverse=True)
