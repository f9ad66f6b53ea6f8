"""The store as one caller may see it: handling codes cleared, people pseudonymised, releases counted.

Every read the API makes for a caller goes through a ``ClearedView``, so the analyses and the
products built on it never see what the caller may not:

- A record whose handling code the caller is not cleared for is dropped from every provenance
  list. An entity or link that only such records support is withheld, and so is a link with a
  withheld end. A neighbourhood keeps only what visible links still connect to the seeds.
- Properties merge across records, so an entity that hidden records also support shows what its
  visible records themselves said (each assertion keeps its row's properties); for records
  stored before that was kept, only the key properties, which every record behind it carried.
- A pseudonymised caller sees each entity that identifies a person (``nim:identifiesPerson``)
  under a stable pseudonym with no properties, free text nowhere, and record ids as
  pseudonymous references; ids of such entities are accepted only as pseudonyms, and a text
  search matches only what the caller can see.
- What was withheld is counted (distinct items, across every read the view makes), and the ids of
  personal-data items released are kept for the audit log.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import replace

from nimgraph.access.pseudonyms import PREFIX, Pseudonyms
from nimgraph.access.roles import Clearance
from nimgraph.labels import entity_label
from nimgraph.ontology import Model
from nimgraph.records import PARTNERSHIP_SOURCE, Assertion, Entity, IncidentRead, Involvement, Link, Place, Subgraph
from nimgraph.store.base import GraphReader, SourceRegister

SCAN_CHUNK = 500  # store matches read per step while a page of visible matches is gathered


class ClearedView:
    def __init__(
        self, store: GraphReader, model: Model, clearance: Clearance, pseudonyms: Pseudonyms | None = None
    ) -> None:
        if clearance.pseudonymised and pseudonyms is None:
            raise ValueError("a pseudonymised clearance needs the pseudonym register")
        self._store = store
        self._model = model
        self._clearance = clearance
        self._pseudonyms = pseudonyms if clearance.pseudonymised else None
        self._withheld_entities: set[str] = set()
        self._withheld_links: set[str] = set()
        self._hidden_records: set[tuple[str, str]] = set()
        self.released: set[str] = set()  # real ids of released entities that identify a person
        self.has_more = False  # whether the caller can see more matches after the last page find() gave
        self._shown: dict[str, str] = {}  # pseudonym -> real id, of what incidents() gave

    def sources(self) -> dict[str, dict[str, str]]:
        """The source register: not personal data, and a product lists only the sources of records it cites."""
        return self._store.sources() if isinstance(self._store, SourceRegister) else {}

    # ------------------------------------------------------------------ what the audit log is told
    @property
    def clearance(self) -> Clearance:
        return self._clearance

    @property
    def withheld(self) -> dict[str, int]:
        """Distinct entities, links and source records withheld from this caller so far.

        For the audit log and admins only: told to the caller, a count is an oracle for what it
        may not see (see docs/security.md).
        """
        return {
            "entities": len(self._withheld_entities),
            "links": len(self._withheld_links),
            "records": len(self._hidden_records),
        }

    def real_id(self, entity_id: str) -> str | None:
        """The store's id for an id the caller gave; None for one the caller may not use."""
        if self._pseudonyms is None:
            return entity_id
        if entity_id.startswith(PREFIX):
            return self._pseudonyms.resolve(entity_id)
        type_name = entity_id.split("-", 1)[0]
        if type_name in self._model.entities and self._model.identifies_person(type_name):
            return None  # a computed real id must not confirm that a named person is in the graph
        # an id's prefix is not always its type (a Neo4j import keys a node by its id space, whatever its label)
        stored = self._store.get(entity_id)
        return None if stored is not None and self._identifies(stored.type) else entity_id

    # ------------------------------------------------------------------ reads
    def get(self, entity_id: str) -> Entity | None:
        real = self.real_id(entity_id)
        entity = self._store.get(real) if real else None
        if entity is None:
            return None
        shown = self._entity(entity)
        self._release([shown] if shown else [])
        return self._present(shown) if shown else None

    def find(
        self,
        type_name: str | None = None,
        text: str | None = None,
        limit: int = 50,
        offset: int = 0,
        where: dict[str, str] | None = None,
    ) -> list[Entity]:
        """A page of what the caller can see that matches, counted among visible matches only.

        The store's matches are read in chunks and filtered here, so ``offset``, the page and
        ``has_more`` depend only on what the caller may see: a hidden match neither shortens a
        page nor moves the next one. ``text`` and ``where`` (property equals value, folded) must
        match what the caller is shown, so a hidden or pseudonymised value never matches. A
        pseudonymised caller gets its matches ordered by pseudonym, not by the store's ids, which
        would line pseudonyms up with a list of real ids.
        """
        if text is not None and self._pseudonyms is not None and text.startswith(PREFIX):
            one = self.get(text)
            kept = one is not None and (type_name is None or self._model.is_a(one.type, type_name))
            self.has_more = False
            return [one] if one is not None and kept and _has(one, where or {}) else []
        enough = offset + limit + 1
        shown: list[tuple[Entity, Entity]] = []
        scanned = 0
        while True:
            found = self._store.find(type_name, text, limit=SCAN_CHUNK, offset=scanned)
            scanned += len(found)
            for entity in found:
                visible = self._entity(entity)
                if visible is None:
                    continue
                presented = self._present(visible)
                if (text and not _matches(presented, text)) or not _has(presented, where or {}):
                    self._withheld_entities.add(entity.id)  # it matched on something the caller cannot see
                    continue
                shown.append((visible, presented))
            if len(found) < SCAN_CHUNK or (self._pseudonyms is None and len(shown) >= enough):
                break
        if self._pseudonyms is not None:
            shown.sort(key=lambda pair: pair[1].id)
        page = shown[offset : offset + limit]
        self.has_more = len(shown) > offset + limit
        self._release([v for v, _ in page])
        return [p for _, p in page]

    def neighbourhood(
        self,
        seeds: Iterable[str],
        hops: int,
        link_types: Iterable[str] | None = None,
        max_entities: int = 5000,
        entity_provenance: bool = True,
    ) -> Subgraph:
        """What visible links connect to the seeds within ``hops``, nearest first, up to ``max_entities``.

        For a caller whose clearance hides records, the store walks only links and entities that
        records of the caller's codes assert, so its cap, its link budget and ``truncated`` count
        nothing the caller may not see; the nearest visible entities are then kept here.
        """
        real_seeds = [r for r in (self.real_id(s) for s in seeds) if r]
        only = None if self._clearance.sees_everything else self._clearance.handling
        # An entity's records decide what a filtered caller sees of it, so they are read unless the
        # caller sees every code and the question needs no records (a ranking of a large network).
        records = entity_provenance or not self._clearance.sees_everything
        sub = self._store.neighbourhood(real_seeds, hops, link_types, max_entities, records, handling=only)
        cleared = self._cleared(sub, every_entity=not records)
        distance = _distances(cleared, [s for s in real_seeds if s in cleared.entities], hops)
        nearest = sorted(distance, key=lambda entity_id: (distance[entity_id], entity_id))
        kept = set(nearest[:max_entities])
        for entity_id in set(cleared.entities) - kept:
            self._withheld_entities.add(entity_id)
        cleared = Subgraph(
            entities={i: e for i, e in cleared.entities.items() if i in kept},
            links={i: k for i, k in cleared.links.items() if k.source in kept and k.target in kept},
            truncated=sub.truncated or len(nearest) > max_entities,
        )
        return self._presented(cleared)

    def subgraph(self, link_types: Iterable[str]) -> Subgraph:
        """Every visible link of the given types with its two ends, and nothing else.

        The store reads an end for each link, hidden ones too; an entity left with no visible link
        goes, or it would say that a hidden link of that type touches it (a P-only caller asking
        for offender links would otherwise be shown who has a C-recorded offence).
        """
        cleared = self._cleared(self._store.subgraph(link_types))
        ends = {end for link in cleared.links.values() for end in (link.source, link.target)}
        self._withheld_entities.update(set(cleared.entities) - ends)
        kept = Subgraph(
            entities={i: e for i, e in cleared.entities.items() if i in ends},
            links=cleared.links,
            truncated=cleared.truncated,
        )
        return self._presented(kept)

    def incidents(self, since: str, until: str) -> IncidentRead:
        """The period's incidents as the caller may see them, for counting.

        The store reads only what records of the caller's codes assert. People appear under
        pseudonyms for a pseudonymised caller, and so does a place that identifies a person (a
        home address), which also loses its label and coordinates, as do the incidents there.
        Nothing here is released: a product counts people without showing them, and names in
        ``release`` only those it shows.
        """
        only = None if self._clearance.sees_everything else self._clearance.handling
        read = self._store.incidents(since, until, handling=only)
        pseudonyms = self._pseudonyms
        if pseudonyms is None:
            return read
        private = {p for p, place in read.places.items() if self._identifies(place.type)}
        shown_as = {p: pseudonyms.of(p) for p in private}
        places = {
            shown_as.get(p, p): self._private_place(shown_as[p], place.type) if p in private else place
            for p, place in read.places.items()
        }
        incidents = [
            i._replace(location=shown_as[i.location], latitude=None, longitude=None) if i.location in private else i
            for i in read.incidents
        ]
        # every party is pseudonymised: the row does not say whether it is a person, and an
        # organisation shown under a pseudonym costs nothing while a person shown by id would
        for party in {i.person for i in read.involvements}:
            shown_as[party] = pseudonyms.of(party)
        self._shown.update({pseudonym: real for real, pseudonym in shown_as.items()})
        involvements = [Involvement(shown_as[i.person], i.event, i.role) for i in read.involvements]
        return IncidentRead(
            incidents=incidents, involvements=involvements, places=places, reports=read.reports, records=read.records
        )

    def _private_place(self, pseudonym: str, type_name: str) -> Place:
        """A home as a pseudonymised caller sees it anywhere: its type and its pseudonym's digits, no more."""
        return Place(pseudonym, type_name, entity_label(self._model, Entity(pseudonym, type_name)))

    def release(self, shown: Iterable[str]) -> None:
        """Record as released the people (and homes) a product shows from ``incidents``, by the ids
        the caller saw, and register their pseudonyms so that the caller can ask about them."""
        real = {resolved for entity_id in shown if (resolved := self._pseudonym_of(entity_id))}
        self.released.update(real)
        if self._pseudonyms is not None:
            self._pseudonyms.register(real)

    def _pseudonym_of(self, shown_id: str) -> str | None:
        if self._pseudonyms is None or not shown_id.startswith(PREFIX):
            return shown_id
        return self._shown.get(shown_id)

    def release_only(self, shown: Iterable[str], before: set[str]) -> None:
        """Narrow what the audit log is told was released to ``before`` and what an answer shows.

        A question reads more than it shows (a ranking reads the whole network, a label lookup
        scans every candidate); the log records whom the caller was shown, by real id. ``shown``
        holds ids as the caller saw them (pseudonyms where it sees people under them).
        """
        real = {resolved for entity_id in shown if (resolved := self.real_id(entity_id))}
        self.released = before | (self.released & real)

    # ------------------------------------------------------------------ clearance
    def _records(self, provenance: list[Assertion]) -> list[Assertion]:
        visible = []
        for record in provenance:
            if not self._clearance.sees(record.handling):
                self._hidden_records.add((record.source, record.record_id))
            elif self._clearance.sees_everything:
                visible.append(record)
            else:  # the gaps between a file's visible row numbers count its hidden rows
                visible.append(replace(record, row=0))
        return visible

    def _entity(self, entity: Entity) -> Entity | None:
        visible = self._records(entity.provenance)
        if not visible:
            self._withheld_entities.add(entity.id)
            return None
        if len(visible) == len(entity.provenance):
            # the same records, with row numbers blanked for a caller who is not cleared for everything
            return entity if self._clearance.sees_everything else replace(entity, provenance=visible)
        return replace(entity, properties=self._told_by(entity, visible), provenance=visible)

    @staticmethod
    def _said_by(visible: list[Assertion]) -> dict | None:
        """What the visible records themselves say, merged in the store's write order as the store merges
        them all (the last visible writer wins; a null removes); None where a record's saying is not kept."""
        if not all(record.properties is not None for record in visible):
            return None
        told: dict = {}
        for record in sorted(visible, key=lambda r: (r.written is not None, r.written or 0)):
            told.update(record.properties or {})
        return {k: v for k, v in told.items() if v is not None}

    def _told_by(self, entity: Entity, visible: list[Assertion]) -> dict:
        """The properties the visible records themselves give, where the store kept what each said.

        Otherwise (records written before stores kept it) only the key properties, which every
        record behind the entity carried: they make its id.
        """
        said = self._said_by(visible)
        if said is not None:
            return said
        keys = set(self._model.entity_type(entity.type).keys) if entity.type in self._model.entities else set()
        return {k: v for k, v in entity.properties.items() if k in keys}

    def _link(self, link: Link, entities: dict[str, Entity]) -> Link | None:
        visible = self._records(link.provenance)
        if not visible or link.source not in entities or link.target not in entities:
            self._withheld_links.add(link.id)
            return None
        if self._clearance.sees_everything or len(visible) == len(link.provenance):
            return link if self._clearance.sees_everything else replace(link, provenance=visible)
        # what the visible records say of the link, not what a hidden one added (a link has no keys to
        # fall back on: where a record's saying was not kept, it shows no properties)
        return replace(link, provenance=visible, properties=self._said_by(visible) or {})

    def _cleared(self, sub: Subgraph, every_entity: bool = False) -> Subgraph:
        """``every_entity``: read without records for a caller who sees every code, all are visible."""
        if every_entity:
            entities = dict(sub.entities)
        else:
            entities = {i: shown for i, e in sub.entities.items() if (shown := self._entity(e)) is not None}
        links = {i: shown for i, k in sub.links.items() if (shown := self._link(k, entities)) is not None}
        return Subgraph(entities=entities, links=links, truncated=sub.truncated)

    # ------------------------------------------------------------------ pseudonyms and release
    def _release(self, shown: list[Entity]) -> None:
        personal = [e.id for e in shown if self._identifies(e.type)]
        self.released.update(personal)
        if self._pseudonyms is not None:
            self._pseudonyms.register(personal)

    def _presented(self, cleared: Subgraph) -> Subgraph:
        self._release(list(cleared.entities.values()))
        if self._pseudonyms is None:
            return cleared
        entities = {}
        for entity in cleared.entities.values():
            shown = self._present(entity)
            entities[shown.id] = shown
        links = {}
        for link in cleared.links.values():
            shown_link = self._present_link(link, cleared.entities)
            links[shown_link.id] = shown_link
        return Subgraph(entities=entities, links=links, truncated=cleared.truncated)

    def _identifies(self, type_name: str) -> bool:
        return type_name in self._model.entities and self._model.identifies_person(type_name)

    def _present(self, entity: Entity) -> Entity:
        pseudonyms = self._pseudonyms
        if pseudonyms is None:
            return entity
        identifies = self._identifies(entity.type)
        provenance = self._present_records(entity.provenance, identifies)
        if identifies:
            return Entity(id=pseudonyms.of(entity.id), type=entity.type, properties={}, provenance=provenance)
        return Entity(entity.id, entity.type, self._without_free_text(entity.properties), provenance)

    def _present_link(self, link: Link, entities: dict[str, Entity]) -> Link:
        pseudonyms = self._pseudonyms
        assert pseudonyms is not None
        source, target = (
            pseudonyms.of(end) if self._identifies(entities[end].type) else end for end in (link.source, link.target)
        )
        personal = (source, target) != (link.source, link.target)
        return Link(
            id=pseudonyms.of(link.id) if personal else link.id,
            type=link.type,
            source=source,
            target=target,
            properties=self._without_free_text(link.properties),
            provenance=self._present_records(link.provenance, personal),
        )

    def _present_records(self, provenance: list[Assertion], identifies: bool = False) -> list[Assertion]:
        """Records as references, ordered by the reference: in the store's order, by real record id,
        they would rank the people a crime names by nominal number. What each record said is shown
        as the item is: nothing of one that identifies a person, no free text of anything else."""
        return sorted((self._present_record(a, identifies) for a in provenance), key=lambda a: (a.source, a.record_id))

    def _present_record(self, record: Assertion, identifies: bool = False) -> Assertion:
        assert self._pseudonyms is not None
        said = None if identifies or record.properties is None else self._without_free_text(record.properties)
        # The partnership's own change to an item that names no one keeps its id (the item's id and the
        # change's time, both shown anyway), so its history stays in order; every other record is a pseudonym.
        own = record.source == PARTNERSHIP_SOURCE and not identifies
        shown_id = record.record_id if own else self._pseudonyms.of_record(record.source, record.record_id)
        return replace(record, record_id=shown_id, row=0, properties=said)

    def _without_free_text(self, properties: dict) -> dict:
        free = self._model.properties
        return {k: v for k, v in properties.items() if not (k in free and free[k].free_text)}


def _matches(entity: Entity, text: str) -> bool:
    needle = text.casefold()
    return entity.id.casefold() == needle or any(needle in str(v).casefold() for v in entity.properties.values())


def _has(entity: Entity, where: dict[str, str]) -> bool:
    """Whether each named property of ``entity``, folded, equals the value given (already folded)."""
    return all(str(entity.properties.get(name, "")).strip().casefold() == value for name, value in where.items())


def _distances(sub: Subgraph, seeds: list[str], hops: int) -> dict[str, int]:
    """How many links in ``sub`` separate each entity from the nearest seed, up to ``hops``, either way."""
    adjacent: dict[str, set[str]] = {}
    for link in sub.links.values():
        adjacent.setdefault(link.source, set()).add(link.target)
        adjacent.setdefault(link.target, set()).add(link.source)
    distance = dict.fromkeys(seeds, 0)
    queue = deque(seeds)
    while queue:
        node = queue.popleft()
        if distance[node] == hops:
            continue
        for neighbour in adjacent.get(node, ()):
            if neighbour not in distance:
                distance[neighbour] = distance[node] + 1
                queue.append(neighbour)
    return distance
