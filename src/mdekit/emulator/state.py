"""All of the emulator's state in one object: database, clock, signer, stores, journal, faults.

No HTTP here. Routes receive an :class:`EmulatorState` through ``request.app.state.emu`` and call
its stores; tests may drive the stores directly.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mdekit.emulator.clock import VirtualClock, check_time
from mdekit.emulator.datafile import translate
from mdekit.emulator.db import Database
from mdekit.emulator.defender.store import DefenderStore
from mdekit.emulator.entra.directory import DirectoryStore
from mdekit.emulator.entra.keys import TokenSigner
from mdekit.emulator.faults import FaultPlans
from mdekit.emulator.journal import RequestJournal

if TYPE_CHECKING:
    from mdekit.emulator.hunting.store import HuntingStore

__all__ = ["EmulatorState"]


def _saved_offset(db: Database) -> float:
    """The persisted clock offset; one outside the clock's range (an earlier version could store
    one) would fail every request, so it is dropped and the clock starts at real time."""
    offset = db.get_meta("clock_offset", 0.0)
    try:
        check_time(time.time() + float(offset))
    except (TypeError, ValueError):
        return 0.0
    return float(offset)


@dataclass
class EmulatorState:
    """The emulator's state; build one with :meth:`open`."""

    db: Database
    clock: VirtualClock
    signer: TokenSigner
    directory: DirectoryStore
    defender: DefenderStore
    faults: FaultPlans
    journal: RequestJournal = field(default_factory=RequestJournal)
    _hunting: HuntingStore | None = field(default=None, repr=False)

    @property
    def hunting(self) -> HuntingStore:
        """Per-tenant hunting tables, created on first use (the KQL engine is imported lazily)."""
        if self._hunting is None:
            from mdekit.emulator.hunting.store import HuntingStore

            self._hunting = HuntingStore(self)
        return self._hunting

    @classmethod
    def open(cls, path: str | Path | None = None, *, clock: VirtualClock | None = None) -> EmulatorState:
        """Open (or create) the state in SQLite file *path*; ``None`` keeps it in memory.

        The clock's offset is persisted, so a restarted emulator resumes at the same virtual time.
        """
        db = Database(path)
        try:
            if clock is None:
                clock = VirtualClock(offset=_saved_offset(db))
            directory = DirectoryStore(db, clock)
            defender = DefenderStore(db, clock)
            return cls(db, clock, TokenSigner(db), directory, defender, FaultPlans(clock))
        except sqlite3.DatabaseError as exc:  # damaged past its first page
            db.close()
            raise translate(Path(db.path), exc) from None
        except BaseException:
            db.close()
            raise

    def save_clock(self) -> None:
        """Persist the clock's offset (called after every clock change)."""
        self.db.set_meta("clock_offset", self.clock.offset)

    def reset(self) -> None:
        """Forget every tenant, app, Defender record, fault plan and journal entry."""
        self.defender.reset()
        self.directory.reset()
        if self._hunting is not None:
            self._hunting.reset()
        self.faults.clear()
        self.journal.clear()
        from mdekit.emulator.activity import save_plan

        save_plan(self, None)  # the activity generator stops too (issue 20)

    def close(self) -> None:
        """Stop the hunting workers and close the database."""
        if self._hunting is not None:
            self._hunting.close()
        self.db.close()
