"""Ingest throughput into Neo4j, against a per-row MERGE baseline and LOAD CSV, in one run.

    .venv/bin/python bench/ingest_neo4j.py --incidents 100000 [--incidents 1000000] [--write]

For each size it generates the demo partnership's files, starts a fresh throwaway Neo4j
(scripts/neo4j.sh) for each contender, and measures:

- nimgraph: `ingest_plan` over all six files with the ready mappings, each file's mapping started
  while the file before writes (rows = entity and link writes);
- per-row MERGE: the same mapped rows for a sample, one auto-commit MERGE statement per entity,
  link, record and assertion, as a naive loader would;
- LOAD CSV: the two police files (most of the rows) loaded server-side with equivalent MERGEs,
  provenance included, against nimgraph on the same two files.

With --write, the figures are appended to bench/RESULTS.md. Ratios come from one run on one machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from neo4j import GraphDatabase

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nimgraph.demo import PLAN  # noqa: E402
from nimgraph.demo.generate import write_dataset  # noqa: E402
from nimgraph.ids import IdKey  # noqa: E402
from nimgraph.ingest.engine import ingest_plan  # noqa: E402
from nimgraph.ingest.mapper import Row, RowError, RowMapper  # noqa: E402
from nimgraph.ingest.readers import open_source  # noqa: E402
from nimgraph.ingest.spec import load_spec  # noqa: E402
from nimgraph.mappings import mapping_path, ready_plan  # noqa: E402
from nimgraph.ontology import default_model  # noqa: E402
from nimgraph.store.neo4j import Neo4jStore  # noqa: E402

POLICE_FILES = ("police_street_crime.csv", "police_nominals_restricted.csv")
BASELINE_SAMPLE_ROWS = 1500

LOAD_CSV = {
    "police_street_crime.csv": """
LOAD CSV WITH HEADERS FROM $url AS row
CALL (row) {
  WITH row, trim(replace(row.Location, 'On or near ', '')) AS street, 'police-uk-street-crime' AS source
  MERGE (c:Entity {id: 'crime:' + row.`Crime ID`})
  SET c:CrimeIncident, c.type = 'CrimeIncident', c.reference = row.`Crime ID`, c.date = row.Month + '-01',
      c.category = row.`Crime type`, c.crimeType = row.`Crime type`, c.outcome = row.`Last outcome category`
  MERGE (s:Entity {id: 'street:' + toLower(street) + '|' + row.`LSOA code`})
  SET s:Street, s.type = 'Street', s.name = street, s.latitude = toFloat(row.Latitude),
      s.longitude = toFloat(row.Longitude)
  MERGE (a:Entity {id: 'lsoa:' + row.`LSOA code`})
  SET a:LSOA, a.type = 'LSOA', a.areaCode = row.`LSOA code`, a.name = row.`LSOA name`
  MERGE (c)-[o:OCCURRED_AT {id: c.id + '>' + s.id}]->(s)
  MERGE (s)-[w:WITHIN {id: s.id + '>' + a.id}]->(a)
  MERGE (r:Record {key: source + '|' + row.`Crime ID`})
  SET r.source = source, r.record_id = row.`Crime ID`, r.file = 'police_street_crime.csv',
      r.row = linenumber(), r.date = row.Month + '-01', r.grade = '1AP', r.handling = 'P'
  MERGE (r)-[:ASSERTS {item: c.id}]->(c)
  MERGE (r)-[:ASSERTS {item: s.id}]->(s)
  MERGE (r)-[:ASSERTS {item: a.id}]->(a)
  MERGE (r)-[:ASSERTS {item: o.id}]->(c)
  MERGE (r)-[:ASSERTS {item: w.id}]->(s)
} IN TRANSACTIONS OF 5000 ROWS
""",
    "police_nominals_restricted.csv": """
