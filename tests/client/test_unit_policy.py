"""Retry policy, rate limiter and token provider - deterministic, no network, no real sleeping."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

import pytest

from mdekit.catalog import operation
from mdekit.client.ratelimit import RateLimiter, bucket_key
from mdekit.client.retry import RetryPolicy
from mdekit.client.tokens import TokenProvider
from mdekit.errors import AuthenticationError, MdeError


class FakeClock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_retry_honours_retry_after_and_caps_it() -> None:
    p = RetryPolicy(max_retry_after=60)
    assert p.delay(1, 0, status=429, retry_after=5) == 5
    assert p.delay(1, 0, status=429, retry_after=61) is None


def test_retry_backoff_exponential_with_jitter_bounds() -> None:
    p = RetryPolicy(backoff=1, max_backoff=8, jitter=False, max_attempts=10)
    assert [p.delay(a, 0, status=503) for a in range(1, 6)] == [1, 2, 4, 8, 8]
    j = RetryPolicy(backoff=1, max_backoff=8, rng=random.Random(1), max_attempts=10)
    assert all(0 <= (j.delay(a, 0) or 0) <= min(8, 2 ** (a - 1)) for a in range(1, 8))


def test_retry_limits() -> None:
    p = RetryPolicy(max_attempts=3, max_total=10, jitter=False, backoff=4)
    assert p.delay(3, 0, status=500) is None  # attempts exhausted
    assert p.delay(1, 8, status=500) is None  # total time exhausted
    assert p.delay(1, 0, status=404) is None  # not retryable


def test_rate_limiter_runs_at_exactly_the_limit() -> None:
    clock = FakeClock()
    lim = RateLimiter(clock, margin=0)
    op = operation("alerts.list")
    sent: list[float] = []
    for _ in range(450):
        clock.t += lim.reserve(op)
        sent.append(clock.t)
    # never more than 100 in any 60 s window, and 450 calls take just over 4 minutes
    assert all(sent[i + 100] - sent[i] >= 60 for i in range(len(sent) - 100))
    assert sent[-1] - sent[0] == pytest.approx(240, abs=1)


def test_rate_limiter_hourly_limit_and_separate_buckets() -> None:
    clock = FakeClock()
    lim = RateLimiter(clock, margin=0)
    op = operation("actions.package_uri")  # 2/min, 120/h
    delays = [lim.reserve(op) for _ in range(3)]
    assert delays[:2] == [0, 0] and delays[2] == pytest.approx(60)
    assert lim.reserve(operation("alerts.get")) == 0  # another bucket
    assert bucket_key(operation("alerts.list")) == bucket_key(operation("alerts.get"))
    assert bucket_key(operation("alerts.batch_update")) != bucket_key(operation("alerts.list"))


def test_rate_limiter_shared_by_threads() -> None:
    clock = FakeClock()
    lim = RateLimiter(clock, margin=0)
    op = operation("machines.list")
    slots: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            d = lim.reserve(op)
            with lock:
                slots.append(clock.t + d)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slots.sort()
    assert len(slots) == 300
    assert all(slots[i + 100] - slots[i] >= 60 for i in range(200))


@dataclass
class _Tok:
    token: str
    expires_on: float


class CountingCredential:
    def __init__(self, clock: FakeClock, lifetime: float = 3600) -> None:
        self.clock, self.lifetime, self.calls = clock, lifetime, 0
        self.lock = threading.Lock()

    def get_token(self, *scopes: str) -> _Tok:
        with self.lock:
            self.calls += 1
            n = self.calls
        threading.Event().wait(0.01)  # widen the race window
        return _Tok(f"tok{n}", self.clock.t + self.lifetime)


def test_token_cached_refreshed_with_skew_and_no_stampede() -> None:
    clock = FakeClock()
    cred = CountingCredential(clock)
    tp = TokenProvider(cred, "s/.default", clock=clock, skew=300)
    threads = [threading.Thread(target=tp.get) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cred.calls == 1
    assert tp.get().value == "tok1"
    clock.t += 3600 - 301
    assert tp.get().value == "tok1"
    clock.t += 2  # inside the skew window
    assert tp.get().value == "tok2" and cred.calls == 2


def test_token_force_refresh_after_rejection() -> None:
    clock = FakeClock()
    cred = CountingCredential(clock)
    tp = TokenProvider(cred, "s", clock=clock)
    first = tp.get()
    assert tp.get(stale=first).value == "tok2"
    assert tp.get(stale=first).value == "tok2"  # a second caller with the same stale token: no new request
    assert cred.calls == 2


def test_token_errors_are_translated() -> None:
    class Broken:
        def get_token(self, *scopes: str) -> object:
            raise RuntimeError("AADSTS7000215: Invalid client secret provided.\nmore")

    with pytest.raises(AuthenticationError) as info:
        TokenProvider(Broken(), "s").get()
    assert "secret" in (info.value.hint or "")
    assert isinstance(info.value, MdeError)

    class Same:
        def get_token(self, *scopes: str) -> _Tok:
            return _Tok("same", 9e18)

    tp = TokenProvider(Same(), "s")
    first = tp.get()  # the same token back after a refusal: the request flow explains it
    assert tp.get(stale=first).value == "same" and tp.requests == 2
