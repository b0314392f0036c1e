"""One `mde sync` worker in its own process, for the multi-worker tests.

``python worker_child.py CONFIG.json OWNER``: the config names the emulator, the tenants, the
PostgreSQL URL, the lease time and the page size; the worker runs until every tenant finished a
pass since it started. Pages are slowed by ``pageDelay`` seconds so a test can kill it mid-pass.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from mdekit.client.defender import Defender
from mdekit.sync.entities import parse_entities
from mdekit.sync.sinks.postgres import PostgresSink
from mdekit.sync.source import Source
from mdekit.sync.worker import Worker


def main() -> None:
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    owner = sys.argv[2]
    sink = PostgresSink(cfg["sink"])
    delay = float(cfg.get("pageDelay", 0))
    sources = {}
    for t in cfg["tenants"]:
        client = Defender.from_secret(
            t["tenant"], t["appId"], t["secret"], base_url=cfg["url"], authority=cfg["url"], verify=cfg["ca"]
        )
        sources[t["tenant"]] = Source(t["tenant"], client, page_size=cfg["pageSize"])
    worker = Worker(sink, sources, parse_entities(cfg["entities"]), owner, ttl=cfg["ttl"], idle=0.2)
    if delay:
        original = worker._renew

        def slowed(tenant: str) -> Any:
            renew = original(tenant)

            def on_page(result: Any) -> None:
                time.sleep(delay)
                renew(result)

            return on_page

        worker._renew = slowed  # type: ignore[method-assign]
    worker.run(once=True)
    print(json.dumps({"owner": owner, "synced": worker.synced}), flush=True)
    sink.close()


if __name__ == "__main__":
    main()
