"""A sync run in its own process, for the kill tests (``python sync_child.py CONFIG.json``).

The config names the emulator (URL, CA), the tenants (id, app id, secret), the sink URL, the
entities, the page size, the hunting row limit and whether the client's rate limiter is on. With
``"selfKill": p`` the process SIGKILLs itself with probability *p* at the sink's most delicate
instants: after a page's rows are written but before the checkpoint commits (SQL sinks), after the
file is appended but before the ledger commits (file sinks). The parent kills it at random times as well.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
from typing import Any

from mdekit.client.defender import Defender
from mdekit.sync.engine import Syncer
from mdekit.sync.entities import parse_entities
from mdekit.sync.sinks import open_sink
from mdekit.sync.source import Source


def _die_sometimes(obj: Any, name: str, p: float, rng: random.Random) -> None:
    original = getattr(obj, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if rng.random() < p:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(obj, name, wrapped)


def main() -> None:
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    sink = open_sink(cfg["sink"])
    rng = random.Random()
    if cfg.get("selfKill"):
        hook = "_write" if hasattr(sink, "ledger") else "_upsert"
        _die_sometimes(sink, hook, cfg["selfKill"], rng)
    sources = [
        Source(
            t["tenant"],
            Defender.from_secret(
                t["tenant"],
                t["appId"],
                t["secret"],
                base_url=cfg["url"],
                authority=cfg["url"],
                verify=cfg["ca"],
                rate_limit=cfg.get("rateLimit", True),
            ),
            page_size=cfg["pageSize"],
            hunting_row_limit=cfg.get("huntingRowLimit"),
        )
        for t in cfg["tenants"]
    ]
    Syncer(sink, sources, parse_entities(cfg["entities"])).run_once()
    sink.close()
    print("done", flush=True)


if __name__ == "__main__":
    main()
