"""Pause the cyclic garbage collector while a list page is turned into records.

Validating a 10,000-item page allocates a few hundred thousand container objects (models, their
``__dict__``, field sets, nested records, lists), none of them part of a reference cycle. Each
700 allocations trigger a young-generation collection that walks every young object, and the
records that survive it pile up towards a full collection: measured on a 10,000-alert page, the
collector doubled the cost of a page (16 µs an alert with it, 8 µs without). The objects are
acyclic, so pausing it loses nothing: the collector resumes afterwards and runs as usual.

When the pause ends, the page's records move straight to the oldest generation: ``gc.freeze()``
then ``gc.unfreeze()`` (two list splices, whatever their length). Otherwise the first
young-generation collection after the pause would walk every record of the page (~115,000
tracked objects: a third of the page's cost again), and the next one up would walk them again;
the records are freed by reference counting as the caller drops them, and never needed it.
Young objects of the caller's own are moved too: a cycle among them is collected by the next full
collection instead of a young one. Objects someone else froze stay frozen: with any in the
permanent generation the move is skipped.

The pause is process-wide (``gc`` has no per-thread switch): nested and concurrent pauses
(several pagers on threads) are counted, the collector comes back when the last one ends, and
only if it was enabled when the first one began (a caller's own ``gc.disable()`` is kept).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc"]

_lock = threading.Lock()
_depth = 0
_resume = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the ``with`` body with the cyclic garbage collector paused (see the module docstring)."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                if gc.get_freeze_count() == 0:  # nobody else's frozen objects to thaw
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()
