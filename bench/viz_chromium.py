"""How long a large network page takes in headless Chromium until an analyst can use it.

    .venv/bin/python bench/viz_chromium.py [--nodes 2000] [--runs 5] [--write]

A seeded graph of people, events and places (dated events over a year, a tenth of the links
from untested sources, a few inferred links) is styled by ``network_view`` with the cap raised to
the graph's size, rendered into the same page the API serves for ``format=html``, and opened from
a file in headless Chromium. "Usable" is the moment the layout has stabilised and physics stops:
the page stamps ``performance.now()`` (time since navigation began, so HTML parsing and
vis-network's start-up are included) on ``#network`` then. Server-side styling and rendering are
timed separately. Each run opens a fresh page.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest_neo4j import publish  # noqa: E402

from nimgraph.grading import HANDLING  # noqa: E402
from nimgraph.ontology import Core, default_model  # noqa: E402
from nimgraph.products.render import environment  # noqa: E402
from nimgraph.viz.network import network_view, vis_assets  # noqa: E402

ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def generated_graph(nodes: int, seed: int = 11) -> nx.MultiDiGraph:
    """People (40%), events (45%) and streets (15%), about 1.5 links per node, with provenance."""
    rng = random.Random(seed)
    graph = nx.MultiDiGraph()
    people = [f"Person-{i:06d}" for i in range(int(nodes * 0.40))]
    events = [f"CrimeIncident-{i:06d}" for i in range(int(nodes * 0.45))]
    streets = [f"Street-{i:06d}" for i in range(nodes - len(people) - len(events))]

    def record(n: int, grade: str) -> list[dict]:
        return [{"source": "bench", "record_id": f"R{n}", "date": None, "grade": grade, "handling": "P"}]

    for i, person in enumerate(people):
        graph.add_node(person, type=Core.PERSON, label=f"Person {i}", provenance=record(i, "1AP"), properties={})
    for i, event in enumerate(events):
        day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        graph.add_node(
            event, type="CrimeIncident", label=f"Crime {day}", provenance=record(i, "1AP"), properties={"date": day}
        )
    for i, street in enumerate(streets):
        graph.add_node(street, type="Street", label=f"Street {i}", provenance=record(i, "1AP"), properties={})
    n = 0
    for event in events:
        n += 1
        graph.add_edge(event, rng.choice(streets), key=f"L{n}", type="occurredAt", provenance=record(n, "1AP"))
        for _ in range(rng.choice((0, 1, 1, 2))):
            n += 1
            role = rng.choice(("victimIn", "offenderIn", "suspectIn"))
            grade = "2CC" if rng.random() < 0.1 else "1AP"
            graph.add_edge(rng.choice(people), event, key=f"L{n}", type=role, provenance=record(n, grade))
    for _ in range(len(people) // 2):
        n += 1
        a, b = rng.sample(people, 2)
        graph.add_edge(a, b, key=f"L{n}", type="knows", provenance=record(n, rng.choice(("1AP", "2BP", "3DP"))))
    for _ in range(len(people) // 40):
        n += 1
        a, b = rng.sample(people, 2)
        graph.add_edge(a, b, key=f"L{n}", type="predictedAssociation", provenance=record(n, "1AP"))
    return graph


def render_page(graph: nx.MultiDiGraph, model) -> tuple[str, int, int]:
    view = network_view(graph, model, focus=[], max_nodes=graph.number_of_nodes())
    script, style = vis_assets()
    page = (
        environment()
        .get_template("graph.html")
        .render(
            title="Benchmark network",
            summary=[],
            view=view,
            notice=None,
            handling="P",
            handling_text=HANDLING["P"],
            vis_script=script,
            vis_style=style,
        )
    )
    return page, view.node_count, view.edge_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="+", default=[300, 2000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("Chromium is not installed: apt-get install chromium")
    model = default_model()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        for size in args.nodes:
            graph = generated_graph(size)
            started = time.perf_counter()
            page_text, nodes, edges = render_page(graph, model)
            render_ms = (time.perf_counter() - started) * 1000
            path = Path(tmp) / f"network-{size}.html"
            path.write_text(page_text, encoding="utf-8")
            usable = []
            for run in range(args.runs):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(path.as_uri())
                page.wait_for_selector('#network[data-stabilised="true"]', state="attached", timeout=120_000)
                usable.append(int(page.get_attribute("#network", "data-stabilised-ms")))
                drawn = page.evaluate("Object.keys(window.nimgraphNetwork.getPositions()).length")
                assert drawn == nodes, f"drew {drawn} of {nodes} nodes"
                page.close()
                print(f"{size} nodes, run {run + 1}: usable after {usable[-1]} ms", flush=True)
            rows.append(
                f"| {nodes:,} | {edges:,} | {len(page_text) / 1e6:.1f} | {render_ms:.0f} | "
                f"{statistics.median(usable) / 1000:.2f} | {max(usable) / 1000:.2f} |"
            )
        browser.close()
    text = (
        f"\n### Network pages in headless Chromium, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
        f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}\n\n"
        f"bench/viz_chromium.py: generated graphs (40% people, 45% dated events, 15% streets), styled by "
        f"network_view and opened from a file; usable = layout stabilised and physics stopped, from navigation "
        f"start; {args.runs} runs each. Target: a 2,000-node page usable within 5 s.\n\n"
        "| nodes | edges | page MB | server render ms | usable median s | usable max s |\n"
        "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
