"""Live status of a bulk action on stderr: what was sent, what changed, how far along, how long.

On a terminal: a rich progress display (``sent 3/10`` and, with ``--wait``, ``finished 1/10``,
each with elapsed time and ETA) with one line per status change printed above it. When stderr is
not a terminal (logs, CI): the same status lines, plain, each carrying the count and the ETA.
stdout is left alone: the result table (or JSON) comes after, as before.

::

    with Monitor("isolate", total=len(targets)) as monitor:
        monitor.sent("host1", "Pending", action_id)       # or an error / "Skipped"
        monitor.following(["host1", ...])                # --wait: the actions to follow
        monitor.changed("host1", "InProgress")           # a status change
        monitor.finished("host1", "Succeeded")           # terminal, timed out or failed to poll
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

__all__ = ["Monitor", "eta_text"]


def eta_text(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``: short and unambiguous."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


class Monitor:
    """Per-target progress of one bulk action (see the module docstring)."""

    def __init__(
        self, verb: str, total: int, *, live: bool | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        from mdekit.cli.output import is_tty

        self.verb = verb
        self.total = total
        self.clock = clock
        self.live = is_tty(sys.stderr) if live is None else live
        self.done = 0
        self.following_total = 0
        self.finished_count = 0
        self._started = clock()
        self._sent_at: dict[str, float] = {}  # open actions: when each was sent
        self._took: list[float] = []  # finished actions: how long each took
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> Monitor:
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(file=sys.stderr, highlight=False, markup=False, emoji=False)
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TextColumn("{task.fields[eta]}"),
                console=console, transient=True,
            )  # fmt: skip
            self._progress.start()
            self._tasks["sent"] = self._progress.add_task(f"{self.verb}: sent", total=self.total, eta="")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def sent(self, name: str, status: str, detail: str = "", *, opened: bool = False) -> None:
        """*name* was handled: an action created (*opened*; *detail* its id), skipped or failed."""
        self.done += 1
        if opened:
            self._sent_at[name] = self.clock()
        elapsed = self.clock() - self._started
        eta = elapsed / self.done * (self.total - self.done) if self.done < self.total else None
        self._advance("sent", eta)
        self._line(f"{name}: {status}" + (f" ({detail})" if detail else ""), f"{self.done}/{self.total}", eta)

    def following(self, names: list[str]) -> None:
        """``--wait``: the actions of *names* are now followed until they finish."""
        count = self.following_total = len(names)
        now = self.clock()
        for name in names:  # `mde actions wait`: nothing was sent here, time runs from now
            self._sent_at.setdefault(name, now)
        if self._progress is not None and count:
            self._tasks["finished"] = self._progress.add_task(f"{self.verb}: finished", total=count, eta="")
        elif count and not self.live:
            self._write(f"{self.verb}: waiting for {count} action(s) to finish")

    def changed(self, name: str, status: str, before: str | None) -> None:
        """A followed action moved from *before* to *status* (not finished yet)."""
        self._line(f"{name}: {before} -> {status}" if before else f"{name}: {status}", None, None)

    def finished(self, name: str, status: str, note: str = "") -> None:
        """A followed action is done following: terminal, timed out or no longer readable."""
        self.finished_count += 1
        sent_at = self._sent_at.pop(name, None)
        if sent_at is not None:
            self._took.append(self.clock() - sent_at)
        eta = self._finish_eta()
        self._advance("finished", eta)
        count = f"finished {self.finished_count}/{self.following_total}"
        self._line(f"{name}: {status}" + (f" ({note})" if note else ""), count, eta)

    def _finish_eta(self) -> float | None:
        """When the open actions should be done if each takes as long as the finished ones did."""
        if not self._took or not self._sent_at:
            return None
        typical = sum(self._took) / len(self._took)
        return max(0.0, max(self._sent_at.values()) + typical - self.clock())

    def _advance(self, task: str, eta: float | None) -> None:
        if self._progress is not None and task in self._tasks:
            shown = f"eta {eta_text(eta)}" if eta is not None else ""
            self._progress.update(self._tasks[task], advance=1, eta=shown)

    def _line(self, text: str, count: str | None, eta: float | None) -> None:
        if self.live:  # the bars carry count and ETA
            self._write(f"{self.verb} {text}")
            return
        extra = ", ".join(x for x in (count, f"eta {eta_text(eta)}" if eta is not None else None) if x)
        self._write(f"{self.verb} {text}" + (f"  [{extra}]" if extra else ""))

    def _write(self, line: str) -> None:
        from mdekit.cli.output import info, terminal_safe

        if self._progress is not None:
            from rich.text import Text

            self._progress.console.print(Text(terminal_safe(line)))
        else:
            info(line)
