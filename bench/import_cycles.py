"""Package import cycles among calbridge's top-level packages (issue 12's measure).

Prints each pair of top-level packages that import each other (directly or through
others) and every elementary cycle between packages, from grimp's import graph:
`python bench/import_cycles.py`.
"""

from __future__ import annotations

import itertools
import sys

import grimp


def package_edges(graph: grimp.ImportGraph, root: str) -> dict[str, set[str]]:
    """Which top-level package imports which (only packages, not single modules)."""
    tops = sorted(m for m in graph.find_children(root) if graph.find_children(m))
    edges: dict[str, set[str]] = {t: set() for t in tops}
    for a, b in itertools.permutations(tops, 2):
        if graph.direct_import_exists(importer=a, imported=b, as_packages=True):
            edges[a].add(b)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Elementary cycles (each listed once, starting at its smallest name)."""
    found: list[list[str]] = []

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(edges[node]):
            if nxt == start:
                found.append([*path])
            elif nxt > start and nxt not in path:
                walk(start, nxt, [*path, nxt])

    for start in sorted(edges):
        walk(start, start, [start])
    return found


def main() -> int:
    root = "calbridge"
    graph = grimp.build_graph(root)
    edges = package_edges(graph, root)
    short = {t: t.removeprefix(root + ".") for t in edges}
    mutual = [(a, b) for a, b in itertools.combinations(sorted(edges), 2)
              if b in edges[a] and a in edges[b]]  # fmt: skip
    print(f"packages: {len(edges)}")
    print(f"mutual direct imports (A imports B and B imports A): {len(mutual)}")
    for a, b in mutual:
        print(f"  {short[a]} <-> {short[b]}")
    found = cycles(edges)
    print(f"elementary package cycles: {len(found)}")
    for cycle in sorted(found, key=len)[:40]:
        print("  " + " -> ".join(short[c] for c in [*cycle, cycle[0]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
