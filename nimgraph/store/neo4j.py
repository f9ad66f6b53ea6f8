"""The Neo4j store: the GraphStore protocol over the official driver.

Every node carries the label ``Entity`` (merged on its stable ``id``) and its ontology type's
label; every link is a relationship whose type the Model derives from the link's name. Each source
record is one ``Record`` node (keyed by source and record id) with an ``ASSERTS`` relationship to
each thing it asserts: to an entity, or, for a link, to the link's source entity with the link's
id as ``item``. An assertion is thus keyed by (item, source, record id), as in the embedded store,
and keeps what its record said of the item (``props``, JSON); each ``Record`` keeps its place in the
store's write sequence when last written (``seq``: batches in commit order, a batch's records in
the order they first appear). An item whose assertions were dropped, or rewritten by a later run
saying something else, gets its properties recomputed from what its remaining records say, in
that order (``base.merged_properties``), so a withdrawn value goes.
What the specs say of each information source (its agency...) is one node per source name, labelled
with the ontology's information source class: the source register.

Labels and relationship types are passed as parameters to ``$(...)`` and taken only from the
Model; query text comes only from ``nimgraph/queries/``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import neo4j
from neo4j import GraphDatabase, RoutingControl
from neo4j.exceptions import AuthError, DriverError, ServiceUnavailable, SessionExpired

from nimgraph.collector import collector_paused
from nimgraph.ids import META_FINGERPRINT, META_SECRET, IdKey, migration, store_key
from nimgraph.ontology import Core, Model
from nimgraph.records import Assertion, Batch, Entity, IncidentRead, Link, Subgraph, WriteStats
from nimgraph.store.base import merged_properties, says_otherwise, source_properties, unattributed
from nimgraph.store.errors import StoreConfigError, StoreUnavailableError
from nimgraph.store.expand import expand
from nimgraph.store.incident_read import AREA_DEPTH, IncidentTypes, RawIncidents, assemble, event_row, told
from nimgraph.store.queries import query
from nimgraph.store.schema import ENTITY_LABEL, META_LABEL, RECORD_LABEL, apply_schema

RETRACT_BATCH = 5000  # records withdrawn per transaction
REBUILD_BATCH = 2000  # entities (with the links they are the source of) recomputed per transaction
T = TypeVar("T")
Reader = Callable[..., list[neo4j.Record]]  # (query name, **parameters) -> records
_RESERVED = ("id", "type", "sources")  # the store's own: not partner properties


def record_key(assertion: Assertion) -> str:
    """A Record node's key: its source and record id."""
    return f"{assertion.source}\x1f{assertion.record_id}"


