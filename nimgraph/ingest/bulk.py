"""A first load into an empty Neo4j, held in memory: the sink ``nimgraph neo4j load --bulk`` ingests into.

:class:`FirstLoad` takes the place of a store in ``ingest_files`` (the same mapping, batches,
runs, rejects and reports as ``nimgraph ingest``) and replays each batch's rows, encoded as the
Neo4j store encodes them (``store.neo4j.encode_batch``), with the store's write queries' rules:
records take their place in the write sequence and their run; an entity's properties merge (a
null removes one) and its ``sources`` grow in the order they first assert it; a link merges on its
id between ends that exist; an assertion keeps what its record said, and rows of one record within
a run add up. What it holds at the end (:attr:`FirstLoad.graph`) is what those ingests would have
left in an empty Neo4j, ready for ``nimgraph.exports.neo4j_bulk.write_import_files``.

One thing an ingest does that a first load does not: a later file whose record (source and record
id) an earlier file of the load already wrote replaces what that record asserted. The load is
refused with :class:`BulkLoadError` instead; load that file with ``nimgraph ingest`` afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from nimgraph.exports.neo4j_bulk import BulkGraph, StoredEntity, StoredLink
from nimgraph.ids import IdKey, store_key
from nimgraph.ontology import Model
from nimgraph.records import Batch, Entity, WriteStats
from nimgraph.store.base import EachWriteCommits, merged_properties, source_properties
from nimgraph.store.neo4j import EncodedSteps, StepEncoder

WRITE_SEQUENCE = "write_sequence"  # the NimgraphMeta counter queries/next_write_sequence.cypher keeps


class BulkLoadError(ValueError):
    """The files cannot be loaded in bulk as given; the message says why and what to do."""


class FirstLoad:
    """The write side of a store, in memory, with the Neo4j store's rules; reads only ``get``."""

    def __init__(self, model: Model, *, id_key: str = "") -> None:
        self.model = model
        self.graph = BulkGraph()
        self._configured_id_key = id_key
        self._labels = {name: [model.entity_type(name).name] for name in model.entities}
        self._relationship_of = {name: link.relationship for name, link in model.links.items()}
        self._link_type = {link.relationship: name for name, link in model.links.items()}

    # the parts of the GraphStore protocol an ingest uses
    def prepare(self) -> list[str]:
        return []  # the schema is applied once the database is imported and running

    def id_key(self) -> IdKey:
        meta = {k: v for k, v in self.graph.meta.items() if k != WRITE_SEQUENCE}
        return store_key(self._configured_id_key, meta, bool(self.graph.entities), self._write_meta)

    def _write_meta(self, rows: dict[str, str]) -> None:
        for name, value in rows.items():  # as queries/write_meta.cypher: a value already there stays
            self.graph.meta.setdefault(name, value)

    def register_source(self, name: str, properties: dict[str, str]) -> None:
        said = source_properties(self.model, name, properties)
        node = self.graph.sources.setdefault(name, {"name": name})
        kept = node.get("custodian")  # as queries/register_source.cypher: the first custodian stays
        node.update(said)
        custodian = kept if kept is not None else said.get("custodian")
        if custodian is None:
            node.pop("custodian", None)
        else:
            node["custodian"] = custodian

    def get(self, entity_id: str) -> Entity | None:
        stored = self.graph.entities.get(entity_id)
        return None if stored is None else Entity(entity_id, stored.type, dict(stored.properties))

    def upsert(self, batch: Batch) -> WriteStats:
        return self.stage(batch)()

    def encoder(self) -> StepEncoder:
        return StepEncoder(self.model, self._labels, self._relationship_of)

    def stage(self, batch: Batch) -> Callable[[], WriteStats]:
        encoded = self.encoder()(batch)
        return lambda: self.write_encoded(encoded)

    def write_group(self) -> EachWriteCommits:
        return EachWriteCommits(self.write_encoded)

    def write_encoded(self, encoded: EncodedSteps) -> WriteStats:
        return self._apply(encoded.steps, encoded.run)

    # the write transaction's steps, as queries/upsert_*.cypher run them
    def _apply(self, steps: list[tuple[str, list[dict], dict]], run: str) -> WriteStats:
        rows = {name: step_rows for name, step_rows, _ in steps}
        seq = self.graph.meta.get(WRITE_SEQUENCE, 0)
        self.graph.meta[WRITE_SEQUENCE] = seq + len(rows["upsert_records"])
        self._records(rows["upsert_records"], run, seq)
        stats = self._entities(rows["upsert_entities"])
        self._links(rows["upsert_links"])
        self._assertions(rows["upsert_assertions"])
        return stats

    def _records(self, rows: list[dict], run: str, seq: int) -> None:
        for row in rows:
            record = self.graph.records.setdefault(row["key"], {})
            previous = record.get("run")
            if previous is not None and previous != run:
                raise BulkLoadError(
                    f"record {row['record_id']!r} of {row['source']} ({row['file']} row {row['row']}) was "
                    f"loaded by an earlier file of this load ({record['file']} row {record['row']}); "
                    "a later file's record replaces what the earlier one asserted, which a bulk load "
                    "does not do: load the other files in bulk, then this one with nimgraph ingest"
                )
            record.update({k: row[k] for k in ("source", "record_id", "file", "row", "date", "grade", "handling")})
            record.update(run=run, seq=seq + 1 + row["position"])
            for k in [k for k, v in record.items() if v is None]:  # SET r.date = null: no property
                del record[k]

    def _entities(self, rows: list[dict]) -> WriteStats:
        stats = WriteStats()
        for row in rows:
            entity = self.graph.entities.get(row["id"])
            created = entity is None
            if entity is None:
                entity = self.graph.entities[row["id"]] = StoredEntity(row["type"])
            held = entity.properties
            changed = any(
                (held.get(k) is not None) if v is None else held.get(k) is None or held[k] != v
                for k, v in row["properties"].items()
            )
            added = [s for s in row["sources"] if s not in entity.sources]
            if created or changed:
                _patch(held, row["properties"])
            if added:
                entity.sources = entity.sources + added
            merged = not created and bool(added)
            stats.created += created
            stats.merged += merged
            stats.updated += changed and not created and not merged
            stats.unchanged += not (created or merged or changed)
            if merged and len(stats.merged_ids) < 5:
                stats.merged_ids.append(row["id"])
        return stats

    def _links(self, rows: list[dict]) -> None:
        entities = self.graph.entities
        for row in rows:
            if row["source"] not in entities or row["target"] not in entities:
                continue  # MATCH finds no end: the store writes nothing
            link = self.graph.links.get(row["id"])
            if link is None:
                link_type = self._link_type[row["relationship"]]
                link = self.graph.links[row["id"]] = StoredLink(link_type, row["source"], row["target"])
            _patch(link.properties, row["properties"])

    def _assertions(self, rows: list[dict]) -> None:
        assertions, entities = self.graph.assertions, self.graph.entities
        said = {(row["key"], row["item"]): row["props"] for row in rows}  # the last row's, as the store's
        adding = []
        for row in rows:
            if row["anchor"] not in entities:
                continue
            key = (row["key"], row["item"])
            known = assertions.get(key)
            if known is None:
                assertions[key] = (row["anchor"], row["props"])
            elif known[1] is None or known[1] != row["props"]:  # a row of the same record in this run
                assertions[key] = (row["anchor"], row["props"])
                adding.append((key, known[1]))
        for key, before in adding:  # they add up (queries/add_up_assertions.cypher)
            assertions[key] = (assertions[key][0], json.dumps(merged_properties([before, said[key]])))


def _patch(held: dict, properties: dict) -> None:
    """``SET n += $properties``: values set, a null removing one."""
    for k, v in properties.items():
        if v is None:
            held.pop(k, None)
        else:
            held[k] = v


__all__ = ["BulkLoadError", "FirstLoad"]
