"""The GraphStore protocol: the primitives the analysis needs, whatever the backend."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from nimgraph.ontology import Core, Model
from nimgraph.records import Batch, Entity, IncidentRead, Subgraph, WriteStats

if TYPE_CHECKING:  # nimgraph.ids raises the store's errors, so it imports this package
    from nimgraph.ids import IdKey


@runtime_checkable
class GraphReader(Protocol):
    """The reads that analysis and products need; a cleared view offers exactly these."""

    def get(self, entity_id: str) -> Entity | None:
        """One entity with its provenance, or None."""

    def find(
        self, type_name: str | None = None, text: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[Entity]:
        """Entities of a type (and its subtypes) with ``text`` in any property value, or that id."""

    def neighbourhood(
        self,
        seeds: Iterable[str],
        hops: int,
        link_types: Iterable[str] | None = None,
        max_entities: int = 5000,
        entity_provenance: bool = True,
        handling: Iterable[str] | None = None,
    ) -> Subgraph:
        """Everything within ``hops`` links of the seeds, following only ``link_types`` if given.

        Links always carry their provenance; ``entity_provenance=False`` leaves entities without
        theirs, for reads that only need to know what the entities are. With ``handling``, the
        walk follows only links that a record of those codes asserts, between entities such records
        assert, so ``max_entities`` and ``truncated`` count only what a caller of that clearance
        may see.
        """

    def subgraph(self, link_types: Iterable[str]) -> Subgraph:
        """Every link of the given types with its two ends: the base of a projection."""

    def incidents(self, since: str, until: str, handling: Iterable[str] | None = None) -> IncidentRead:
        """Incidents dated within [since, until] (ISO dates), with their places, areas, the people
        they name and the intelligence reports of the period, as flat rows (see store/incident_read.py).

        With ``handling``, only what records of those codes assert, as those records tell it.
        """


@runtime_checkable
class SourceRegister(Protocol):
    """The information sources a store knows of: what their mapping specs said about each."""

    def sources(self) -> dict[str, dict[str, str]]:
        """Each registered source's name -> its properties (``agency`` and the like; not personal data)."""


@runtime_checkable
class GraphStore(GraphReader, SourceRegister, Protocol):
    """A store: the reads, and the writes that ingest and retraction make."""

    def prepare(self) -> list[str]:
        """Make the store ready to write (schema, constraints); idempotent. Returns what it created."""

    def upsert(self, batch: Batch) -> WriteStats:
        """Write entities, then links, with their assertions, in one transaction. Idempotent.

        Each record in the batch asserts exactly what the batch says it does: an item a record
        asserted before and no longer does loses that assertion, and goes if nothing else asserts it.
        Properties merge, the last writer winning per property; an item whose assertions a record
        written by an earlier run dropped or changed gets its properties recomputed from what its
        remaining records say (``merged_properties``), so a withdrawn value goes.
        """

    def stage(self, batch: Batch) -> Callable[[], WriteStats]:
        """Check and encode a batch now; return the write itself, to run later (on another thread).

        ``upsert(batch)`` is ``stage(batch)()``. Splitting them lets an ingest encode the next batch
        while the previous one is written, instead of leaving the server idle during encoding.
        """

    def encoder(self) -> Callable[[Batch], Any]:
        """``stage``'s first half, picklable and with no connection, so that another process (an
        ingest's mapping process) can run it: what it returns goes to ``write_encoded`` here."""

    def write_encoded(self, encoded: Any) -> WriteStats:
        """``stage``'s second half: write what ``encoder()`` made of a batch."""

    def write_group(self) -> WriteGroup:
        """One ingest's run of writes, which the store may commit a few batches at a time (see
        :class:`WriteGroup`)."""

    def register_source(self, name: str, properties: dict[str, str]) -> None:
        """Record what a spec says of its information source (the ontology's InformationSource
        properties: ``agency``, ``dataset``...). Idempotent; merges, so a value given once stays
        until another replaces it. Retracting the source's records leaves its entry."""

    def retract(self, source: str, record_ids: Iterable[str] | None = None) -> dict[str, int]:
        """Withdraw every record of a source (or only ``record_ids``): what only they asserted goes.

        An entity that goes takes its links with it; one that stays gets its properties recomputed
        from what its remaining records say (``merged_properties``). Returns how many ``records``,
        ``entities`` and ``links`` were removed.
        """

    def rebuild_properties(self) -> dict[str, int]:
        """Recompute every entity's and link's properties from what its records say, once, for a
        store written before withdrawals recomputed them; idempotent.

        Returns how many ``entities`` and ``links`` changed, and how many items were left as they
        are because a record behind them was written before records kept what they said and they
        hold a value no other record gives (``unknown``: re-ingesting those records settles them).
        """
        ...

    def counts(self) -> dict[str, dict[str, int]]:
        """Entity and link counts by type: ``{"entities": {...}, "links": {...}}``."""

    def id_key(self) -> IdKey:
        """The secret behind this store's entity ids (nimgraph.ids); StoreConfigError if it cannot be used."""
        ...

    def migrate_ids(self) -> int:
        """Rewrite ids made before ids were keyed; how many entities were rewritten (0 when already keyed)."""
        ...

    def close(self) -> None:
        """Release the store's resources."""


