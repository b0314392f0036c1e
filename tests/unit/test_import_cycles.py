"""No import cycles among mdekit's modules, but the known ones listed here (which can only shrink).

Every import counts, also one inside a function or under ``TYPE_CHECKING``: a cycle there is still
two modules that cannot be understood (or changed) one without the other. The layer contracts are
in pyproject.toml (``[tool.importlinter]``, run by ``lint-imports``); this is the finer check.
"""

from __future__ import annotations

from collections.abc import Iterator

import grimp
import pytest

#: Cycles known today, each the exact set of modules that import each other in a circle (a
#: strongly connected component of the import graph). Each has an owner who is removing it; the
#: test fails when one disappears or changes, so delete (or shrink) the entry then.
KNOWN_CYCLES: list[frozenset[str]] = []  # none left (the client and hunting cycles are gone)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("mdekit", cache_dir=None)


def _cycles(graph: grimp.ImportGraph) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def successors(module: str) -> Iterator[str]:
        return iter(sorted(graph.find_modules_directly_imported_by(module)))

    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, successors(root))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, successors(child)))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def _describe(graph: grimp.ImportGraph, cycle: frozenset[str]) -> str:
    edges = [
        f"{a} -> {b}"
        for a in sorted(cycle)
        for b in sorted(graph.find_modules_directly_imported_by(a) & cycle)
    ]
    return "\n  ".join(edges)


def test_cycle_finder_finds_a_cycle() -> None:
    # the finder itself: a two-module circle and a three-module one are found, a chain is not
    g = grimp.ImportGraph()
    edges = ["a b", "b a", "c d", "d e", "e c", "f a"]
    for a, b in (e.split() for e in edges):
        g.add_import(importer=f"p.{a}", imported=f"p.{b}")
    assert sorted(map(sorted, _cycles(g))) == [["p.a", "p.b"], ["p.c", "p.d", "p.e"]]


def test_no_new_import_cycle(graph: grimp.ImportGraph) -> None:
    new = [c for c in _cycles(graph) if c not in KNOWN_CYCLES]
    assert not new, "import cycles (break them; modules that import each other):\n  " + "\n\n  ".join(
        _describe(graph, c) for c in new
    )


def test_known_cycles_still_exist(graph: grimp.ImportGraph) -> None:
    current = _cycles(graph)
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in current]
    assert not gone, f"these known cycles are gone or changed: update KNOWN_CYCLES: {gone}"
