"""Finding entities: by text, type and property values, by a link to a given entity, or by label."""

from __future__ import annotations

from dataclasses import dataclass

from nimgraph.access.view import ClearedView
from nimgraph.analysis.build import to_networkx
from nimgraph.labels import entity_label
from nimgraph.ontology import Model
from nimgraph.products.answers import Answer, Column, entity_cells
from nimgraph.products.common import NotVisible, ProductError
from nimgraph.records import Entity, Subgraph
from nimgraph.store.base import GraphReader

LINKED_MAX = 5000  # neighbours of one entity read for a linked_to search
LABEL_SCAN = 2000  # candidates read to resolve a label


@dataclass
class Found:
    entities: list[Entity]
    has_more: bool


def property_filters(model: Model, items: list[str]) -> dict[str, str]:
    """``name:value`` filters, checked against the ontology: property name to value, folded.

    >>> from nimgraph.ontology import default_model
    >>> property_filters(default_model(), ["postcode: NS1  4AB"])
    {'postcode': 'ns1 4ab'}
    """
    filters = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name or not value.strip():
            raise ProductError(f"where={item!r}: write a property filter as name:value, e.g. postcode:NS1 4AB")
        if name not in model.properties:
            raise ProductError(f"where={item!r}: {name!r} is not a property in the ontology")
        filters[name] = _folded(value)
    return filters


def _folded(value: object) -> str:
    return " ".join(str(value).split()).casefold()


def _matches(
    model: Model, entity: Entity, type_names: set[str] | None, text: str | None, where: dict[str, str]
) -> bool:
    if type_names is not None and entity.type not in type_names:
        return False
    if any(_folded(entity.properties.get(k, "")) != _folded(v) for k, v in where.items()):
        return False
    if text:
        needle = text.casefold()
        shown = [entity.id, entity_label(model, entity), *map(str, entity.properties.values())]
        return any(needle in value.casefold() for value in shown)
    return True


def find(
    store: ClearedView,
    model: Model,
    *,
    type_name: str | None = None,
    text: str | None = None,
    where: dict[str, str] | None = None,
    linked_to: str | None = None,
    linked_by: tuple[str, ...] = (),
    limit: int = 50,
    offset: int = 0,
) -> Found:
    """A page of entities matching every filter given, and whether more follow.

    ``linked_to`` keeps entities with a link (of ``linked_by`` types, any when empty) to that
    entity, e.g. crimes of a type with an outcome that a named officer investigated. Raises
    NotVisible with the id when ``linked_to`` is not there for the caller.
    """
    where = where or {}
    for name in where:
        model.property_def(name)
    types = set(model.descendants(model.entity_type(type_name).name)) if type_name else None
    if linked_to is None:
        folded = {k: _folded(v) for k, v in where.items()}
        page = store.find(
            type_name, text or next(iter(folded.values()), None), limit=limit, offset=offset, where=folded
        )  # type: ignore[call-arg]
        return Found(page, bool(getattr(store, "has_more", len(page) == limit)))
    anchor = store.get(linked_to)
    if anchor is None:
        raise NotVisible(linked_to)
    follow: set[str] | None = None
    if linked_by:
        follow = set()
        for name in linked_by:
            follow |= model.descendants(model.link_type(name).name)
    around = store.neighbourhood([anchor.id], hops=1, link_types=follow, max_entities=LINKED_MAX)
    matches = sorted(
        (e for i, e in around.entities.items() if i != anchor.id and _matches(model, e, types, text, where)),
        key=lambda e: (entity_label(model, e), e.id),
    )
    return Found(matches[offset : offset + limit], len(matches) > offset + limit)


def resolve(store: GraphReader, model: Model, reference: str) -> Entity:
    """The one entity the caller can see whose id, or else whose label, is ``reference``.

    Raises NotVisible when there is none and ProductError, naming the candidates' ids, when
    several share the label.
    """
    entity = store.get(reference)
    if entity is not None:
        return entity
    words = sorted(reference.split(), key=len, reverse=True)
    if not words:
        raise NotVisible(reference)
    before = set(store.released) if isinstance(store, ClearedView) else set()
    wanted = _folded(reference)
    candidates = [e for e in store.find(None, words[0], limit=LABEL_SCAN) if _folded(entity_label(model, e)) == wanted]
    named = candidates[:10]
    if isinstance(store, ClearedView):  # the log is told of the candidates the caller is given, not all scanned
        store.release_only([e.id for e in named], before)
    if not candidates:
        raise NotVisible(reference)
    if len(candidates) > 1:
        ids = ", ".join(e.id for e in named)
        raise ProductError(f"{len(candidates)} entities are labelled {reference!r}; give one of their ids: {ids}")
    return candidates[0]


def search_answer(found: Found, model: Model, parameters: dict) -> Answer:
    """A page of search results in the shape every question answers in (for CSV and pages)."""
    graph = to_networkx(Subgraph(entities={e.id: e for e in found.entities}), model)
    rows = [
        {**entity_cells(graph, model, e.id), "properties": dict(sorted(e.properties.items()))} for e in found.entities
    ]
    notes = ["More matches follow: ask for the next page with offset."] if found.has_more else []
    return Answer(
        question="search",
        parameters=parameters,
        columns=[
            Column("id", "The entity's id (a pseudonym where you see people under pseudonyms)."),
            Column("type", "The entity's type."),
            Column("label", "What the entity is called, from its properties."),
            Column("properties", "The properties you may see, as name: value."),
        ],
        rows=rows,
        notes=notes,
        projection={"nodes": len(rows), "links": 0},
        graph=graph,
    )