class WriteGroup(Protocol):
    """A run of ``write_encoded`` writes from one ingest, in order, that the store may commit together.

    A write that fails takes with it the group's writes since its last commit (what was committed
    stays; running the ingest again writes the rest, without duplicates). ``close`` ends the run:
    what a record an earlier run wrote said then and has not said in this run is dropped (a record's
    rows may fall in several batches, so this cannot be known sooner), and what the group still holds
    is committed; until then other connections may not see it. ``abandon``, for a run that stopped
    partway, commits what was written and drops no assertion (what one that was written says is what
    the run had said of it so far: its record's later rows may have said more; the next run that
    ends settles it). Another write to the store (another ingest, a decision) first commits what the
    group holds. Two runs of one file at once can still take from each other what each said in its
    first batches of a record, the later run's treating the earlier's as a past run's.
    """

    def write(self, encoded: Any) -> WriteStats: ...

    def close(self) -> None: ...

    def abandon(self) -> None: ...


class EachWriteCommits:
    """The WriteGroup of a store that commits every write as it is made.

    >>> group = EachWriteCommits(lambda encoded: WriteStats())
    >>> group.write("a batch"), group.close()
    (WriteStats(created=0, merged=0, updated=0, unchanged=0, merged_ids=[]), None)
    """

    def __init__(self, write_encoded: Callable[[Any], WriteStats]) -> None:
        self.write = write_encoded

    def close(self) -> None:
        pass  # every write committed as it was made

    def abandon(self) -> None:
        pass


def source_properties(model: Model, name: str, properties: Mapping[str, str]) -> dict[str, str]:
    """What a store records of a source: the InformationSource properties given, empty ones left out.

    >>> from nimgraph.ontology import default_model
    >>> source_properties(default_model(), "council-asb", {"agency": "Northwick Borough Council", "dataset": ""})
    {'agency': 'Northwick Borough Council'}
    """
    if not name:
        raise ValueError("an information source needs a name")
    known = model.properties_for(Core.INFORMATION_SOURCE)
    unknown = sorted(p for p in properties if p not in known or p == "name")  # the name is the key
    if unknown:
        allowed = ", ".join(sorted(p for p in known if p != "name"))
        raise ValueError(f"not a property of an information source: {', '.join(unknown)}; known: {allowed}")
    return {p: str(v) for p, v in sorted(properties.items()) if v}


def merged_properties(said: Iterable[str | None]) -> dict[str, Any] | None:
    """An item's properties from what each record that asserts it says (JSON), in the order the
    records were written: the last writer wins per property, as an upsert merges them, and a value
    that no record gives is not there. None when a record's saying is not known (a record written
    before stores kept it): there is nothing to recompute from.

    >>> merged_properties(['{"name": "Tenant 18"}', '{"name": "Alpha", "dateOfBirth": "1969-09-09"}'])
    {'name': 'Alpha', 'dateOfBirth': '1969-09-09'}
    >>> merged_properties(['{"name": "Tenant 18"}']), merged_properties(['{"name": "Tenant 18"}', None])
    ({'name': 'Tenant 18'}, None)
    """
    merged: dict[str, Any] = {}
    for text in said:
        if text is None:
            return None
        merged.update(json.loads(text))
    return {k: v for k, v in merged.items() if v is not None}  # a null removes, as json_patch does


def says_otherwise(before: str | None, now: str | None) -> bool:
    """Whether a record written again says something else of an item than it said (both JSON).

    What a record said before stores kept it counts as something else, so its items are recomputed.

    >>> says_otherwise('{"a": 1, "b": 2}', '{"b": 2, "a": 1}'), says_otherwise('{"a": 1}', "{}")
    (False, True)
    >>> says_otherwise(None, "{}")
    True
    """
    if before == now:
        return False
    return before is None or now is None or json.loads(before) != json.loads(now)


def unattributed(properties: Mapping[str, Any], said: Iterable[str | None]) -> bool:
    """Whether an item holds a value that none of the records whose saying is known gives.

    >>> unattributed({"name": "A", "dateOfBirth": "1969-09-09"}, ['{"name": "A"}', None])
    True
    >>> unattributed({"name": "A"}, ['{"name": "A"}', None])
    False
    """
    given: dict[str, list[Any]] = {}
    for text in said:
        for key, value in json.loads(text).items() if text is not None else ():
            given.setdefault(key, []).append(value)
    return any(value not in given.get(key, []) for key, value in properties.items())
