"""The subject profile: who a person is, what they are party to, whom they are linked to, and why.

Sections follow common UK practice: identifiers, criminal involvement, lifestyle (places and
objects), associations and network, risks, intelligence gaps; with terms of reference, a handling
banner and numbered provenance footnotes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from nimgraph.analysis.association import associations
from nimgraph.analysis.build import to_networkx
from nimgraph.analysis.paths import neighbourhood
from nimgraph.analysis.risk import criminal_associates
from nimgraph.grading import weakly_sourced
from nimgraph.ontology import Core, Model
from nimgraph.products.common import (
    Footnotes,
    ProductError,
    association_weights,
    category_of,
    generated_at,
)
from nimgraph.store.base import GraphStore
from nimgraph.viz.network import NetworkView, network_view


@dataclass
class SubjectProfile:
    terms_of_reference: dict
    subject: dict
    involvement: list[dict]
    linked: list[dict]
    associations: list[dict]
    risk: dict
    intelligence_gaps: list[str]
    sources: list[dict]
    footnotes: list[dict]
    handling: str
    generated_at: str
    truncated: bool = False
    network: NetworkView | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "network"}
        data["product"] = "subject_profile"
        if self.network is not None:
            data["network"] = {"nodes": self.network.node_count, "edges": self.network.edge_count}
        return data


def _label(graph: nx.MultiDiGraph, node: str) -> str:
    return str(graph.nodes[node].get("label", node))


def _where(graph: nx.MultiDiGraph, event: str, model: Model) -> str | None:
    places = [
        _label(graph, v)
        for _, v, kind in graph.out_edges(event, data="type")
        if kind in model.descendants(Core.OCCURRED_AT)
    ]
    return places[0] if places else None


def _involvement(graph: nx.MultiDiGraph, subject: str, model: Model, notes: Footnotes) -> list[dict]:
    roles = model.descendants(Core.INVOLVED_IN)
    rows = []
    for _, event, data in graph.out_edges(subject, data=True):
        if data["type"] in roles:
            props = graph.nodes[event].get("properties", {})
            rows.append(
                {
                    "event": event,
                    "type": graph.nodes[event].get("type"),
                    "reference": props.get("reference"),
                    "category": props.get("category"),
                    "date": props.get("date"),
                    "role": model.link_type(data["type"]).label,
                    "location": _where(graph, event, model),
                    "records": notes.cite(data["provenance"]),
                }
            )
    return sorted(rows, key=lambda r: (r["date"] or "", r["event"]))


def _linked(graph: nx.MultiDiGraph, subject: str, model: Model, notes: Footnotes) -> list[dict]:
    """Places and objects linked to the subject directly: addresses, phones, vehicles."""
    skip = {
        *model.descendants(Core.INVOLVED_IN),
        *model.descendants(Core.ASSOCIATED_WITH),
        *model.descendants(Core.MENTIONS),
    }
    rows = []
    for _, other, data in graph.out_edges(subject, data=True):
        if data["type"] not in skip:
            rows.append(
                {
                    "id": other,
                    "type": graph.nodes[other].get("type"),
                    "label": _label(graph, other),
                    "link": model.link_type(data["type"]).label,
                    "shared_with": sorted(
                        _label(graph, p)
                        for p in graph.predecessors(other)
                        if p != subject and graph.nodes[p].get("type") in model.descendants(Core.PERSON)
                    ),
                    "records": notes.cite(data["provenance"]),
                }
            )
    return sorted(rows, key=lambda r: (r["type"], r["label"]))


def _gaps(subject: dict, involvement: list[dict], linked: list[dict], found: list[dict]) -> list[str]:
    gaps = []
    props = subject["properties"]
    if not props.get("dateOfBirth"):
        gaps.append("No date of birth is recorded, so identity across sources cannot be confirmed.")
    if not linked:
        gaps.append("No address, phone or other identifier is recorded for the subject.")
    weak = [a for a in found if a["best_grade_untested"]]
    if weak:
        gaps.append(
            f"{len(weak)} association(s) rest only on untested or unreliable sources "
            "(source evaluation 2 or 3, or assessment D/E) and need corroboration."
        )
    if not involvement:
        gaps.append("The subject is party to no recorded event; what is known comes from associations.")
    return gaps


def build_subject_profile(
    store: GraphStore, model: Model, subject_id: str, *, hops: int = 3, max_entities: int = 5000
) -> SubjectProfile:
    """Build the profile of one person from their neighbourhood in the store."""
    entity = store.get(subject_id)
    if entity is None:
        raise ProductError(f"no entity with id {subject_id!r}; find one with GET /entities?type=Person&q=...")
    if not model.is_a(entity.type, Core.PERSON):
        raise ProductError(f"{subject_id!r} is a {entity.type}, not a person; a subject profile needs a person")
    sub = store.neighbourhood([subject_id], hops=hops, max_entities=max_entities)
    graph = to_networkx(sub)
    notes = Footnotes()
    notes.cite([a.as_dict() for a in entity.provenance])
    people, link_weights, connectors = association_weights(model)
    involvement = _involvement(graph, subject_id, model, notes)
    linked = _linked(graph, subject_id, model, notes)
    criminal = criminal_associates(
        graph,
        subject_id,
        association=set(model.descendants(Core.ASSOCIATED_WITH)),
        involvement={*model.descendants(Core.OFFENDER_IN), *model.descendants(Core.SUSPECT_IN)},
    )
    party = set(criminal.within_one_hop) | {
        p
        for p, _, kind in graph.edges(data="type")
        if kind in {*model.descendants(Core.OFFENDER_IN), *model.descendants(Core.SUSPECT_IN)}
    }
    found = []
    for association in associations(
        graph, subject_id, person_types=people, link_weights=link_weights, connector_weights=connectors
    ):
        evidence = [
            {
                "kind": e.kind,
                "via": e.via,
                "via_label": _label(graph, e.via) if e.via else None,
                "weight": round(e.weight, 4),
                "records": notes.cite(e.records),
            }
            for e in association.evidence
        ]
        found.append(
            {
                "person": association.person,
                "label": _label(graph, association.person),
                "strength": round(association.strength, 4),
                "party_to_crime": association.person in party,
                "best_grade_untested": weakly_sourced([r for e in association.evidence for r in e.records]),
                "evidence": evidence,
            }
        )
    subject = {"id": entity.id, "type": entity.type, "label": entity.caption, "properties": entity.properties}
    drawn = neighbourhood(graph, [subject_id], 2)
    return SubjectProfile(
        terms_of_reference={"subject": subject_id, "hops": hops, "max_entities": max_entities},
        subject=subject,
        involvement=involvement,
        linked=linked,
        associations=found,
        risk={
            "party_to_crime": criminal.party_to_crime,
            "knows_party_to_crime": [{"id": p, "label": _label(graph, p)} for p in criminal.within_one_hop],
            "within_two_hops_party_to_crime": [{"id": p, "label": _label(graph, p)} for p in criminal.within_two_hops],
        },
        intelligence_gaps=_gaps(subject, involvement, linked, found),
        sources=notes.sources(),
        footnotes=notes.records,
        handling=notes.handling,
        generated_at=generated_at(),
        truncated=sub.truncated,
        network=network_view(drawn, category_of(model), focus=[subject_id]),
    )
