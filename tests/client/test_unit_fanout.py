"""fan_out: many flows, at most N at once, driven by one plain driver loop on a fake clock."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from mdekit.client.fanout import Outcome, fan_out
from mdekit.client.flow import Sleep
from mdekit.errors import MdeError, NotFoundError


class FakeDriver:
    """Performs the steps a flow yields: ``("req", name)`` answers ``"ok:name"``, Sleep moves the clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.log: list[tuple[float, Any]] = []

    def clock(self) -> float:
        return self.now

    def run(self, flow: Generator[Any, Any, Any]) -> Any:
        value: Any = None
        while True:
            try:
                step = flow.send(value)
            except StopIteration as stop:
                return stop.value
            if isinstance(step, Sleep):
                self.now += step.seconds
                value = None
            else:
                self.log.append((self.now, step))
                value = f"ok:{step[1]}"


def session(name: str, seconds: float, fail: bool = False) -> Generator[Any, Any, str]:
    started = yield ("req", f"{name}/start")
    yield Sleep(seconds)
    if fail:
        raise NotFoundError(f"{name} failed", status=404)
    finished = yield ("req", f"{name}/end")
    return f"{started}+{finished}"


def _open_at_most(log: list[tuple[float, Any]]) -> int:
    open_now, peak = 0, 0
    for _, (_, name) in log:
        open_now += 1 if name.endswith("/start") else -1 if name.endswith("/end") else 0
        peak = max(peak, open_now)
    return peak


def test_runs_every_flow_at_most_limit_at_a_time_and_keeps_input_order() -> None:
    driver = FakeDriver()
    items = [(f"m{i}", session(f"m{i}", seconds=10 + i % 3)) for i in range(12)]
    done: list[str] = []
    outcomes = driver.run(fan_out(items, limit=4, clock=driver.clock, on_done=lambda o: done.append(o.key)))
    assert [o.key for o in outcomes] == [f"m{i}" for i in range(12)]
    assert all(o.ok and o.result == f"ok:{o.key}/start+ok:{o.key}/end" for o in outcomes)
    assert _open_at_most(driver.log) == 4
    assert sorted(done) == sorted(o.key for o in outcomes)
    # waits overlap: 12 sessions of 10-12 s, 4 at a time, take 3 rounds, not 12
    assert 30 <= driver.now <= 36


def test_a_failing_flow_is_an_outcome_not_an_abort() -> None:
    driver = FakeDriver()
    items = [("a", session("a", 5)), ("b", session("b", 5, fail=True)), ("c", session("c", 5))]
    outcomes = driver.run(fan_out(items, limit=2, clock=driver.clock))
    assert [(o.key, o.ok) for o in outcomes] == [("a", True), ("b", False), ("c", True)]
    assert isinstance(outcomes[1].error, NotFoundError) and outcomes[1].result is None


def test_driver_errors_go_to_the_flow_that_asked() -> None:
    def handles() -> Generator[Any, Any, str]:
        try:
            yield ("req", "x")
        except MdeError as exc:
            return f"handled {exc}"
        return "no error"

    class Failing(FakeDriver):
        def run(self, flow: Generator[Any, Any, Any]) -> Any:
            step = flow.send(None)
            assert step == ("req", "x")
            try:
                flow.throw(MdeError("no token"))
            except StopIteration as stop:
                return stop.value
            raise AssertionError("the fan-out should have finished")

    driver = Failing()
    outcomes: list[Outcome[str, str]] = driver.run(fan_out([("k", handles())], limit=1, clock=driver.clock))
    assert outcomes[0].result == "handled no token"


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        next(fan_out([], limit=0, clock=lambda: 0.0))
