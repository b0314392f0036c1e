"""The collector pause around page parsing: always restored, nested pauses counted, the page's objects
moved to the oldest generation, a caller's own
``gc.disable()`` respected."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from mdekit.client.gcpause import paused_gc


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_inside_and_restored_after() -> None:
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_restored_when_the_body_raises() -> None:
    with pytest.raises(ValueError), paused_gc():
        raise ValueError("bad page")
    assert gc.isenabled()


def test_nested_pauses_resume_with_the_outermost() -> None:
    with paused_gc():
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner end does not resume it under the outer pause
    assert gc.isenabled()


def test_overlapping_pauses_resume_when_the_last_ends() -> None:
    first, second = paused_gc(), paused_gc()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # another pause (a pager on another thread) is still running
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_callers_own_disable_is_kept() -> None:
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_objects_made_during_the_pause_end_in_the_oldest_generation() -> None:
    gc.collect()
    with paused_gc():
        made = [[i] for i in range(5000)]  # tracked objects, as a page's records are
    assert gc.get_count()[0] < 100  # not waiting for a young collection to walk them
    assert gc.get_freeze_count() == 0  # moved to the oldest generation, not left frozen
    assert any(o is made for o in gc.get_objects(generation=2))


def test_objects_someone_froze_stay_frozen() -> None:
    kept = [[]]  # a tracked object, frozen below as a pre-fork server freezes its own
    gc.freeze()
    try:
        with paused_gc():
            pass
        assert gc.get_freeze_count() > 0
        assert not any(o is kept for o in gc.get_objects())  # still frozen: no generation holds it
    finally:
        gc.unfreeze()
    assert any(o is kept for o in gc.get_objects())