class Neo4jStore:
    """A GraphStore in Neo4j 5.26+; the driver is created once and closed with the store."""

    def __init__(
        self,
        uri: str,
        model: Model,
        *,
        user: str = "neo4j",
        password: str = "",
        database: str = "neo4j",
        max_connection_lifetime: int = 300,
        retry_seconds: float = 30.0,
        id_key: str = "",
    ) -> None:
        self.uri, self.model, self.database = uri, model, database
        self._configured_id_key = id_key
        self.driver: neo4j.Driver
        self._by_relationship = {link.relationship: name for name, link in model.links.items()}
        self._relationship_of = {name: link.relationship for name, link in model.links.items()}
        self._labels = {name: [model.entity_type(name).name] for name in model.entities}
        self._source_label = model.entity_type(Core.INFORMATION_SOURCE).name  # the source register's nodes
        try:
            self.driver = GraphDatabase.driver(
                uri,
                auth=(user, password),
                max_connection_lifetime=max_connection_lifetime,
                max_transaction_retry_time=retry_seconds,
            )
            self.driver.verify_connectivity()
        except AuthError:
            self._close_quietly()
            raise StoreConfigError(
                f"Neo4j at {uri} refused the credentials for user {user!r}; "
                "check NIMGRAPH_NEO4J_USER and NIMGRAPH_NEO4J_PASSWORD"
            ) from None
        except (ServiceUnavailable, DriverError, OSError, ValueError) as err:
            self._close_quietly()
            raise StoreUnavailableError(
                f"cannot reach Neo4j at {uri}: {type(err).__name__}; is the server running and the URI right?"
            ) from None

    def _close_quietly(self) -> None:
        driver = getattr(self, "_driver", None)
        if driver is not None:
            driver.close()

    # ------------------------------------------------------------------ writes
    def prepare(self) -> list[str]:
        return [f"{item.kind} {item.name}" for item in apply_schema(self.driver, self.model, self.database)]

    def upsert(self, batch: Batch) -> WriteStats:
        return self.stage(batch)()

    def encoder(self) -> StepEncoder:
        return StepEncoder(self.model, self._labels, self._relationship_of)

    def stage(self, batch: Batch) -> Callable[[], WriteStats]:
        encoded = self.encoder()(batch)
        return lambda: self.write_encoded(encoded)

    def write_group(self) -> _RunOfWrites:
        return _RunOfWrites(self)  # a server transaction a batch: the server holds no group

    def write_encoded(self, encoded: EncodedSteps, unsaid: Unsaid | None = None) -> WriteStats:
        """Write one batch in a transaction of its own. ``unsaid`` is the run's (see ``_RunOfWrites``);
        without it the write is its own run, and what its records did not say is dropped at once."""
        steps = encoded.steps
        records, assertions = steps[0][1], steps[-1][1]
        # What this write does to the run's unsaid list, applied once it commits: the driver may run
        # the transaction again after a transient error, so the work only reads the list.
        change: tuple[set[tuple[str, str]], Unsaid] = (set(), {})

        def work(tx: neo4j.ManagedTransaction) -> WriteStats:
            nonlocal change
            seq = tx.run(query("next_write_sequence").text, count=len(records)).single(strict=True)["seq"]
            results: dict[str, list[dict]] = {}
            held: dict[str, bool] = {}  # records the store held before: key -> written by an earlier run
            for name, rows, params in steps:
                if name == "upsert_assertions":
                    new_records = _new_records_asserting(rows, held) if held else encoded.new_assertions
                    if new_records:
                        tx.run(query("create_assertions").text, groups=new_records).consume()
                    rows = [row for row in rows if row["key"] in held] if held else []
                if rows:
                    numbered = {"seq": seq} if "seq" in query(name).parameters else {}
                    results[name] = tx.run(query(name).text, rows=rows, **params, **numbered).data()
                if name == "upsert_records":
                    held = {r["key"]: r["rewritten"] for r in results.pop(name, [])}
            # records an earlier run wrote: only their assertions can be stale or now say something else
            rewritten = {key for key, earlier_run in held.items() if earlier_run}
            said = {(row["key"], row["item"]): row["props"] for row in assertions} if held else {}
            said_again: set[tuple[str, str]] = set()  # said by an earlier run, and now by this one
            if unsaid:  # of every record, held or not: one retracted meanwhile is written anew
                said_again = {pair for row in assertions if (pair := (row["key"], row["item"])) in unsaid}
            corrected, adding = [], []
            for row in results.get("upsert_assertions", []):  # those that were there, saying something else
                pair = (row["key"], row["item"])
                if row["key"] not in rewritten and pair not in said_again:
                    adding.append(row)  # a record this run wrote in an earlier batch: its rows add up
                elif says_otherwise(row["before"], said[pair]):
                    corrected.append(row)  # upsert_assertions set what this run says in place of it
            self._add_up(tx, adding, said)
            found: Unsaid = {}  # what rewritten records said before and not in this batch
            if rewritten:
                items: dict[str, list[str]] = {}  # what each record says in this batch
                for key, item in said:
                    items.setdefault(key, []).append(item)
                records_said = [{"key": key, "items": items[key]} for key in sorted(rewritten)]
                for row in tx.run(query("unsaid_assertions").text, records=records_said):
                    found[row["key"], row["item"]] = Earlier(row["anchor"], encoded.run)
            if unsaid is None and found:  # a write of its own is its whole run
                corrected += self._drop_unsaid(tx, found)
            change = (said_again, found)
            _, recomputed = self._recompute(tx, corrected)
            stats = WriteStats()
            counted: set[str] = set()  # existing entities counted merged or updated
            for row in results.get("upsert_entities", []):  # one row of counts
                stats.created += row["created"]
                stats.merged += row["merged"]
                stats.updated += row["updated"]
                stats.unchanged += row["written"] - row["created"] - row["merged"] - row["updated"]
                stats.merged_ids.extend(row["merged_ids"][: 5 - len(stats.merged_ids)])
                counted.update(row["changed_ids"])
            # an entity of the batch that recomputing changed (a correction that only empties a value,
            # a value another record gave withdrawn) was updated, whatever its upsert found
            if recomputed:
                entity_ids = {row["id"] for name, rows, _ in steps if name == "upsert_entities" for row in rows}
                emptied = (recomputed & entity_ids) - counted
                stats.unchanged -= len(emptied)
                stats.updated += len(emptied)
            return stats

        stats = self._write(work)
        if unsaid is not None:
            said_again, found = change
            for pair in said_again:
                del unsaid[pair]
            unsaid.update(found)
        return stats

    @classmethod
    def _drop_unsaid(cls, tx: neo4j.ManagedTransaction, unsaid: Unsaid) -> list[dict]:
        """Drop the run's unsaid assertions, prune what no record asserts any more, and return what the
        dropped ones were about (``{item, anchor}``), to recompute what stands."""
        rows = [
            {"key": key, "item": item, "anchor": earlier.anchor, "run": earlier.run}
            for (key, item), earlier in sorted(unsaid.items())
        ]
        dropped = tx.run(query("drop_unsaid_assertions").text, rows=rows).data()
        cls._prune(tx, dropped)
        return dropped

    def _end_run(self, unsaid: Unsaid) -> None:
        def work(tx: neo4j.ManagedTransaction) -> None:
            self._recompute(tx, self._drop_unsaid(tx, unsaid))

        self._write(work)

    def encode(self, batch: Batch) -> list[tuple[str, list[dict], dict]]:
        """The batch as (query name, rows, other parameters) steps, in the order one transaction runs them."""
        return self.encoder()(batch).steps

    @staticmethod
    def _add_up(tx: neo4j.ManagedTransaction, rows: list[dict], said: dict[tuple[str, str], str]) -> None:
        """Rows that share a record id within a run add up: so does what the record says of an item."""
        merged = [
            {**row, "props": json.dumps(merged_properties([row["before"], said[(row["key"], row["item"])]]))}
            for row in rows
        ]
        if merged:
            tx.run(query("add_up_assertions").text, rows=merged).consume()

    @staticmethod
    def _prune(tx: neo4j.ManagedTransaction, touched: list[dict]) -> None:
        touched = [t for t in touched if t.get("item") is not None]
        links = [t for t in touched if t["item"] != t["anchor"]]
        entities = sorted({t["item"] for t in touched if t["item"] == t["anchor"]})
        if links:  # links first: deleting an entity deletes the links it anchors
            tx.run(query("prune_links").text, rows=links).consume()
        if entities:
            tx.run(query("prune_entities").text, ids=entities).consume()
        anchors = sorted({t["anchor"] for t in touched})  # those still standing: who asserts them now
        if anchors:
            tx.run(query("refresh_sources").text, ids=anchors).consume()

    @staticmethod
    def _recompute(tx: neo4j.ManagedTransaction, touched: list[dict]) -> tuple[Counter[str], set[str]]:
        """Give each touched item (``{item, anchor}``) that still stands the properties its remaining
        records say, merged in the order they were written, in place of what it held (the store's
        own, id, type and sources, stay); how many ``entities`` and ``links`` changed, and the ids
        of the entities that did.

        An item one of whose records was written before stores kept what records say keeps what it
        has: there is nothing to recompute it from. Those holding a value no other record gives are
        counted as ``unknown``.
        """
        rows = sorted({(t["item"], t["anchor"]) for t in touched if t.get("item") is not None})
        counts: Counter[str] = Counter()
        if not rows:
            return counts, set()
        changes: dict[str, list[dict]] = {"entities": [], "links": []}
        for row in tx.run(query("said_of_items").text, rows=[{"item": i, "anchor": a} for i, a in rows]):
            said = [one for (one,) in row["said"]]
            if not said:  # gone with its last record
                continue
            kind = "entities" if row["item"] == row["anchor"] else "links"
            own = _RESERVED if kind == "entities" else ("id",)
            holds = {k: v for k, v in row["properties"].items() if k not in own}
            merged = merged_properties(said)
            if merged is None:
                counts["unknown"] += unattributed(holds, said)
                continue
            wanted = _clean(merged)
            if wanted != holds:  # a null removes a property
                gone = dict.fromkeys(k for k in holds if k not in wanted)
                changes[kind].append({"id": row["item"], "anchor": row["anchor"], "properties": {**gone, **wanted}})
        for kind, name in (("entities", "set_entity_properties"), ("links", "set_link_properties")):
            if changes[kind]:
                tx.run(query(name).text, rows=changes[kind]).consume()
                counts[kind] += len(changes[kind])
        return counts, {change["id"] for change in changes["entities"]}

    def register_source(self, name: str, properties: dict[str, str]) -> None:
        said = source_properties(self.model, name, properties)
        self._write(
            lambda tx: tx.run(
                query("register_source").text, label=self._source_label, name=name, properties=said
            ).consume()
        )

    def retract(self, source: str, record_ids: Iterable[str] | None = None) -> dict[str, int]:
        before = self.counts()
        records = 0
        named = sorted(set(record_ids)) if record_ids is not None else None

        def work(tx: neo4j.ManagedTransaction) -> int:
            if named is not None:
                rows = tx.run(query("retract_named_records").text, source=source, record_ids=named).data()
            else:
                rows = tx.run(query("retract_records").text, source=source, limit=RETRACT_BATCH).data()
            touched = [t for row in rows for t in row["touched"]]
            self._prune(tx, touched)
            self._recompute(tx, touched)  # what stays says only what its remaining records say
            return len(rows)

        while True:  # a transaction per few thousand records, so a large source does not exhaust memory
            done = self._write(work)
            records += done
            if named is not None or done < RETRACT_BATCH:
                break
        after = self.counts()
        return {
            "records": records,
            "entities": sum(before["entities"].values()) - sum(after["entities"].values()),
            "links": sum(before["links"].values()) - sum(after["links"].values()),
        }

    def rebuild_properties(self) -> dict[str, int]:
        """Recompute every item's properties from what its records say (see base.GraphStore), a
        transaction per page of entities with the links they are the source of."""
        rebuilt: Counter[str] = Counter({"entities": 0, "links": 0, "unknown": 0})
        after = ""

        def work(tx: neo4j.ManagedTransaction) -> tuple[list[str], Counter[str]]:
            page = tx.run(query("items_after").text, after=after, limit=REBUILD_BATCH).data()
            touched = [
                {"item": item, "anchor": row["id"]} for row in page for item in [row["id"], *row["links"]] if item
            ]
            return [row["id"] for row in page], self._recompute(tx, touched)[0]

        while True:
            ids, counts = self._write(work)
            rebuilt.update(counts)
            if len(ids) < REBUILD_BATCH:
                return dict(rebuilt)
            after = ids[-1]

    def _write(self, work: Callable[[neo4j.ManagedTransaction], T]) -> T:
        """Run ``work`` as one managed write transaction, retried by the driver on transient errors."""
        try:
            with self.driver.session(database=self.database) as session:
                return session.execute_write(work)
        except (ServiceUnavailable, SessionExpired) as err:
            raise StoreUnavailableError(
                f"Neo4j at {self.uri} stopped answering during a write and retries ran out "
                f"({type(err).__name__}); the batch was not written. Run the same ingest again to complete it."
            ) from None

    # ------------------------------------------------------------------ reads
    def _read(self, name: str, **parameters: object) -> list[neo4j.Record]:
        try:
            records, _, _ = self.driver.execute_query(
                query(name).text, parameters, database_=self.database, routing_=RoutingControl.READ
            )
        except (ServiceUnavailable, SessionExpired) as err:
            raise StoreUnavailableError(f"Neo4j at {self.uri} is not answering ({type(err).__name__})") from None
        return records

    def _read_together(self, work: Callable[[Reader], T]) -> T:
        """Run several named queries in one managed read transaction: one session, one round of
        begin and commit, instead of one per query (a bounded read of a few hops makes a dozen)."""

        def in_transaction(tx: neo4j.ManagedTransaction) -> T:
            return work(lambda name, **parameters: list(tx.run(query(name).text, parameters)))

        try:
            with self.driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS) as session:
                return session.execute_read(in_transaction)
        except (ServiceUnavailable, SessionExpired) as err:
            raise StoreUnavailableError(f"Neo4j at {self.uri} is not answering ({type(err).__name__})") from None

    def get(self, entity_id: str) -> Entity | None:
        return self._entities([entity_id]).get(entity_id)

    def find(
        self, type_name: str | None = None, text: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[Entity]:
        types = sorted(self.model.descendants(type_name)) if type_name else None
        rows = self._read("find_entities", types=types, text=text or None, skip=offset, limit=limit)
        ids = [r["id"] for r in rows]
        found = self._entities(ids)
        return [found[i] for i in ids]

    def neighbourhood(
        self,
        seeds: Iterable[str],
        hops: int,
        link_types: Iterable[str] | None = None,
        max_entities: int = 5000,
        entity_provenance: bool = True,
        handling: Iterable[str] | None = None,
    ) -> Subgraph:
        relationships = self._relationships(link_types) if link_types is not None else None
        codes = sorted(set(handling)) if handling is not None else None
        chosen = list(seeds)

        def work(read: Reader) -> Subgraph:
            seen, links, truncated = expand(
                chosen,
                hops,
                max_entities,
                lambda ids, limit: [
                    self._link(row, row["records"])
                    for row in read(
                        "links_touching", ids=sorted(ids), relationships=relationships, limit=limit, handling=codes
                    )
                ],
            )
            entities = self._entities(seen, read, "get_entities" if entity_provenance else "entity_facts")
            return Subgraph(entities=entities, links=links, truncated=truncated)

        return self._read_together(work)

    def subgraph(self, link_types: Iterable[str]) -> Subgraph:
        rows = self._read("links_of_types", relationships=self._relationships(link_types))
        links = {r["id"]: self._link(r) for r in rows}
        entities = self._entities({end for k in links.values() for end in (k.source, k.target)})
        self._attach_link_provenance(links)
        return Subgraph(entities=entities, links=links)

    @collector_paused()
    def incidents(self, since: str, until: str, handling: Iterable[str] | None = None) -> IncidentRead:
        types = IncidentTypes.of(self.model)
        codes = sorted(set(handling)) if handling is not None else None
        read = assemble(
            self._read_together(lambda read: self._incident_rows(read, types, since, until, codes)),
            self.model,
            since,
            until,
        )
        rows = self._read("records_behind", ids=[i.id for i in read.incidents], handling=codes)
        read.records = {(r["source"], r["grade"], r["handling"]): r["records"] for r in rows}
        return read

    def _incident_rows(
        self, read: Reader, types: IncidentTypes, since: str, until: str, codes: list[str] | None
    ) -> RawIncidents:
        raw = RawIncidents()
        events = read("incident_events", types=types.events, since=since, until=until, handling=codes)

        def links(name: str, ids: Iterable[str], link_types: list[str]) -> list[neo4j.Record]:
            return read(name, ids=sorted(ids), relationships=self._relationships(link_types), handling=codes)

        location_of: dict[str, str] = {}
        for r in links("visible_links_from", (row["id"] for row in events), types.placed):
            if r["source"] not in location_of or r["target"] < location_of[r["source"]]:  # the first place by id
                location_of[r["source"]] = r["target"]
        for row in events:
            properties = row["properties"] if not row["hidden"] else told(row["said"])
            raw.events.append(event_row(row["id"], row["type"], properties, location_of.get(row["id"])))
        frontier = set(location_of.values())
        named = set(frontier)
        for _ in range(AREA_DEPTH):
            step = [(r["source"], r["target"]) for r in links("visible_links_from", frontier, types.within)]
            raw.within.extend(step)
            frontier = {target for _, target in step} - named
            named |= frontier
            if not frontier:
                break
        for row in read("entities_as_told", ids=sorted(named), types=None, handling=codes):
            raw.places[row["id"]] = (row["type"], self._as_told(row))
        raw.involvements = [
            (r["source"], r["target"], self._by_relationship[r["relationship"]])
            for r in links("visible_links_to", (row["id"] for row in events), types.roles)
        ]
        for row in read("entities_as_told", ids=None, types=types.reports, handling=codes):
            raw.reports.append((row["id"], self._as_told(row), list(row["grades"])))
        return raw

    @staticmethod
    def _as_told(row: neo4j.Record) -> dict:
        if row["hidden"]:
            return told(row["said"])
        return {k: v for k, v in row["properties"].items() if k not in _RESERVED}

    def sources(self) -> dict[str, dict[str, str]]:
        rows = self._read("information_sources", label=self._source_label)
        return {r["name"]: {k: v for k, v in sorted(r["properties"].items()) if k != "name"} for r in rows}

    def counts(self) -> dict[str, dict[str, int]]:
        entities = {r["type"]: r["count"] for r in self._read("count_entities")}
        links = {self._by_relationship[r["relationship"]]: r["count"] for r in self._read("count_links")}
        return {"entities": dict(sorted(entities.items())), "links": dict(sorted(links.items()))}

    def node_count(self) -> int:
        """Every node in the database, whatever its label (the store's own included)."""
        return self._read("count_nodes")[0]["nodes"]

    def close(self) -> None:
        self.driver.close()

    # ------------------------------------------------------------------ ids
    def id_key(self) -> IdKey:
        """The key behind this store's entity ids (see nimgraph.ids); made with a new store."""
        meta, has_entities = self._meta()
        key = store_key(self._configured_id_key, meta, has_entities, self._write_meta)
        if META_FINGERPRINT in meta:
            return key
        meta, _ = self._meta()  # what was written: ours, or the key of a process that came first
        return store_key(self._configured_id_key, meta, True, self._write_meta)

    def _meta(self) -> tuple[dict[str, str], bool]:
        (row,) = self._read("read_meta")
        return {m["name"]: m["value"] for m in row["meta"] if "name" in m and "value" in m}, row["has_entities"]

    def _write_meta(self, rows: dict[str, str]) -> None:
        self._write(lambda tx: tx.run(query("write_meta").text, rows=_meta_rows(rows)).consume())

    def migrate_ids(self) -> int:
        """Rewrite ids made before ids were keyed, in one transaction; the number of entities rewritten."""
        if META_FINGERPRINT in self._meta()[0]:
            return 0
        key = IdKey(self._configured_id_key) if self._configured_id_key else IdKey.generate()

        def work(tx: neo4j.ManagedTransaction) -> int:
            found = list(tx.run(query("ids_for_migration").text))
            links = [
                (link_id, self._by_relationship.get(relationship, relationship), r["id"], target)
                for r in found
                for link_id, relationship, target in r["links"]
            ]
            entities, renamed, turned = migration(key, [r["id"] for r in found], links, self.model.oriented)
            tx.run(query("rekey_entities").text, rows=[{"old": o, "new": n} for o, n in entities.items()]).consume()
            rows = [
                {"old": old, "new": renamed[old], "source": entities[source]}
                for old, _, source, _ in links
                if old in renamed
            ]
            tx.run(query("rekey_links").text, rows=rows).consume()
            turn = [{"id": i} for i in sorted(turned)]  # a symmetric link's ends, as ingest orders the keyed ids
            tx.run(query("turn_links").text, rows=turn).consume()
            fresh = {META_FINGERPRINT: key.fingerprint}
            if not self._configured_id_key:
                fresh[META_SECRET] = key.secret
            tx.run(query("write_meta").text, rows=_meta_rows(fresh)).consume()
            return len(entities)

        return self._write(work)

    # ------------------------------------------------------------------ helpers
    def _relationships(self, link_types: Iterable[str]) -> list[str]:
        return sorted({self.model.link_type(name).relationship for name in link_types})

    def _link(self, row: neo4j.Record, records: list[dict] | None = None) -> Link:
        properties = {k: v for k, v in row["properties"].items() if k != "id"}
        return Link(
            id=row["id"],
            type=self._by_relationship[row["relationship"]],
            source=row["source"],
            target=row["target"],
            properties=properties,
            provenance=_assertions(records or []),
        )

    def _entities(
        self, ids: Iterable[str], read: Reader | None = None, name: str = "get_entities"
    ) -> dict[str, Entity]:
        rows = (read or self._read)(name, ids=sorted(ids))
        return {
            r["id"]: Entity(
                id=r["id"],
                type=r["type"],
                properties={k: v for k, v in r["properties"].items() if k not in _RESERVED},
                provenance=_assertions(r["records"]),
            )
            for r in rows
        }

    def _attach_link_provenance(self, links: dict[str, Link], read: Reader | None = None) -> None:
        if links:
            anchors = [{"id": k.id, "source": k.source} for k in sorted(links.values(), key=lambda k: k.id)]
            self._attach(links, (read or self._read)("records_for_links", links=anchors))

    @staticmethod
    def _attach(items: dict[str, Entity] | dict[str, Link], rows: list[neo4j.Record]) -> None:
        for row in rows:  # already ordered by source and record id
            items[row["item_id"]].provenance.extend(_assertions([row]))


class Earlier(NamedTuple):
    """A record's assertion from an earlier run, which the run writing the record has not said (yet)."""

    anchor: str
    run: str


# A run's (record key, item) assertions said by an earlier run and not yet by it: stale if still unsaid at its end
Unsaid = dict[tuple[str, str], Earlier]


class _RunOfWrites:
    """An ingest's writes to Neo4j (a WriteGroup): each batch commits as it is written, and the run's
    end drops what its records said before and no longer say (a record's rows may span batches)."""

    def __init__(self, store: Neo4jStore) -> None:
        self.store = store
        self.unsaid: Unsaid = {}

    def write(self, encoded: EncodedSteps) -> WriteStats:
        return self.store.write_encoded(encoded, self.unsaid)

    def close(self) -> None:
        if self.unsaid:
            self.store._end_run(self.unsaid)
        self.unsaid.clear()

    def abandon(self) -> None:
        self.unsaid.clear()  # a run that stopped partway cannot tell what its records no longer say


class EncodedSteps(NamedTuple):
    steps: list[tuple[str, list[dict], dict]]  # as encode_batch gives them
    run: str
    # the assertions grouped by anchor as create_assertions takes them, were every record new to
    # the store (as on a first load): made beside the mapping, not while the server waits
    new_assertions: list[dict]


@dataclass(frozen=True)
class StepEncoder:
    """A batch as the steps of its write transaction (``encode_batch``), made with no connection, so a
    mapping process can make them and send them to the process that writes."""

    model: Model
    labels: dict[str, list[str]]
    relationship_of: dict[str, str]

    def __call__(self, batch: Batch) -> EncodedSteps:
        steps = encode_batch(self.model, batch, self.labels, self.relationship_of)
        return EncodedSteps(steps, batch.run, _new_records_asserting(steps[-1][1], {}))


def encode_batch(
    model: Model, batch: Batch, labels: dict[str, list[str]], relationship_of: dict[str, str]
) -> list[tuple[str, list[dict], dict]]:
    """A batch as the (query name, rows, other parameters) steps one write transaction runs, in order:
    records, entities, links, assertions. ``labels`` and ``relationship_of`` are the Model's (type ->
    its labels; link type -> its relationship type). The bulk load (nimgraph.ingest.bulk) replays the
    same rows, so both write the same graph.

    An entity, link or assertion the batch holds twice (two rows of one record) is sent once, what
    the rows say added up in order, as the embedded store writes it: a MERGE run twice in one
    query would count it twice and keep only the last row's saying.
    """
    entities: dict[str, dict] = {}
    links: dict[str, dict] = {}
    try:
        for e in batch.entities:
            known = entities.get(e.id)
            sources = {a.source for a in e.provenance}
            if known is None:
                entities[e.id] = {
                    "id": e.id,
                    "type": e.type,
                    "labels": labels[e.type],
                    "properties": _patch(e.properties),
                    "sources": sorted(sources),
                }
            else:  # a later null still removes what an earlier row set (SET n += applies both)
                known["properties"] = {**known["properties"], **_patch(e.properties)}
                known["sources"] = sorted({*known["sources"], *sources})
        for k in batch.links:
            known = links.get(k.id)
            if known is None:
                links[k.id] = {
                    "id": k.id,
                    "relationship": relationship_of[k.type],
                    "source": k.source,
                    "target": k.target,
                    "properties": _patch(k.properties),
                }
            else:
                known["properties"] = {**known["properties"], **_patch(k.properties)}
    except KeyError:  # only ontology types reach the store; let the Model say what is wrong
        for e in batch.entities:
            model.entity_type(e.type)
        for k in batch.links:
            model.link_type(k.type)
        raise
    records: dict[str, dict] = {}
    assertions: dict[tuple[str, str], dict] = {}
    # a link's assertions hang on its source entity: relationships cannot have their own
    for items, is_link in ((batch.entities, False), (batch.links, True)):
        for item in items:
            anchor = item.source if is_link else item.id
            for a in item.provenance:
                key = record_key(a)
                if key not in records:  # its place in the batch's part of the write sequence: first seen
                    records[key] = {"key": key, **a.as_dict(), "position": len(records)}
                said = item.properties if a.properties is None else a.properties  # the record's own, if given
                props = json.dumps(said, default=str)
                before = assertions.get((key, item.id))
                if before is not None:  # two rows of one record: what they say adds up
                    props = json.dumps(merged_properties([before["props"], props]), default=str)
                assertions[key, item.id] = {"key": key, "item": item.id, "anchor": anchor, "props": props}
    return [  # nodes first, so that links and assertions find their ends in the same transaction
        ("upsert_records", list(records.values()), {"run": batch.run}),  # and "seq", where the batch's part starts
        ("upsert_entities", list(entities.values()), {}),
        ("upsert_links", list(links.values()), {}),
        ("upsert_assertions", list(assertions.values()), {}),
    ]


def _new_records_asserting(rows: list[dict], held: dict[str, bool]) -> list[dict]:
    """The assertions of records new to the store (not in ``held``), one group per anchor, for
    ``create_assertions``: nothing merges with them, and ``encode_batch`` sends each pair once.

    >>> rows = [{"key": "r1", "item": "s", "anchor": "s", "props": '{"a": 1}'},
    ...         {"key": "r2", "item": "k", "anchor": "s", "props": '{}'},
    ...         {"key": "r0", "item": "s", "anchor": "s", "props": '{}'}]
    >>> groups = _new_records_asserting(rows, {"r0": False})
    >>> [(g["anchor"], [(r["key"], r["item"]) for r in g["rows"]]) for g in groups]
    [('s', [('r1', 's'), ('r2', 'k')])]
    """
    groups: dict[str, list[dict]] = {}
    for row in rows:  # the row itself, not a copy: a batch sent to the writer carries each row once
        if row["key"] not in held:
            groups.setdefault(row["anchor"], []).append(row)
    return [{"anchor": anchor, "rows": grouped} for anchor, grouped in groups.items()]


def _assertions(records: list[dict] | list[neo4j.Record]) -> list[Assertion]:
    """Records as provenance, in the order every store gives them: by source, then record id."""
    ordered = sorted(records, key=lambda r: (r["source"], r["record_id"]))
    return [_assertion(r) for r in ordered]


def _assertion(r: dict | neo4j.Record) -> Assertion:
    said = r.get("props")  # what the record says of the item's properties, as JSON; none if written before kept
    fields = (r["source"], r["record_id"], r["file"], r["row"], r["date"], r["grade"], r["handling"])
    return Assertion(*fields, properties=json.loads(said) if said else None, written=r.get("seq"))


def _clean(properties: dict) -> dict:
    """Neo4j stores no nulls, and ``id``/``type`` belong to the store."""
    return {k: v for k, v in properties.items() if v is not None and k not in _RESERVED}


def _patch(properties: dict) -> dict:
    """What an upsert sets: a null stays, as ``SET n += $map`` removes that property (as json_patch does)."""
    return {k: v for k, v in properties.items() if k not in _RESERVED}


__all__ = ["ENTITY_LABEL", "META_LABEL", "RECORD_LABEL", "Neo4jStore", "encode_batch", "record_key"]


def _meta_rows(rows: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in rows.items()]
