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
from nimgraph.resolution.linkage import load_settings
from nimgraph.resolution.proposals import (
    DECISION_SOURCE,
    DECISIONS,
    ROW_BUILDERS,
    identifying_links,
    identifying_values,
    proposals,
)
from nimgraph.store.base import GraphReader
from nimgraph.tasking.writes import change_time

__all__ = ["match_queue", "match_review", "side_by_side"]


def _side(reader: GraphReader, model: Model, record: Entity) -> dict[str, Any]:
    """One side as the reader sees it: a person with what identifies them (their address, phone, email),
    or a place or vehicle as it is; and its values as the model compared them."""
    values = dict(record.properties)
    build = _row_builder(model, record.type)
    if model.is_a(record.type, Core.PERSON):  # what linkage read of them, chosen as linkage chose it
        around = reader.neighbourhood([record.id], 1, identifying_links(model), max_entities=50)
        values = {**identifying_values(around).get(record.id, {}), **values}
    return {
        "id": record.id,
        "label": entity_label(model, record),
        "type": record.type,
        "sources": sorted({a.source for a in record.provenance}),
        "values": values,
        "compared": build(record.id, "", values),
    }


def _row_builder(model: Model, type_name: str):
    """How linkage made a record of this type comparable: the class whose type it is."""
    for name, settings in load_settings().items():
        if model.is_a(type_name, settings.type_name):
            return person_row if name == "person" else ROW_BUILDERS[name]
    return person_row


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
    weight = link.properties.get("matchWeight")
    return {
        "id": link.id,
        "status": str(link.properties.get("reviewStatus") or DECISIONS["undo"]),
        "match_probability": link.properties.get("matchProbability"),
        "match_weight": weight,
        # where the waterfall starts: the log2 prior odds that two records match, before any comparison
        "prior_weight": round(float(weight) - sum(weights.values()), 4) if weight is not None else None,
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


def side_by_side(page: dict[str, Any]) -> str:
    """A proposal's review as text: both records' values in two columns, then the match weight built up
    from the prior odds by each comparison (the waterfall, as numbers), then the decisions."""
    left, right = page["left"], page["right"]
    keys = list(dict.fromkeys([*left["values"], *right["values"]]))
    rows = [("", left["label"], right["label"]), ("sources", ", ".join(left["sources"]), ", ".join(right["sources"]))]
    rows += [(k, str(left["values"].get(k, "")), str(right["values"].get(k, ""))) for k in keys]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [
        f"{page['id']}: match probability {page['match_probability']}, weight {page['match_weight']}, "
        f"{page['status']}, handling {page['handling']}, model {page['model_id']}",
        "",
    ]
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        + ("   <- differs" if n > 1 and r[1] and r[2] and r[1] != r[2] else "")
        for n, r in enumerate(rows)
    ]
    running = float(page.get("prior_weight") or 0)
    lines += ["", f"{'prior odds':<14} {running:+8.2f}  = {running:+8.2f}"]
    for c in page["comparisons"]:
        running += float(c["contribution"])
        lines.append(f"{c['comparison']:<14} {float(c['contribution']):+8.2f}  = {running:+8.2f}")
    lines += [f"{'match weight':<14} {'':8}  = {float(page['match_weight'] or 0):+8.2f} (log2 odds)"]
    lines += [f"{d['status']} by {d['by']} at {d['at']}" for d in page["decisions"]]
    return "\n".join(lines)
