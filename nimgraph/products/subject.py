"""The subject profile: who a person is, what they are party to, whom they are linked to, and why.

Sections follow common UK practice: identifiers, criminal involvement (events by role and a
timeline), lifestyle (locations and objects), associates ranked with their evidence and grades,
the network and its communities, risk indicators, inferred links (marked as inferred, never mixed
with recorded ones), intelligence gaps; with terms of reference, a handling banner and numbered
provenance footnotes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import networkx as nx

from nimgraph.analysis.association import associations
from nimgraph.analysis.build import to_networkx
from nimgraph.analysis.communities import communities
from nimgraph.analysis.inference import predict_associations
from nimgraph.analysis.paths import neighbourhood
from nimgraph.analysis.resolved import contract, resolved_from_text
from nimgraph.analysis.risk import (
    criminal_associates,
    criminal_triangles,
    parties_to_crime,
    relatives_with_criminal_associates,
)
from nimgraph.grading import GradeError, parse_grade, weakly_sourced
from nimgraph.labels import entity_label
from nimgraph.ontology import Core, Model
from nimgraph.products.common import (
    Footnotes,
    ProductError,
    association_weights,
    category_of,
    crime_roles,
    generated_at,
    members_of,
    people_projection,
    resolved_clusters,
    source_register,
)
from nimgraph.resolution import PROPOSED
from nimgraph.store.base import GraphReader
from nimgraph.viz.network import NetworkView, network_view


@dataclass
class SubjectProfile:
    terms_of_reference: dict
    subject: dict
    identifiers: list[dict]
    involvement: list[dict]
    events_by_role: dict[str, int]
    timeline: dict[str, dict[str, int]]
    locations: list[dict]
    objects: list[dict]
    associations: list[dict]
    network_groups: list[dict]
    risk: dict
    inferred_links: list[dict]
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
    """Places and objects linked to the subject directly: addresses, phones, vehicles.

    Inferred links are left out here: they have their own section.
    """
    skip = {
        *model.descendants(Core.INVOLVED_IN),
        *model.descendants(Core.ASSOCIATED_WITH),
        *model.descendants(Core.MENTIONS),
        *(name for name, link in model.links.items() if link.inferred),
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


def _best_grade(records: list[dict] | tuple[dict, ...]) -> str | None:
    """The grade of the most reliable record, as written (e.g. ``1AP``)."""
    graded = []
    for record in records:
        try:
            graded.append((parse_grade(record["grade"]).reliability, record["grade"]))
        except GradeError:
            continue
    return max(graded)[1] if graded else None


def _timeline(involvement: list[dict]) -> dict[str, dict[str, int]]:
    """Events per month, by role: ``{"2026-03": {"Offender in": 2}}``."""
    months: dict[str, Counter[str]] = {}
    for row in involvement:
        if row["date"]:
            months.setdefault(row["date"][:7], Counter())[row["role"]] += 1
    return {m: dict(sorted(c.items())) for m, c in sorted(months.items())}


IDENTIFYING = ("name", "nominalId", "dateOfBirth", "gender", "nhsNumber", "pncId")


def _identifiers(entity_props: dict, objects: list[dict]) -> list[dict]:
    """Who the subject is: identifying properties first, then identifying objects they use."""
    rows = [{"kind": k, "value": entity_props[k], "records": []} for k in IDENTIFYING if entity_props.get(k)]
    rows += [{"kind": k, "value": v, "records": []} for k, v in sorted(entity_props.items()) if k not in IDENTIFYING]
    rows += [{"kind": o["type"], "value": o["label"], "records": o["records"]} for o in objects]
    return rows


def _inferred(
    graph: nx.MultiDiGraph, subject: str, model: Model, projection: nx.Graph, notes: Footnotes, top: int
) -> list[dict]:
    """Accepted inferences stored in the graph, then link predictions for the subject: all inferred."""
    inferred_types = {name for name, link in model.links.items() if link.inferred}
    touching = [(v, key, data) for _, v, key, data in graph.out_edges(subject, keys=True, data=True)]
    touching += [(u, key, data) for u, _, key, data in graph.in_edges(subject, keys=True, data=True)]
    rows = [
        {
            "person": other,
            "label": _label(graph, other),
            "inferred": True,
            "status": _inferred_status(data),
            "method": data["properties"].get("inferenceMethod"),
            "score": data["properties"].get("score", data["properties"].get("matchProbability")),
            "link": key,
            "records": notes.cite(data["provenance"]),
        }
        for other, key, data in touching
        if data["type"] in inferred_types
    ]
    stored = {r["person"] for r in rows}
    for inference in predict_associations(projection, among=[subject], top=top):
        other = inference.target if inference.source == subject else inference.source
        if other in stored:
            continue
        rows.append(
            {
                "person": other,
                "label": _label(graph, other),
                "inferred": True,
                "status": "proposed",
                "method": inference.method,
                "score": inference.score,
                "inference": inference.id,
                "evidence": [{"id": n, "label": _label(graph, n)} for n in inference.evidence],
            }
        )
    return rows


def _inferred_status(link: dict) -> str:
    """A stored inference's status: a match record linkage proposed waits for an analyst until one decides;
    an association an analyst accepted was stored by that decision."""
    given = link["properties"].get("reviewStatus")
    if given:
        return str(given)
    return PROPOSED if link["type"] == Core.POSSIBLY_SAME_AS else "accepted"


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


# The ego network a profile reads: links to this many hops, and at most this many entities, taken
# nearest first. A hub (a hostel address, a busy street, a person with thousands of contacts)
# would otherwise pull half the graph into one profile; the profile says when the cap cut in.
PROFILE_HOPS = 2
PROFILE_MAX_ENTITIES = 500


@dataclass
class SubjectNetwork:
    """What a profile reads around a subject: the capped ego network, and the typed reads beyond it."""

    graph: nx.MultiDiGraph  # everything read
    ego: nx.MultiDiGraph  # the ego network alone (hops around the subject, capped)
    truncated: bool
    members: list[str] = field(default_factory=list)  # the records the subject was resolved from


def read_subject_network(
    store: GraphReader,
    model: Model,
    subject_id: str,
    *,
    hops: int = PROFILE_HOPS,
    max_entities: int = PROFILE_MAX_ENTITIES,
) -> SubjectNetwork:
    """The ego network within the cap, plus offender and suspect links around it (see docs/architecture.md).

    A subject an analyst resolved with other records (accepted matches) is read from all of them,
    and every resolved cluster in the read is one node: the subject's keeps the subject's id.
    """
    members = members_of(resolved_clusters(store, [subject_id]), subject_id)
    ego = store.neighbourhood(members, hops=hops, max_entities=max_entities)
    # Two typed reads instead of a third hop over everything: whether the people around the
    # subject are party to crime (their offender and suspect links), and, for the subject's direct
    # associates only, who offended with them (what link prediction and triangles need).
    crime_links = crime_roles(model)
    is_person = {e.id for e in ego.entities.values() if model.is_a(e.type, Core.PERSON)}
    direct = {end for k in ego.links.values() if {k.source, k.target} & set(members) for end in (k.source, k.target)}
    typed = {"link_types": crime_links, "max_entities": max_entities, "entity_provenance": False}
    roles = store.neighbourhood(sorted(is_person), hops=1, **typed)
    partners = store.neighbourhood(sorted(direct & is_person), hops=2, **typed)
    sub = roles.merged(partners).merged(ego)  # the ego's entities, with their provenance, win
    graph = contract(to_networkx(sub, model), resolved_clusters(store, sub.entities), keep=[subject_id])
    folded = graph.graph["resolved"]
    ego_ids = {folded.get(i, i) for i in ego.entities}
    resolved = members if len(members) > 1 else []
    return SubjectNetwork(graph=graph, ego=graph.subgraph(ego_ids).copy(), truncated=sub.truncated, members=resolved)


def build_subject_profile(
    store: GraphReader,
    model: Model,
    subject_id: str,
    *,
    hops: int = PROFILE_HOPS,
    max_entities: int = PROFILE_MAX_ENTITIES,
    predictions: int = 5,
    seed: int = 0,
) -> SubjectProfile:
    """Build the profile of one person from their neighbourhood in the store.

    The neighbourhood is capped at ``max_entities`` (a hub such as a busy street or a shared
    address would otherwise pull in half the graph); the profile says when the cap was reached.
    """
    entity = store.get(subject_id)
    if entity is None:
        raise ProductError(f"no entity with id {subject_id!r}; find one with GET /search?type=Person&q=...")
    if not model.is_a(entity.type, Core.PERSON):
        raise ProductError(f"{subject_id!r} is a {entity.type}, not a person; a subject profile needs a person")
    network = read_subject_network(store, model, subject_id, hops=hops, max_entities=max_entities)
    graph, ego_graph, ego_ids = network.graph, network.ego, set(network.ego)
    crime_links = crime_roles(model)
    notes = Footnotes()
    notes.cite(graph.nodes[subject_id]["provenance"])  # every record the subject was resolved from
    people, link_weights, connectors = association_weights(model)
    involvement = _involvement(graph, subject_id, model, notes)
    linked = _linked(graph, subject_id, model, notes)
    category = category_of(model)
    locations = [row for row in linked if category(row["type"]) in (Core.LOCATION, Core.AREA)]
    objects = [row for row in linked if row not in locations]
    social = set(model.descendants(Core.ASSOCIATED_WITH))
    criminal = criminal_associates(graph, subject_id, association=social, involvement=crime_links)
    party = parties_to_crime(graph, crime_links)
    # With the typed hop, the projection reaches the co-offenders of the subject's associates:
    # the people a prediction or a community needs.
    projection = people_projection(graph, model)
    # Communities among the people of the ego network; the co-offenders the typed hop added are
    # there for predictions and triangles, not to be grouped.
    around = projection.subgraph(p for p in projection if p in ego_ids).copy()
    groups = communities(around, seed=seed, min_size=2) if around.number_of_edges() else []
    relatives = [
        r
        for r in relatives_with_criminal_associates(
            graph,
            family=set(model.descendants(Core.FAMILY_OF)),
            association=social,
            involvement=crime_links,
            household=set(model.descendants(Core.LIVES_WITH)),
            residence=set(model.descendants(Core.LIVES_AT)),
        )
        if r.person == subject_id
    ]
    triangles = {r["person"]: r["triangles"] for r in criminal_triangles(projection, party, people=[subject_id])}
    found = []
    for association in associations(
        ego_graph, subject_id, person_types=people, link_weights=link_weights, connector_weights=connectors
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
                "best_grade": _best_grade([r for e in association.evidence for r in e.records]),
                "best_grade_untested": weakly_sourced([r for e in association.evidence for r in e.records]),
                "evidence": evidence,
            }
        )
    register = source_register(store)
    resolved_from = [
        {**m, "agencies": [register.get(s, {}).get("agency") for s in m["sources"]]}
        for m in graph.nodes[subject_id].get("resolved_from", [])
    ]
    subject = {
        "id": entity.id,
        "type": entity.type,
        "label": entity_label(model, entity),
        "properties": graph.nodes[subject_id]["properties"],
        "resolved": {
            "records": resolved_from,
            # named by agency where the register knows it: "police, council, fire" reads better than file names
            "summary": resolved_from_text(
                [{"sources": [a or s for s, a in zip(m["sources"], m["agencies"], strict=True)]} for m in resolved_from]
            ),
        }
        if resolved_from
        else None,
    }
    drawn = ego_graph if hops <= 2 else neighbourhood(ego_graph, [subject_id], 2)  # two hops are drawn
    network_groups = [
        {
            "members": [{"id": m, "label": _label(graph, m)} for m in sorted(group)],
            "size": len(group),
            "includes_subject": subject_id in group,
            "party_to_crime": len(group & party),
        }
        for group in groups
        if len(group) >= 3 or subject_id in group  # the subject's own group, however small
    ]
    network_groups.sort(key=lambda g: (not g["includes_subject"], -g["size"]))
    return SubjectProfile(
        terms_of_reference={
            "subject": subject_id,
            "hops": hops,
            "max_entities": max_entities,
            "communities": {"method": "louvain", "seed": seed, "on": "person-to-person associations"},
            "predictions": {"method": "adamic_adar", "top": predictions},
        },
        subject=subject,
        identifiers=_identifiers(subject["properties"], objects),
        involvement=involvement,
        events_by_role=dict(Counter(row["role"] for row in involvement).most_common()),
        timeline=_timeline(involvement),
        locations=locations,
        objects=objects,
        associations=found,
        network_groups=network_groups[:10],
        risk={
            "party_to_crime": criminal.party_to_crime,
            "knows_party_to_crime": [{"id": p, "label": _label(graph, p)} for p in criminal.within_one_hop],
            "within_two_hops_party_to_crime": [{"id": p, "label": _label(graph, p)} for p in criminal.within_two_hops],
            "relatives_with_criminal_associates": [
                {
                    "relative": r.relative,
                    "label": _label(graph, r.relative),
                    "associates": len(r.relatives_associates),
                    "lives_with": r.lives_with_relative,
                }
                for r in relatives
            ],
            "criminal_triangles": triangles.get(subject_id, 0),
        },
        inferred_links=_inferred(graph, subject_id, model, projection, notes, predictions),
        intelligence_gaps=_gaps(subject, involvement, linked, found),
        sources=notes.sources(register),
        footnotes=notes.records,
        handling=notes.handling,
        generated_at=generated_at(),
        truncated=network.truncated,
        network=network_view(drawn, model, focus=[subject_id]),
    )
