"""The child process of :mod:`mdekit.emulator.defender.seed.pipeline`: reads a pickled alert factory
and what to make from stdin, writes the chunks it makes (then what the factory counted) to stdout
as length-prefixed ``marshal`` frames (twice as fast as pickle for these tuples; the same
interpreter reads them)."""

from __future__ import annotations

import marshal
import pickle
import sys
from typing import IO, Any


def send(out: IO[bytes], value: Any) -> None:
    """One frame: 8-byte little-endian length, then ``marshal`` data."""
    data = marshal.dumps(value)
    out.write(len(data).to_bytes(8, "little"))
    out.write(data)


def main() -> None:
    """Make the chunks and stream them."""
    factory, count, tenant, first_n = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    for part in factory.make(count, tenant, first_n):
        send(out, ("rows", part.parts()))
    send(out, ("done", (factory.links, factory.incidents, factory.investigations)))
    out.flush()


if __name__ == "__main__":
    main()
