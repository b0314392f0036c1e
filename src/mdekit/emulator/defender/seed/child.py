"""The child process of :mod:`mdekit.emulator.defender.seed.pipeline`: reads a pickled alert factory
and what to make from stdin, writes the chunks it makes (then what the factory counted) as pickles
to stdout."""

from __future__ import annotations

import pickle
import sys


def main() -> None:
    """Make the chunks and stream them."""
    factory, count, tenant, first_n = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    for part in factory.make(count, tenant, first_n):
        pickle.dump(("rows", part), out, protocol=pickle.HIGHEST_PROTOCOL)
    done = (factory.links, factory.incidents, factory.investigations)
    pickle.dump(("done", done), out, protocol=pickle.HIGHEST_PROTOCOL)
    out.flush()


if __name__ == "__main__":
    main()
