"""Run many request flows at once, at most *limit* at a time: a flow that multiplexes flows.

Flows (:mod:`mdekit.client.flow`) spend most of their time waiting (``Sleep`` while an action
runs); their requests are short. :func:`fan_out` is itself a flow: it steps up to *limit* child
flows, hands their requests to the driver one at a time, and when every running child is waiting
it yields one ``Sleep`` until the earliest wakes. So the sync client and the async client run a
fan-out with the driver they already have - one logic, no threads - and at no moment are more
than *limit* children started and unfinished (live response: the service's 25 sessions).

A child that fails with an :class:`~mdekit.errors.MdeError` does not stop the others: its
:class:`Outcome` carries the error. Anything else (a bug) propagates and closes every child.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from mdekit.client.flow import Sleep
from mdekit.errors import MdeError

__all__ = ["Outcome", "fan_out"]

K = TypeVar("K")
T = TypeVar("T")


@dataclass
class Outcome(Generic[K, T]):
    """One child's end: its *key*, and its result or the error it failed with."""

    key: K
    result: T | None = None
    error: MdeError | None = None

    @property
    def ok(self) -> bool:
        """True when the child returned a result."""
        return self.error is None


@dataclass
class _Child:
    pos: int
    key: Any
    flow: Generator[Any, Any, Any]
    wake: float = 0.0
    value: Any = None
    error: BaseException | None = field(default=None)


def fan_out(
    items: Iterable[tuple[K, Generator[Any, Any, T]]],
    *,
    limit: int,
    clock: Callable[[], float],
    on_done: Callable[[Outcome[K, T]], None] | None = None,
) -> Generator[Any, Any, list[Outcome[K, T]]]:
    """Run the ``(key, flow)`` pairs, at most *limit* at a time; their outcomes in input order.

    *clock* tells the time the children's ``Sleep`` steps are measured on (the client's clock);
    *on_done* is called as each child ends (progress reporting).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    waiting = deque(enumerate(items))
    outcomes: dict[int, Outcome[K, T]] = {}
    active: list[_Child] = []
    try:
        while waiting or active:
            while waiting and len(active) < limit:
                pos, (key, flow) = waiting.popleft()
                active.append(_Child(pos, key, flow, wake=clock()))
            now = clock()
            ready = [c for c in active if c.wake <= now]
            if not ready:
                yield Sleep(max(0.0, min(c.wake for c in active) - now))
                continue
            for child in ready:
                done = yield from _step(child, clock)
                if done is not None:
                    active.remove(child)
                    outcomes[child.pos] = done
                    if on_done is not None:
                        on_done(done)
        return [outcomes[i] for i in sorted(outcomes)]
    finally:
        for child in active:
            child.flow.close()


def _step(child: _Child, clock: Callable[[], float]) -> Generator[Any, Any, Outcome[Any, Any] | None]:
    """Run *child* until it sleeps (``None``) or ends (its :class:`Outcome`)."""
    while True:
        try:
            if child.error is not None:
                error, child.error = child.error, None
                step = child.flow.throw(error)
            else:
                step = child.flow.send(child.value)
        except StopIteration as stop:
            return Outcome(child.key, result=stop.value)
        except MdeError as exc:
            return Outcome(child.key, error=exc)
        child.value = None
        if isinstance(step, Sleep):
            child.wake = clock() + max(0.0, step.seconds)
            return None
        try:
            child.value = yield step  # a request (or token, or rate-limit slot) for the driver
        except MdeError as exc:  # what the driver throws in goes to the child that asked
            child.error = exc
