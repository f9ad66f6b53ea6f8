"""Entity resolution through the store: a linkage run over an embedded store of generated people.

``resolve_scale.py`` times the linkage engine on rows in memory. This one times what an analyst's run
does: read every person with the address, phone and email they are linked to (two set-wise reads a
handling level), link them once per handling level (the P records, then everything), and write each
pair as a proposal with its records. The people are resolve_scale.py's, loaded as partners would give
them: a person, their home (shared by a household), phone and email, each its own entity and link,
half the sources' records handled P and half C. Loading is timed apart from the run.

    .venv/bin/python bench/resolve_store.py [--people 100000] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_neo4j import publish, publish_once
from resolve_scale import records_of

from nimgraph.ids import link_id
from nimgraph.ontology import Core, default_model
from nimgraph.records import Assertion, Batch, Entity, Link
from nimgraph.resolution.linkage import load_settings
from nimgraph.resolution.proposals import proposals, run_linkage
from nimgraph.store.embedded import EmbeddedStore

BATCH = 20_000
# what a person's linked entities hold, by the entity type and the link to it
LINKED = (("Address", Core.LIVES_AT, ("addressLine", "postcode")), ("Phone", "usesPhone", ("phoneNumber",)),
          ("EmailAddress", "usesIdentifier", ("identifier",)))  # fmt: skip
PERSON_FIELDS = ("forename", "surname", "dateOfBirth", "nhsNumber")


def load(store: EmbeddedStore, people: int) -> tuple[set[frozenset[str]], int]:
    """The generated people into ``store``; the planted pairs, and how many people were loaded."""
    records, planted = records_of(people)
    entities: dict[str, Entity] = {}
    links: list[Link] = []
    for n, (identifier, source, values) in enumerate(records):
        handling = "P" if n % 2 else "C"
        said = Assertion(source, identifier, f"{source}.csv", n + 2, None, f"2B{handling}", handling)
        props = {k: values[k] for k in PERSON_FIELDS if values.get(k)}
        entities[identifier] = Entity(identifier, Core.PERSON, props, [said])
        for type_name, link_type, fields in LINKED:
            if not all(values.get(f) for f in fields):
                continue
            other = f"{type_name}-" + "|".join(str(values[f]) for f in fields)
            entities.setdefault(other, Entity(other, type_name, {f: values[f] for f in fields}, []))
            entities[other].provenance.append(said)
            links.append(Link(link_id(link_type, identifier, other), link_type, identifier, other, {}, [said]))
        if len(entities) >= BATCH:
            store.upsert(Batch(entities=list(entities.values()), links=links, run=f"load-{n}"))
            entities, links = {}, []
    store.upsert(Batch(entities=list(entities.values()), links=links, run="load-last"))
    return planted, len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--write", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args()
    model = default_model()
    with tempfile.TemporaryDirectory(prefix="resolve-store-") as work:
        store = EmbeddedStore(Path(work) / "graph.db", model)
        store.id_key()
        started = time.perf_counter()
        planted, people = load(store, args.people)
        loaded = time.perf_counter()
        say = lambda step: print(f"... {time.perf_counter() - started:7.1f} s {step}", file=sys.stderr)  # noqa: E731
        report = run_linkage(store, model, settings={"person": load_settings()["person"]}, say=say)
        finished = time.perf_counter()
        found = {frozenset((p.left, p.right)) for p in proposals(store, limit=10**9)}
        store.close()
    hits = len(found & planted)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"\n### {stamp}, {platform.node() or 'vm'}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"model {report.model_id}\n\n"
        "| people in the store | loading them (not the run) | the linkage run (both levels, read to written) "
        "| peak memory | pairs proposed | precision | recall |\n|---|---|---|---|---|---|---|\n"
        f"| {people:,} | {loaded - started:.1f} s | **{finished - loaded:.1f} s** | **{peak:,.0f} MiB** "
        f"| {len(found):,} | {hits / max(len(found), 1):.4f} | {hits / len(planted):.4f} |\n"
    )
    if args.write:
        publish_once(
            "Entity resolution through the store",
            "An analyst's linkage run over an embedded store of resolve_scale.py's people, each with their "
            "home, phone and email as linked entities, half the records P and half C: read, linked once per "
            "handling level, written as proposals.",
            "resolve_store.py",
            "an analyst's linkage run over an embedded store of generated people",
        )
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