LOAD CSV WITH HEADERS FROM $url AS row
CALL (row) {
  WITH row, 'police-nominals-restricted' AS source,
       row.`Crime ID` + '/' + row.`Nominal ID` + '/' + row.Role AS record_id
  MERGE (p:Entity {id: 'person:' + row.`Nominal ID`})
  SET p:Person, p.type = 'Person', p.nominalId = row.`Nominal ID`, p.forename = row.Forename,
      p.surname = row.Surname, p.name = row.Forename + ' ' + row.Surname, p.dateOfBirth = row.`Date of Birth`
  MERGE (c:Entity {id: 'crime:' + row.`Crime ID`})
  SET c:CrimeIncident, c.type = 'CrimeIncident', c.reference = row.`Crime ID`
  MERGE (p)-[v:$(CASE row.Role WHEN 'Victim' THEN 'VICTIM_IN' WHEN 'Offender' THEN 'OFFENDER_IN'
                 WHEN 'Suspect' THEN 'SUSPECT_IN' WHEN 'Witness' THEN 'WITNESS_IN' ELSE 'REPORTER_IN' END)
             {id: p.id + '>' + c.id}]->(c)
  MERGE (r:Record {key: source + '|' + record_id})
  SET r.source = source, r.record_id = record_id, r.file = 'police_nominals_restricted.csv',
      r.row = linenumber(), r.grade = '1AC', r.handling = 'C'
  MERGE (r)-[:ASSERTS {item: p.id}]->(p)
  MERGE (r)-[:ASSERTS {item: c.id}]->(c)
  MERGE (r)-[:ASSERTS {item: v.id}]->(p)
  WITH row, p, r
  CALL (row, p, r) {
    WITH * WHERE row.`Home Address` <> ''
    MERGE (h:Entity {id: 'address:' + toLower(row.`Home Address`) + '|' + toLower(row.`Home Postcode`)})
    SET h:Address, h.type = 'Address', h.addressLine = row.`Home Address`, h.postcode = row.`Home Postcode`
    MERGE (p)-[l:LIVES_AT {id: p.id + '>' + h.id}]->(h)
    MERGE (r)-[:ASSERTS {item: h.id}]->(h)
    MERGE (r)-[:ASSERTS {item: l.id}]->(p)
  }
  CALL (row, p, r) {
    WITH * WHERE row.Mobile <> ''
    MERGE (m:Entity {id: 'phone:' + row.Mobile})
    SET m:Phone, m.type = 'Phone', m.phoneNumber = row.Mobile
    MERGE (p)-[u:USES_PHONE {id: p.id + '>' + m.id}]->(m)
    MERGE (r)-[:ASSERTS {item: m.id}]->(m)
    MERGE (r)-[:ASSERTS {item: u.id}]->(p)
  }
} IN TRANSACTIONS OF 5000 ROWS
""",
}


@dataclass
class Server:
    uri: str
    password: str
    state: str

    def driver(self):
        return GraphDatabase.driver(self.uri, auth=("neo4j", self.password))


def start_server(name: str, import_dir: Path | None = None) -> Server:
    env = {**os.environ, "NIMGRAPH_NEO4J_STATE": f"var/neo4j-bench-{name}", "NIMGRAPH_NEO4J_HEAP": "2g"}
    if import_dir:
        env["NIMGRAPH_NEO4J_IMPORT"] = str(import_dir)
    subprocess.run(
        [str(ROOT / "scripts" / "neo4j.sh"), "start"], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    values = dict(
        line.removeprefix("export ").split("=", 1)
        for line in subprocess.run(
            [str(ROOT / "scripts" / "neo4j.sh"), "env"], env=env, cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    )
    return Server(
        values["NIMGRAPH_TEST_NEO4J_URI"], values["NIMGRAPH_TEST_NEO4J_PASSWORD"], env["NIMGRAPH_NEO4J_STATE"]
    )


def stop_server(server: Server) -> None:
    subprocess.run(
        [str(ROOT / "scripts" / "neo4j.sh"), "stop"],
        check=True,
        cwd=ROOT,
        env={**os.environ, "NIMGRAPH_NEO4J_STATE": server.state},
    )


def prepare_schema(server: Server, model) -> None:
    store = Neo4jStore(server.uri, model, password=server.password)
    store.prepare()
    store.close()


def nimgraph_ingest(server: Server, data: Path, files: list[tuple[str, str]]) -> tuple[int, float]:
    model = default_model()
    store = Neo4jStore(server.uri, model, password=server.password)
    store.prepare()
    plan = ready_plan(model, data, files)
    rows, started = 0, time.perf_counter()
    for report in ingest_plan(store, model, plan, rejects_dir=data / "rejects"):
        rows += report.entities_written + report.links_written
        print(f"  {report.summary()}", flush=True)
    elapsed = time.perf_counter() - started
    store.close()
    return rows, elapsed


def per_row_baseline(server: Server, data: Path) -> tuple[int, float]:
    """One auto-commit MERGE per entity, record, link and assertion: what a naive loader does."""
    model = default_model()
    prepare_schema(server, model)
    spec = load_spec(mapping_path("police_uk_street"), model)
    mapper = RowMapper(spec, model, IdKey.generate())
    driver = server.driver()
    rows, started = 0, time.perf_counter()
    with driver.session() as session:
        for count, (line, values, _) in enumerate(open_source(data / "police_street_crime.csv", spec.read).rows()):
            if count >= BASELINE_SAMPLE_ROWS:
                break
            try:
                entities, links = mapper.map(Row(values, line, "police_street_crime.csv"))
            except RowError:
                continue
            for e in entities:
                session.run(
                    "MERGE (n:Entity {id: $id}) SET n:$($label), n += $props, n.type = $label",
                    id=e.id,
                    label=e.type,
                    props=e.properties,
                ).consume()
            for k in links:
                session.run(
                    "MATCH (a:Entity {id: $s}), (b:Entity {id: $t}) MERGE (a)-[r:$($rel) {id: $id}]->(b)",
                    s=k.source,
                    t=k.target,
                    rel=model.link_type(k.type).relationship,
                    id=k.id,
                ).consume()
            for item in [*entities, *links]:
                anchor = item.id if item in entities else item.source
                for a in item.provenance:
                    key = f"{a.source}\x1f{a.record_id}"
                    session.run("MERGE (r:Record {key: $key}) SET r += $fields", key=key, fields=a.as_dict()).consume()
                    session.run(
                        "MATCH (r:Record {key: $key}), (n:Entity {id: $anchor}) "
                        "MERGE (r)-[:ASSERTS {item: $item}]->(n)",
                        key=key,
                        anchor=anchor,
                        item=item.id,
                    ).consume()
            rows += len(entities) + len(links)
    elapsed = time.perf_counter() - started
    driver.close()
    return rows, elapsed


def load_csv(server: Server) -> float:
    model = default_model()
    prepare_schema(server, model)
    driver = server.driver()
    started = time.perf_counter()
    with driver.session() as session:
        for filename in POLICE_FILES:
            session.run(LOAD_CSV[filename], url=f"file:///{filename}").consume()
    elapsed = time.perf_counter() - started
    driver.close()
    return elapsed


def run(incidents: int, comparisons: bool = True) -> dict:
    data = ROOT / "var" / "bench" / str(incidents)
    if not (data / "planted.json").exists():
        print(f"generating {incidents} incidents into {data}", flush=True)
        write_dataset(data, incidents=incidents)
    result: dict = {"incidents": incidents}

    server = start_server("nimgraph")
    try:
        print("nimgraph ingest, all six files", flush=True)
        result["rows"], result["seconds"] = nimgraph_ingest(server, data, PLAN)
    finally:
        stop_server(server)

    if not comparisons:
        return result

    server = start_server("police")
    try:
        print("nimgraph ingest, the two police files", flush=True)
        police = [p for p in PLAN if p[1] in POLICE_FILES]
        result["police_rows"], result["police_seconds"] = nimgraph_ingest(server, data, police)
    finally:
        stop_server(server)

    server = start_server("loadcsv", import_dir=data)
    try:
        print("LOAD CSV, the two police files", flush=True)
        result["load_csv_seconds"] = load_csv(server)
    finally:
        stop_server(server)

    server = start_server("perrow")
    try:
        print(f"per-row MERGE baseline, first {BASELINE_SAMPLE_ROWS} street-crime rows", flush=True)
        result["baseline_rows"], result["baseline_seconds"] = per_row_baseline(server, data)
    finally:
        stop_server(server)
    return result


def report(result: dict) -> str:
    rate = result["rows"] / result["seconds"]
    if "baseline_rows" not in result:
        return (
            f"| {result['incidents']:,} | {result['rows']:,} | {result['seconds']:.0f} | {rate:,.0f} "
            "| not run | | | | |"
        )
    baseline = result["baseline_rows"] / result["baseline_seconds"]
    police_rate = result["police_rows"] / result["police_seconds"]
    vs_load_csv = result["police_seconds"] / result["load_csv_seconds"]
    return (
        f"| {result['incidents']:,} | {result['rows']:,} | {result['seconds']:.0f} | {rate:,.0f} "
        f"| {baseline:,.0f} | {rate / baseline:.1f}x | {result['police_seconds']:.0f} ({police_rate:,.0f}/s) "
        f"| {result['load_csv_seconds']:.0f} | {vs_load_csv:.2f}x |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, action="append", help="sizes to run (repeatable)")
    parser.add_argument("--write", action="store_true", help="append the figures to bench/RESULTS.md")
    parser.add_argument("--no-comparisons", action="store_true", help="measure nimgraph only")
    args = parser.parse_args()
    lines = [report(run(n, comparisons=not args.no_comparisons)) for n in (args.incidents or [100_000])]
    header = (
        f"\n### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Neo4j Community 5.26.30 embedded (heap 2g)\n\n"
        "| incidents | rows written | s | rows/s | per-row MERGE rows/s | vs per-row | "
        "nimgraph on police files, s | LOAD CSV on police files, s | nimgraph / LOAD CSV time |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    publish(header + "\n".join(lines) + "\n", write=args.write)


def list_in_readme(script: str, row: str, command: str) -> None:
    """Keep ``script``'s row in bench/README.md's table as ``row`` (replaced when it has changed, else
    added after the last row) and its ``command`` in the list of commands, once each."""
    path = ROOT / "bench" / "README.md"
    lines = path.read_text(encoding="utf-8").splitlines()
    mine = [i for i, line in enumerate(lines) if line.startswith(f"| `{script}`")]
    if mine:
        lines[mine[0]] = row
    else:
        lines.insert(max(i for i, line in enumerate(lines) if line.startswith("| `")) + 1, row)
    if command not in lines:
        lines.insert(max(i for i, line in enumerate(lines) if line.startswith(".venv/bin/")) + 1, command)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def publish_once(heading: str, intro: str, script: str, about: str) -> None:
    """Open ``heading``'s section in bench/RESULTS.md with ``intro`` if it is not there yet, and list
    ``script`` (what it measures: ``about``) in bench/README.md: what every benchmark does before its figures."""
    if f"## {heading}" not in (ROOT / "bench" / "RESULTS.md").read_text(encoding="utf-8"):
        publish(f"\n## {heading} (`bench/{script}`)\n\n{intro}\n", write=True)
    list_in_readme(script, f"| `{script}` | {about} |", f".venv/bin/python bench/{script} --write")


def publish(text: str, *, write: bool) -> None:
    """Print a results block and, with ``write``, append it to bench/RESULTS.md."""
    print(text)
    if write:
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
