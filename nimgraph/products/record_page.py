"""One of the partnership's own records as its reader may see it: values, links both ways, history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nimgraph.labels import entity_label
from nimgraph.ontology import Model
from nimgraph.records import Entity
from nimgraph.store.base import GraphReader
from nimgraph.tasking.history import Revision, history
from nimgraph.tasking.kinds import KINDS, Kind, kind_of

__all__ = ["LOOP_LINK_TYPES", "Linked", "RecordPage", "record_page", "records_of"]

# Every link the working loop makes, followed from either end.
LOOP_LINK_TYPES = tuple(sorted({link.link_type for kind in KINDS for link in kind.links}))
MAX_LINKED = 2000  # ends shown for one record: a priority with more problems than this is not one priority


@dataclass(frozen=True)
class Linked:
    """One link of a record: the field it was made under (or, for a link to it, the kind it comes from)."""

    role: str
    outward: bool
    link_type: str
    id: str
    type: str
    label: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordPage:
    id: str
    type: str
    kind: str
    label: str
    properties: dict[str, Any]
    links: list[Linked]
    history: list[Revision]
    truncated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "kind": self.kind,
            "label": self.label,
            "properties": self.properties,
            "links": [link.__dict__ for link in self.links],
            "history": [revision.as_dict() for revision in self.history],
            "truncated": self.truncated,
        }


def _role(model: Model, kind: Kind, link_type: str, outward: bool, other: Entity) -> str:
    if outward:
        for link in kind.links:
            if link.link_type == link_type:
                return link.field
        return link_type
    from_kind = kind_of(model, other.type)
    return from_kind.plural if from_kind else link_type


def record_page(reader: GraphReader, model: Model, entity_id: str, kind: Kind | None = None) -> RecordPage | None:
    """The record as ``reader`` sees it, or None when it cannot see one of that kind with that id."""
    entity = reader.get(entity_id)
    found = kind_of(model, entity.type) if entity is not None else None
    if entity is None or found is None or (kind is not None and found != kind):
        return None
    around = reader.neighbourhood([entity.id], 1, LOOP_LINK_TYPES, max_entities=MAX_LINKED)
    links = []
    for link in around.links.values():
        outward = link.source == entity.id
        other = around.entities.get(link.target if outward else link.source)
        if other is None or other.id == entity.id:
            continue
        links.append(
            Linked(
                role=_role(model, found, link.type, outward, other),
                outward=outward,
                link_type=link.type,
                id=other.id,
                type=other.type,
                label=entity_label(model, other),
                properties=other.properties if kind_of(model, other.type) else {},
            )
        )
    links.sort(key=lambda k: (not k.outward, k.role, k.label, k.id))
    return RecordPage(
        id=entity.id,
        type=entity.type,
        kind=found.name,
        label=entity_label(model, entity),
        properties=entity.properties,
        links=links,
        history=history(entity),
        truncated=around.truncated,
    )


def records_of(
    reader: GraphReader,
    kind: Kind,
    text: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Entity]:
    """A page of one kind's records that ``reader`` may see."""
    return reader.find(kind.type, text, limit=limit, offset=offset)
