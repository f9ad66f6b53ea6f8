"""Who is at risk through association: the screenings of ``analysis/risk.py`` over a scope.

Each count is defined beside it in the answer. A screening is a prompt for review, never a finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from nimgraph.analysis.risk import (
    criminal_triangles,
    drawn_towards_crime,
    parties_to_crime,
    relatives_with_criminal_associates,
)
from nimgraph.ontology import Core, Model
from nimgraph.products.answers import Answer, Column, cut_with_ties, entity_cells
from nimgraph.products.common import crime_roles, people_projection
from nimgraph.products.scope import Scope, expand_types, read_scope
from nimgraph.store.base import GraphReader

Indicator = Literal["criminal_associates", "relatives", "criminal_triangles"]

INDICATORS = {
    "criminal_associates": "People party to no crime who are associated with people who are.",
    "relatives": "People party to no crime whose relatives are associated with people who are.",
    "criminal_triangles": "People party to crime in triangles of the criminal subgraph: the cohesive core of a group.",
}
ORDER = {  # most at risk first; equal rows are then in label order
    "criminal_associates": lambda r: (r["one_hop"], r["two_hops"]),
    "relatives": lambda r: (int(r["lives_with_relative"]), r["relatives_associates"]),
    "criminal_triangles": lambda r: r["triangles"],
}
REVIEW = "A screening for review, not a finding: every row needs an analyst's judgement."


@dataclass(frozen=True)
class Links:
    """The link types each indicator reads; empty means the ontology's default for that role."""

    association: tuple[str, ...] = ()
    involvement: tuple[str, ...] = ()
    family: tuple[str, ...] = ()
    household: tuple[str, ...] = ()
    residence: tuple[str, ...] = ()

    def resolved(self, model: Model) -> dict[str, set[str]]:
        defaults = {
            "association": {t for t in model.descendants(Core.ASSOCIATED_WITH) if not model.links[t].inferred},
            "involvement": crime_roles(model),
            "family": set(model.descendants(Core.FAMILY_OF)),
            "household": set(model.descendants(Core.LIVES_WITH)),
            "residence": set(model.descendants(Core.LIVES_AT)),
        }
        given = {
            "association": self.association,
            "involvement": self.involvement,
            "family": self.family,
            "household": self.household,
            "residence": self.residence,
        }
        return {role: expand_types(model, names, "link") if names else defaults[role] for role, names in given.items()}


def screen(
    store: GraphReader,
    model: Model,
    indicator: Indicator = "criminal_associates",
    *,
    scope: Scope = Scope(),  # noqa: B008 - frozen
    links: Links = Links(),
    min_associates: int = 2,
    min_within_two_hops: int | None = None,
    min_triangles: int = 1,
    top: int = 50,
    progress: Callable[[str], None] = lambda _: None,
) -> Answer:
    """Run one screening; the rows are most at risk first, at most ``top`` of them."""
    if indicator not in INDICATORS:
        raise ValueError(f"unknown indicator {indicator!r}; choose one of {', '.join(INDICATORS)}")
    roles = links.resolved(model)
    read_links = set().union(*roles.values())
    if indicator == "criminal_triangles":  # what people share joins them too
        read_links |= {t for t in model.links if not model.links[t].inferred}
    progress(f"reading {scope.describe()}")
    read = read_scope(store, model, scope, read_links)
    graph = read.graph
    people = set(model.descendants(Core.PERSON))
    cells = lambda n: entity_cells(graph, model, n)  # noqa: E731
    notes = [INDICATORS[indicator], REVIEW, *read.notes]
    named = {"association": sorted(roles["association"]), "involvement": sorted(roles["involvement"])}
    if indicator == "criminal_associates":
        found = drawn_towards_crime(
            graph,
            association=roles["association"],
            involvement=roles["involvement"],
            min_associates=min_associates,
            min_within_two_hops=min_within_two_hops,
            person_types=people,
        )
        rows = [
            {
                **cells(r.person),
                "one_hop": len(r.within_one_hop),
                "two_hops": len(r.within_two_hops),
                "within_two_hops": len(r.within_one_hop) + len(r.within_two_hops),
                "associates": [cells(p) for p in r.within_one_hop],
                "second_hop_associates": [cells(p) for p in r.within_two_hops],
            }
            for r in found
        ]
        columns = [
            Column("one_hop", "Distinct people party to crime the person is directly associated with."),
            Column("two_hops", "Distinct people party to crime two associations away and not also directly."),
            Column("within_two_hops", "Distinct people party to crime within two associations: one_hop + two_hops."),
            Column("associates", "The directly associated people party to crime."),
            Column("second_hop_associates", "The people party to crime two associations away."),
        ]
        thresholds = {"min_associates": min_associates, "min_within_two_hops": min_within_two_hops}
    elif indicator == "relatives":
        found_relatives = relatives_with_criminal_associates(
            graph,
            family=roles["family"],
            association=roles["association"],
            involvement=roles["involvement"],
            household=roles["household"],
            residence=roles["residence"],
            min_associates=min_associates,
        )
        rows = [
            {
                **cells(r.person),
                "relative": cells(r.relative)["label"],
                "relative_id": r.relative,
                "relatives_associates": len(r.relatives_associates),
                "lives_with_relative": r.lives_with_relative,
                "associates": [cells(p) for p in r.relatives_associates],
            }
            for r in found_relatives
        ]
        columns = [
            Column("relative", "The relative (a family link) who is associated with people party to crime."),
            Column("relative_id", "The relative's id."),
            Column("relatives_associates", "Distinct people party to crime the relative is directly associated with."),
            Column("lives_with_relative", "A household link joins them, or both live at the same address (residence)."),
            Column("associates", "The relative's associates party to crime."),
        ]
        named.update(
            family=sorted(roles["family"]), household=sorted(roles["household"]), residence=sorted(roles["residence"])
        )
        thresholds = {"min_associates": min_associates}
    else:
        # As the subject profile counts them: people joined by association links or by what they
        # share (an event they were party to together, a phone, an address), with the ontology's weights.
        social = people_projection(graph, model)
        extra: list[str] = []
        parties = parties_to_crime(graph, roles["involvement"])
        triangles = criminal_triangles(social, parties, min_triangles=min_triangles)
        rows = [{**cells(r["person"]), "triangles": r["triangles"]} for r in triangles]
        columns = [
            Column(
                "triangles",
                "Triangles the person closes among people party to crime: pairs of their associates, both party to "
                "crime, associated with each other (by a link, or by a shared event, phone or address).",
            )
        ]
        notes += extra
        thresholds = {"min_triangles": min_triangles}
    rows, cut = cut_with_ties(rows, top, key=ORDER[indicator])
    notes += cut
    entity_columns = [
        Column("id", "The person's id (a pseudonym where you see people under pseudonyms)."),
        Column("type", "The entity's type."),
        Column("label", "The person's label."),
    ]
    shown = {r["id"] for r in rows} | {a["id"] for r in rows for a in r.get("associates", [])}
    return Answer(
        question="screening",
        parameters={"indicator": indicator, "links": named, **thresholds, "top": top, "scope": scope.as_dict()},
        columns=entity_columns + columns,
        rows=rows,
        notes=notes,
        projection={"nodes": graph.number_of_nodes(), "links": graph.number_of_edges()},
        truncated=read.truncated,
        graph=graph.subgraph(shown).copy(),
    )
