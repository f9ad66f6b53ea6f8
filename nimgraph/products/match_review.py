"""The review of a linkage proposal: both people side by side as the reader sees them, each comparison's
values and contribution (the waterfall), and the decisions made on it."""

from __future__ import annotations

import json
from typing import Any

from nimgraph.grading import most_restrictive
from nimgraph.labels import entity_label
from nimgraph.ontology import Core, Model
from nimgraph.records import Entity
from nimgraph.resolution.frames import person_row
from nimgraph.resolution.proposals import DECISION_SOURCE, DECISIONS, proposals
from nimgraph.store.base import GraphReader
from nimgraph.tasking.writes import change_time

__all__ = ["match_queue", "match_review"]

LINKED_FIELDS = ("addressLine", "postcode", "phoneNumber", "identifier")


def _side(reader: GraphReader, model: Model, person: Entity) -> dict[str, Any]:
    values = dict(person.properties)
    follow = [t for t in model.links if (d := model.link_type(t).domain) and model.is_a(d, Core.PERSON)]
    around = reader.neighbourhood([person.id], 1, follow, max_entities=50)
    for other in around.entities.values():
        for key in LINKED_FIELDS:
            if other.id != person.id and key in other.properties and key not in values:
                values[key] = other.properties[key]
    return {
        "id": person.id,
        "label": entity_label(model, person),
        "sources": sorted({a.source for a in person.provenance}),
        "values": values,
        "compared": person_row(person.id, "", values),
    }


def match_review(reader: GraphReader, model: Model, proposal_id: str) -> dict[str, Any] | None:
    """The proposal as ``reader`` sees it, or None when it may not see it (or there is none)."""
    link = reader.subgraph([Core.POSSIBLY_SAME_AS]).links.get(proposal_id)
    if link is None:
        return None
    people = [reader.get(link.source), reader.get(link.target)]
    if any(p is None for p in people):
        return None
    left, right = (_side(reader, model, p) for p in people)  # type: ignore[arg-type]
    weights = json.loads(link.properties.get("comparisonWeights") or "{}")
    comparisons = [
        {
            "comparison": name,
            "left": left["compared"].get(name),
            "right": right["compared"].get(name),
            "contribution": weight,
        }
        for name, weight in sorted(weights.items(), key=lambda item: -abs(item[1]))
    ]
    # in the store's write order, which decides the status, not by the clocks of those who decided
    decided = sorted(
        (a for a in link.provenance if a.source == DECISION_SOURCE), key=lambda a: (a.written or 0, a.record_id)
    )
    decisions = [
        {
            "at": change_time(a.record_id) or a.date,
            "by": a.file,
            "status": (a.properties or {}).get("reviewStatus"),
        }
        for a in decided
    ]
    return {
        "id": link.id,
        "status": str(link.properties.get("reviewStatus") or DECISIONS["undo"]),
        "match_probability": link.properties.get("matchProbability"),
        "match_weight": link.properties.get("matchWeight"),
        "model_id": link.properties.get("modelId"),
        "left": {k: v for k, v in left.items() if k != "compared"},
        "right": {k: v for k, v in right.items() if k != "compared"},
        "comparisons": comparisons,
        "decisions": decisions,
        "handling": most_restrictive({a.handling for a in link.provenance}) if link.provenance else "C",
    }


def match_queue(reader: GraphReader, model: Model, *, status: str | None, limit: int) -> list[dict[str, Any]]:
    """Proposals the reader may see, highest first, with both people labelled."""
    rows = []
    for proposal in proposals(reader, status=status, limit=limit):
        sides = [reader.get(proposal.left), reader.get(proposal.right)]
        if any(s is None for s in sides):
            continue
        rows.append(
            {
                **proposal.as_dict(),
                "left_label": entity_label(model, sides[0]),  # type: ignore[arg-type]
                "right_label": entity_label(model, sides[1]),  # type: ignore[arg-type]
            }
        )
    return rows
