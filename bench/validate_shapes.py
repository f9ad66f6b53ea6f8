"""Shape validation speed: nimgraph's generated checks against pyshacl, on the same records.

    .venv/bin/python bench/validate_shapes.py --records 100000 [--write]

Maps the demo partnership's files (generated at 100k incidents if missing) and takes the first N
entities. Each side checks the same entities against the ontology's shapes.ttl and the code lists:

- generated checks: `nimgraph.validation.violations` per entity, as ingest runs them;
- pyshacl: the entities as RDF (`nimgraph.rdf.to_rdf`, without provenance), validated in one call.

Both must find the same number of failing entities, or the run stops: a fast check that
disagrees with the shapes is worthless.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest_neo4j import publish  # noqa: E402

from nimgraph.demo import PLAN  # noqa: E402
from nimgraph.demo.generate import write_dataset  # noqa: E402
from nimgraph.ingest.engine import ingest_file  # noqa: E402
from nimgraph.ingest.spec import load_spec  # noqa: E402
from nimgraph.mappings import mapping_path  # noqa: E402
from nimgraph.ontology import Core, default_model  # noqa: E402
from nimgraph.rdf import to_rdf  # noqa: E402
from nimgraph.records import Batch, Entity, Subgraph  # noqa: E402
from nimgraph.store.base import EachWriteCommits  # noqa: E402
from nimgraph.validation import validate_graph, violations  # noqa: E402

PLANTED_FAULTS = 50  # entities broken on purpose, so both sides have something to find


class _Capture:
    def __init__(self) -> None:
        self.entities: dict[str, Entity] = {}

    def stage(self, batch: Batch) -> Callable[[], None]:
        self._keep(batch)
        return lambda: None

    def encoder(self) -> Callable[[Batch], Batch]:
        return self._keep

    def write_group(self) -> EachWriteCommits:
        return EachWriteCommits(lambda _batch: None)  # type: ignore[arg-type,return-value]

    def _keep(self, batch: Batch) -> Batch:
        for entity in batch.entities:
            self.entities.setdefault(entity.id, entity)
        return batch


def sample(records: int) -> list[Entity]:
    data = ROOT / "var" / "bench" / "100000"
    if not (data / "planted.json").exists():
        write_dataset(data, incidents=100_000)
    model, capture = default_model(), _Capture()
    for mapping, filename in PLAN:
        spec = load_spec(mapping_path(mapping), model)
        ingest_file(  # type: ignore[arg-type]
            capture, model, spec, data / filename, rejects_dir=data / "rejects", mapping_process=False
        )  # the batches are captured here, and the mapping timed here
        if len(capture.entities) >= records:
            break
    entities = [
        Entity(e.id, e.type, dict(e.properties)) for e in sorted(capture.entities.values(), key=lambda e: e.id)
    ][:records]
    events = [e for e in entities if model.is_a(e.type, Core.EVENT) and "date" in e.properties]
    for entity in events[:PLANTED_FAULTS]:
        del entity.properties["date"]
    return entities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    model = default_model()
    entities = sample(args.records)
    print(f"{len(entities):,} entities", flush=True)

    started = time.perf_counter()
    failing = sum(1 for e in entities if next(violations(model, e.type, e.properties), None) is not None)
    generated = time.perf_counter() - started

    graph = to_rdf(Subgraph(entities={e.id: e for e in entities}), model)
    started = time.perf_counter()
    report = validate_graph(graph, model)
    shacl = time.perf_counter() - started
    shacl_failing = len(set(_focus_nodes(report.text)))
    if report.conforms or shacl_failing != failing:
        raise SystemExit(f"the two disagree: generated checks found {failing} failing, pyshacl {shacl_failing}")

    text = (
        f"\n### Shape validation, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}\n\n"
        "| checker | entities | failing found | s | entities/s |\n|---|---|---|---|---|\n"
        f"| generated checks (ingest) | {len(entities):,} | {failing} | {generated:.2f} | "
        f"{len(entities) / generated:,.0f} |\n"
        f"| pyshacl | {len(entities):,} | {shacl_failing} | {shacl:.1f} | {len(entities) / shacl:,.0f} |\n\n"
        f"Generated checks were {shacl / generated:,.0f}x faster than pyshacl on the same entities, "
        "with the same verdicts.\n"
    )
    publish(text, write=args.write)


def _focus_nodes(text: str) -> list[str]:
    return [line.split("Focus Node:", 1)[1].strip() for line in text.splitlines() if "Focus Node:" in line]


if __name__ == "__main__":
    main()
