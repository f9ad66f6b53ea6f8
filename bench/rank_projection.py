"""Ranking betweenness on a 100k-node projection of the 1M graph, as an analyst asks it.

    .venv/bin/python bench/rank_projection.py [--entities 1000000] [--hops 3] [--max-entities 100000] [--write]

The graph is the one bench/workbench_expand.py built and kept (bench/graphgen.py, seed 7, ids keyed
under the store's own key, embedded store under var/bench/keyed-graph-N-7/); it is built the same
way, by the same loader and rewrite hook, only if it is not there.

What is timed is what ``GET /rankings?measure=betweenness`` does for an analyst:
``nimgraph.products.rankings.rank(view, model, "betweenness", scope=..., projection=..., top=20)``
with the route's defaults (weighted, normalised, pivots chosen by the library, seed 0), through a
``ClearedView`` with the analyst's clearance (``ROLE_CLEARANCE[Role.ANALYST]``), on a store handle
of its own (SQLite's page cache empty, the file in the OS cache: it is read through first, as a
running server's file would be cached).

The scope and projection: people joined by the social link types (``Projection(types=("Person",),
link_types=("associatedWith",))``: knows, familyOf, socialContact and the other subtypes), within
``--hops`` (3) links of one person, reading at most ``--max-entities`` (100,000) entities:
``Scope(around=(seed,), hops=3, max_entities=100_000)``, which is
``GET /rankings?measure=betweenness&around=<id>&hops=3&max_entities=100000&link_types=associatedWith``
(``types`` defaults to Person). The person is the first drawn with seed ``--pick`` (1) from the
plan's people. Why this one: the social links are skewed towards a few hubs of thousands, so
the network around almost anyone grows steeply (for this person, 16,732 people within 2 links
and 147,503 within 3, unbounded), and a 3-hop read capped at 100,000 gives a projection of
about 100,000 people, nearest first, which is what an analyst asking "who brokers this person's
wider network" gets. The whole graph is not used: no entity type of the generated graph makes
about 100,000 nodes that a link type joins into one network (vehicles are 100,000, but each
belongs to one person), and a whole-graph read of the 2.4M social links makes 400,000 people.
The answer's ``projection["nodes"]`` is reported as it comes.

Every figure is given in wall seconds and in this process's CPU seconds (the machine is shared:
what other processes take shows as wall time beyond CPU time). The total is split twice: inside
the ``rank`` call itself, where it reports its progress (before the read, the projection and the
measure), and by timing the functions ``rank`` calls again, separately, on the same inputs:
``read_scope`` (on a fresh store handle and view, kept open until the measure is done, as in
``rank`` and in a server), ``projected`` on what it read, and ``scores`` on that projection; what
``rank`` has beyond them is the rows (labels, ties, the answer's graph).
The read is split too: the store's own walk (``EmbeddedStore.neighbourhood``, fresh handle), the
cleared view's neighbourhood (the walk again on a fresh handle, then clearing), and
``to_networkx`` of what it gave.

Beside them, in the same run:

- the ceiling: igraph's own ``Graph.betweenness`` with the same pivots (sources drawn as
  ``measures._igraph`` draws them), the same distances (1/weight) on the same projection, the
  igraph graph built beforehand and not timed, with no store handle open: this machine's bound
  for the measure; and the same call while the store handle that made the read is still open,
  as it is inside ``rank`` (on this machine igraph runs markedly slower in a process whose SQLite
  page cache has just been filled by a large read; closing the handle restores its speed);
- NetworkX (``betweenness_centrality``, ``k=--nx-pivots``, 20) on the same projection, prepared as
  ``measures._networkx`` prepares it (not timed), as a per-pivot ratio to that ceiling.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

import igraph
import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from analysis_profiles import load_embedded, warm  # noqa: E402
from graphgen import Plan, person_id  # noqa: E402
from ingest_neo4j import list_in_readme, publish  # noqa: E402
from workbench_expand import OtherLoad, keyed, keyed_ids  # noqa: E402

from nimgraph.access.roles import ROLE_CLEARANCE, Role  # noqa: E402
from nimgraph.access.view import ClearedView  # noqa: E402
from nimgraph.analysis.build import to_networkx  # noqa: E402
from nimgraph.analysis.measures import scores  # noqa: E402
from nimgraph.config import Settings  # noqa: E402
from nimgraph.ontology import Core, default_model  # noqa: E402
from nimgraph.products.rankings import rank  # noqa: E402
from nimgraph.products.scope import Projection, Scope, projected, read_scope  # noqa: E402
from nimgraph.store.embedded import EmbeddedStore  # noqa: E402

TARGET_S = 30
MEASURE, TOP, SEED = "betweenness", 20, 0  # the route's defaults: weighted, normalised, seed 0
NO_SERVER = -1  # OtherLoad counts a server's CPU as ours; there is none here (no such process)
README_ROW = (
    "| `rank_projection.py` | Ranking betweenness on a 100k-node projection of the 1M generated graph (the "
    "workbench_expand store): `rank` as `GET /rankings?measure=betweenness` runs it for an analyst, people within "
    "3 links of one person joined by the social links, capped at 100,000; total, split into `read_scope`, "
    "`projected` and `scores` (and the read into walk, clearing and `to_networkx`), wall and CPU seconds, against "
    "igraph's own betweenness with the same pivots (the ceiling) and NetworkX per pivot, in the same run |"
)
README_COMMAND = ".venv/bin/python bench/rank_projection.py --write"


class Timer:
    """Wall and CPU seconds (this process's) since it was made, and at each mark."""

    def __init__(self) -> None:
        self.marks = [(time.perf_counter(), time.process_time())]

    def mark(self) -> None:
        self.marks.append((time.perf_counter(), time.process_time()))

    def spans(self) -> list[tuple[float, float]]:
        return [(b[0] - a[0], b[1] - a[1]) for a, b in zip(self.marks, self.marks[1:], strict=False)]


def timed(work):
    """``work()``, and the wall and CPU seconds it took."""
    timer = Timer()
    result = work()
    timer.mark()
    return result, *timer.spans()[0]


def analyst(db: Path, model) -> tuple[EmbeddedStore, ClearedView]:
    """A store handle of its own (SQLite's cache empty) and the analyst's view of it, as a request gets."""
    store = EmbeddedStore(db, model)
    return store, ClearedView(store, model, ROLE_CLEARANCE[Role.ANALYST])


def igraph_of(projection: nx.Graph, weighted: bool) -> tuple[igraph.Graph, list[float] | None]:
    """The projection in igraph, and its distances (1/weight), as ``measures._igraph`` builds them."""
    nodes = list(projection)
    index = {n: i for i, n in enumerate(nodes)}
    kept = [(u, v, w) for u, v, w in projection.edges(data="weight", default=1.0) if u != v]
    graph = igraph.Graph(n=len(nodes), edges=[(index[u], index[v]) for u, v, _ in kept])
    distances = [1.0 / max(float(w), 1e-9) for _, _, w in kept] if weighted else None
    return graph, distances


def networkx_ready(projection: nx.Graph, weighted: bool) -> nx.Graph:
    """The projection as ``measures._networkx`` gets it: simple, weights set, distances in ``_d``."""
    graph = nx.Graph(projection)
    graph.remove_edges_from(list(nx.selfloop_edges(graph)))
    for _, _, data in graph.edges(data=True):
        data.setdefault("weight", 1.0)
    if weighted:
        nx.set_edge_attributes(graph, {(u, v): 1.0 / max(w, 1e-9) for u, v, w in graph.edges(data="weight")}, "_d")
    return graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--pick", type=int, default=1, help="seed that draws the person the scope is around")
    parser.add_argument("--hops", type=int, default=3)
    parser.add_argument("--max-entities", type=int, default=100_000)
    parser.add_argument("--nx-pivots", type=int, default=20)
    parser.add_argument("--note", default="", help="a sentence for the results (e.g. what else ran)")
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    model, plan = default_model(), Plan(args.entities)

    print("opening the embedded store (keyed ids)", flush=True)
    store, load_seconds = load_embedded(plan, model, name="keyed-graph", rewrite=keyed_ids)
    try:
        to_keyed = keyed(store)
        counts = store.counts()
    finally:
        store.close()
    db = store.path
    entities, links = sum(counts["entities"].values()), sum(counts["links"].values())
    generated = person_id(random.Random(args.pick).randrange(plan.count("people")))
    seed_id = to_keyed(generated)
    scope = Scope(around=(seed_id,), hops=args.hops, max_entities=args.max_entities)
    projection = Projection(types=(Core.PERSON,), link_types=(Core.ASSOCIATED_WITH,))
    follow = projection.followed(model)

    print(f"reading {db.name} through ({db.stat().st_size / 2**30:.1f} GiB)", flush=True)
    warm(db)
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    whole = OtherLoad(NO_SERVER)

    # ---- the total: what the route runs, split where rank itself reports progress
    print(
        f"rank: {MEASURE} around {generated} ({seed_id}), {args.hops} hops, {args.max_entities:,} entities", flush=True
    )
    store, view = analyst(db, model)
    during = OtherLoad(NO_SERVER)
    timer = Timer()

    def progress(message: str) -> None:  # before the read, before the projection, before the measure
        timer.mark()
        print(f"  {message}", flush=True)

    workers = Settings(env="development").analysis_workers  # what the route passes: NIMGRAPH_ANALYSIS_WORKERS
    answer = rank(view, model, MEASURE, scope=scope, projection=projection, top=TOP, workers=workers, progress=progress)
    timer.mark()
    total_share = during.share()
    store.close()
    _, in_read, in_project, in_rest = timer.spans()
    total = tuple(sum(span[i] for span in timer.spans()) for i in (0, 1))
    print(f"  total {total[0]:.1f} s ({total[1]:.1f} CPU s), {answer.projection}, engine {answer.engine}", flush=True)

    # ---- the same, function by function
    print("split: read_scope, projected, scores", flush=True)
    store, view = analyst(db, model)  # kept open until the measure is done, as in rank (and in a server)
    read, *t_read = timed(lambda: read_scope(view, model, scope, follow))
    (graph, _), *t_project = timed(lambda: projected(read, model, projection))
    found, *t_scores = timed(
        lambda: scores(
            graph, MEASURE, weighted=True, normalised=True, engine="auto", pivots=None, seed=SEED, workers=workers
        )
    )
    read_nodes, read_edges = read.graph.number_of_nodes(), read.graph.number_of_edges()
    read = None  # freed: a large live heap slows the collector in the parts after it
    print(f"  read_scope {t_read[0]:.1f} s, projected {t_project[0]:.1f} s, scores {t_scores[0]:.1f} s", flush=True)
    strengths = {w for _, _, w in graph.edges(data="weight", default=1.0)}
    by_weight = len(strengths) > 1  # as measures.scores decides: equal weights take breadth-first search
    n, k = graph.number_of_nodes(), found.pivots
    sources = random.Random(SEED).sample(range(n), k) if k else None
    print("igraph alone, the store handle that read still open", flush=True)
    ig, distances = igraph_of(graph, by_weight)
    _, *t_ig_open = timed(lambda: ig.betweenness(directed=False, weights=distances, sources=sources))
    ig = None
    store.close()

    # ---- where the read goes
    print("read parts: store walk, cleared neighbourhood, to_networkx", flush=True)
    store = EmbeddedStore(db, model)
    _, *t_walk = timed(
        lambda: store.neighbourhood([seed_id], args.hops, follow, args.max_entities, True, handling=None)
    )
    store.close()
    store, view = analyst(db, model)
    sub, *t_cleared = timed(
        lambda: view.neighbourhood([seed_id], hops=args.hops, link_types=follow, max_entities=args.max_entities)
    )
    store.close()
    _, *t_build = timed(lambda: to_networkx(sub, model))
    sub = None

    # ---- the ceiling and NetworkX, on the same projection
    print(f"igraph ceiling: {k or n} pivots, {'Dijkstra' if by_weight else 'breadth-first'}", flush=True)
    (ig, distances), *t_ig_build = timed(lambda: igraph_of(graph, by_weight))
    raw, *t_ceiling = timed(lambda: ig.betweenness(directed=False, weights=distances, sources=sources))
    # the ceiling's values as the answer gives them (scaled up by n/k, normalised, rounded), the top 20 compared
    scale = (n / k if k else 1.0) * 2 / ((n - 1) * (n - 2))
    ceiling_top = sorted((round(b * scale, 6) for b in raw), reverse=True)[:TOP]
    same_top = ceiling_top == [row[MEASURE] for row in answer.rows[:TOP]]
    ig = None

    nx_pivots = args.nx_pivots
    print(f"networkx: {nx_pivots} pivots", flush=True)
    ready = networkx_ready(graph, by_weight)
    _, *t_nx = timed(
        lambda: nx.betweenness_centrality(
            ready, k=nx_pivots, normalized=True, weight="_d" if by_weight else None, seed=SEED
        )
    )
    ready = None
    whole_share = whole.share()
    load_after = os.getloadavg()

    # ---- the block
    pivots = k or n
    met = "met" if total[0] <= TARGET_S else "**not met**"
    shared = (
        f"The machine was shared: other processes used {whole_share:.0%} of its {os.cpu_count()} cores over the "
        f"run, {total_share:.0%} while `rank` was timed."
        if whole_share >= 0.05
        else f"The machine was otherwise idle (other processes used {whole_share:.0%} of its cores over the run)."
    )

    def cells(*spans) -> str:
        return " | ".join(f"{wall:.1f} | {cpu:.1f}" if wall is not None else " | " for wall, cpu in spans)

    none = (None, None)
    separate = (t_read[0] + t_project[0] + t_scores[0], t_read[1] + t_project[1] + t_scores[1])
    measure_rows = [
        (
            "`scores` (igraph through nimgraph, the graph built inside; the store handle that read still open)",
            pivots,
            t_scores,
        ),
        ("igraph alone, its graph built beforehand, the store handle that read still open", pivots, t_ig_open),
        (
            f"igraph alone, its graph built beforehand ({t_ig_build[0]:.1f} s), no store open: the ceiling",
            pivots,
            t_ceiling,
        ),
        ("NetworkX `betweenness_centrality`, its graph prepared beforehand", nx_pivots, t_nx),
    ]
    per_ceiling = t_ceiling[1] / pivots
    text = (
        f"\n### Rank betweenness on a 100k-node projection, {started} UTC, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n\n"
        f"bench/rank_projection.py: generated graph, {entities:,} entities, {links:,} links (bench/graphgen.py, seed "
        f"{plan.seed}, ids keyed; embedded store built by bench/workbench_expand.py in {load_seconds:,.0f} s, store "
        'file read through first). Timed: `rank(view, model, "betweenness", scope=..., projection=..., top=20)` '
        "through a `ClearedView` with the analyst's clearance, on a store handle of its own, with the route's "
        "defaults (weighted, normalised, the library's pivots, seed 0): what `GET /rankings?measure=betweenness"
        f"&around=<id>&hops={args.hops}&max_entities={args.max_entities}&link_types=associatedWith` runs. Scope: "
        f"within {args.hops} links of one person (the plan's {generated}, the first drawn with seed {args.pick}; "
        f"the social hubs make the network around almost anyone grow steeply, so a {args.hops}-hop read stops at "
        "the cap, nearest first). Projection: people joined by the social link types (`associatedWith` and its "
        f"subtypes), weighted by the ontology's association weights. The read took {read_nodes:,} people and "
        f"{read_edges:,} links (truncated: {answer.truncated}); the projection has {answer.projection['nodes']:,} "
        f"nodes and {answer.projection['links']:,} ties. Engine: {answer.engine}, {pivots} pivots, "
        f"{'Dijkstra (unequal weights, distances 1/weight)' if by_weight else 'breadth-first (equal weights)'}, "
        f"the pivots shared among {workers} worker process(es) (NIMGRAPH_ANALYSIS_WORKERS; CPU seconds below are "
        "this process's only, so a measure run in workers shows little CPU). "
        f"Target (issue 14): ranking betweenness on a 100k-node projection <= {TARGET_S} s.\n\n"
        "Wall and CPU seconds (this process's; what other processes take shows as wall beyond CPU). In the `rank` "
        "call, split where `rank` reports its progress; then each function timed again on its own, on the same "
        "inputs.\n\n"
        "| part | in `rank`, s | CPU s | on its own, s | CPU s |\n|---|---|---|---|---|\n"
        f"| **total** (on its own: the three functions' sum) | {cells(total, separate)} |\n"
        f"| `read_scope` | {cells(in_read, t_read)} |\n"
        f"| `projected` | {cells(in_project, t_project)} |\n"
        f"| `scores`, then the rows (in `rank`); `scores` (on its own) | {cells(in_rest, t_scores)} |\n"
        f"| inside the read: the store's walk alone (`EmbeddedStore.neighbourhood`) | {cells(none, t_walk)} |\n"
        f"| inside the read: the cleared view's neighbourhood (the walk, then clearing) | {cells(none, t_cleared)} |\n"
        f"| inside the read: `to_networkx` of what it gave | {cells(none, t_build)} |\n\n"
        "The measure on the same projection (ratios of CPU seconds per pivot):\n\n"
        "| engine | pivots | s | CPU s | CPU ms per pivot | per pivot vs the ceiling |\n|---|---|---|---|---|---|\n"
        + "\n".join(
            f"| {name} | {count} | {spent[0]:.1f} | {spent[1]:.1f} | {spent[1] / count * 1000:.0f} "
            f"| {spent[1] / count / per_ceiling:.2f}x |"
            for name, count, spent in measure_rows
        )
        + "\n\n"
        f"Target: {met} (total {total[0]:.1f} s). The ceiling's top {TOP} values are "
        f"{'the same as' if same_top else '**not** the same as'} the answer's. "
        f"Load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after. "
        + shared
        + (f" {args.note}" if args.note else "")
        + "\n"
    )
    publish(text, write=args.write)
    if args.write:
        list_in_readme("rank_projection.py", README_ROW, README_COMMAND)


if __name__ == "__main__":
    main()
