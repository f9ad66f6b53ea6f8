"""Breadth-first expansion shared by the stores: each store supplies how to fetch links."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from nimgraph.records import Link

# A hop fetches at most this many links per entity of room left under the cap (and never fewer
# than MIN_FETCH): a hub with tens of thousands of links costs no more than the cap allows.
FETCH_PER_ROOM = 4
MIN_FETCH = 1000


def expand(
    seeds: Iterable[str],
    hops: int,
    max_entities: int,
    links_touching: Callable[[set[str], int], Iterable[Link]],
) -> tuple[set[str], dict[str, Link], bool]:
    """Entity ids and links within ``hops`` of the seeds, and whether ``max_entities`` cut it short.

    A link is kept only if its new ends still fit under the cap, so what is returned is connected.
    ``links_touching(ids, limit)`` returns at most ``limit`` links, in a stable order; reaching
    the limit counts as cut short.

    >>> ab, bc = Link("1", "knows", "a", "b"), Link("2", "knows", "b", "c")
    >>> edges = {"a": [ab], "b": [ab, bc]}
    >>> fetch = lambda ids, limit: [k for i in sorted(ids) for k in edges.get(i, [])][:limit]
    >>> seen, links, truncated = expand(["a"], 2, 10, fetch)
    >>> sorted(seen), sorted(links), truncated
    (['a', 'b', 'c'], ['1', '2'], False)
    >>> expand(["a"], 2, 2, fetch)[2]
    True
    """
    seen = set(seeds)
    frontier, links = set(seen), {}
    truncated = False
    for _ in range(hops):
        if not frontier:
            break
        limit = max(MIN_FETCH, FETCH_PER_ROOM * (max_entities - len(seen)))
        found = list(links_touching(frontier, limit))
        truncated |= len(found) >= limit
        frontier = set()
        for link in found:
            new_ends = {link.source, link.target} - seen
            if len(seen) + len(new_ends) > max_entities:
                truncated = True
                continue
            links[link.id] = link
            frontier |= new_ends
            seen |= new_ends
    return seen, links, truncated
