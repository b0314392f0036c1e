"""The KQL scalar function table: name -> a compiler from argument nodes to SQL (see :mod:`.scalars`).

The functions live in ``fn_text``, ``fn_time``, ``fn_dynamic`` and ``fn_misc``; this module only
joins their tables. To add a function, add it to the table of its kind (and a corpus case).
"""

from __future__ import annotations

from mdekit.emulator.hunting.fn_dynamic import DYNAMIC_FUNCTIONS
from mdekit.emulator.hunting.fn_misc import MISC_FUNCTIONS
from mdekit.emulator.hunting.fn_text import TEXT_FUNCTIONS
from mdekit.emulator.hunting.fn_time import TIME_FUNCTIONS
from mdekit.emulator.hunting.scalars import Fn

__all__ = ["FUNCTIONS"]

FUNCTIONS: dict[str, Fn] = {**TEXT_FUNCTIONS, **TIME_FUNCTIONS, **DYNAMIC_FUNCTIONS, **MISC_FUNCTIONS}
