"""What every product shares: footnoted provenance, the handling banner, the source summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import networkx as nx

from nimgraph.analysis.association import person_projection
from nimgraph.analysis.resolved import clusters
from nimgraph.grading import most_restrictive
from nimgraph.ontology import Core, Model
from nimgraph.resolution import ACCEPTED
from nimgraph.store.base import GraphReader, SourceRegister


class ProductError(LookupError):
    """The product cannot be built for what was asked; the message says why."""


class TableError(ProductError):
    """A partnership's own table or file (harm index, priority matrix, analyst's sections) is wrong.

    The message, with the file's name and what is wrong, is for whoever runs nimgraph (the command
    line prints it; the API logs it): a file an analyst writes may quote text a caller may not see.
    """


class NotVisible(LookupError):
    """An entity a question names is not there for the caller: missing, or hidden from them, alike.

    ``args[0]`` is the id (or label) as the caller gave it.
    """


class Footnotes:
    """Numbers each source record the first time a product cites it."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, str], int] = {}
        self.records: list[dict] = []

    def cite(self, records: list[dict] | tuple[dict, ...]) -> list[int]:
        numbers = []
        for record in records:
            key = (record["source"], record["record_id"])
            if key not in self._numbers:
                self._numbers[key] = len(self.records) + 1
                self.records.append({"n": self._numbers[key], **record})
            numbers.append(self._numbers[key])
        return sorted(set(numbers))

    @property
    def handling(self) -> str:
        """The most restrictive handling code of the records cited."""
        return most_restrictive({r["handling"] for r in self.records})

    def sources(self, register: Mapping[str, Mapping[str, str]] | None = None) -> list[dict]:
        """Records used per source, with the source's agency (from ``register``) and how they were graded.

        Only sources of records the product cites are listed: the register itself is never shown whole.
        """
        by_source: dict[str, Counter] = {}
        for record in self.records:
            by_source.setdefault(record["source"], Counter())[record["grade"]] += 1
        return [
            {
                "source": s,
                "agency": (register or {}).get(s, {}).get("agency"),
                "records": sum(c.values()),
                "grades": dict(sorted(c.items())),
            }
            for s, c in sorted(by_source.items())
        ]


def source_register(reader: GraphReader) -> dict[str, dict[str, str]]:
    """What the mapping specs said of each information source (its agency...), if ``reader`` keeps a register.

    Source names and agencies are not personal data; a product still lists only the sources of the
    records it cites (:meth:`Footnotes.sources`).
    """
    return reader.sources() if isinstance(reader, SourceRegister) else {}


# Accepted matches followed out from the records a product reads: a cluster chained further than this
# from every record read is resolved in part.
CLUSTER_HOPS = 4


def resolved_clusters(reader: GraphReader, around: Iterable[str] | None = None) -> list[frozenset[str]]:
    """The clusters of records an analyst accepted as one, among the decisions ``reader`` may see: those
    within reach of ``around`` (the records a product reads), or every one when it is None.

    Read around the records a product reads, not the whole store: a linked store holds a proposal for
    every candidate pair, and a profile needs the few that touch its own records. A caller sees an
    accepted pair only when it may see the records behind the proposal, so a partner's products resolve
    only what the partner's own records support.
    """
    if around is None:
        held = reader.subgraph([Core.POSSIBLY_SAME_AS]).links.values()
    else:
        seeds = sorted(set(around))
        if not seeds:
            return []
        reach = reader.neighbourhood(
            seeds, CLUSTER_HOPS, [Core.POSSIBLY_SAME_AS], max_entities=len(seeds) + 5000, entity_provenance=False
        )
        held = reach.links.values()
    return clusters((k.source, k.target) for k in held if k.properties.get("reviewStatus") == ACCEPTED)


def members_of(groups: list[frozenset[str]], entity_id: str) -> list[str]:
    """The records ``entity_id`` was resolved with (itself first), or just itself."""
    group = next((g for g in groups if entity_id in g), frozenset())
    return [entity_id, *sorted(group - {entity_id})]


def generated_at() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def category_of(model: Model):
    """Map an entity type to the POLE category (or top-level type) it is drawn as."""
    roots = Core.entity_terms()

    def category(type_name: str) -> str:
        if type_name not in model.entities:
            return "Other"
        lineage = model.ancestors(type_name)
        return next((r for r in roots if r in lineage), "Other")

    return category


def association_weights(model: Model) -> tuple[set[str], dict[str, float], dict[str, float]]:
    """Person types, direct-link weights and shared-connector weights, all from the ontology.

    The link weights also hold every link type weighted 0 (``officerInCase``): such a link makes
    no association, not even by sharing a connector (see ``analysis.association``).
    """
    people = set(model.descendants(Core.PERSON))
    links = {name: 0.0 for name in model.links if model.association_weight(name, -1.0) == 0}
    links |= {name: model.association_weight(name) for name in model.descendants(Core.ASSOCIATED_WITH)}
    connectors = {
        name: weight for name in model.entities if name not in people and (weight := model.association_weight(name)) > 0
    }
    return people, links, connectors


def crime_roles(model: Model) -> set[str]:
    """The link types that make a person party to crime: offender and suspect, with their subtypes."""
    return {*model.descendants(Core.OFFENDER_IN), *model.descendants(Core.SUSPECT_IN)}


def people_projection(graph: nx.MultiDiGraph, model: Model) -> nx.Graph:
    """Person-to-person association weights (no evidence lists) with the ontology's weights: for
    structure questions (communities, key individuals, predictions, triangles)."""
    people, links, connectors = association_weights(model)
    return person_projection(
        graph, person_types=people, link_weights=links, connector_weights=connectors, with_evidence=False
    )


def data_table(path: Path | str | None, shipped: str, setting: str) -> tuple[str, str]:
    """A partnership's table at ``path`` (named by ``setting``), else the one nimgraph ships in
    ``nimgraph/data/``: its text, and the name a product gives it (a file name, never a server path)."""
    if not path:
        text = resources.files("nimgraph").joinpath("data", shipped).read_text(encoding="utf-8")
        return text, f"{shipped} (shipped with nimgraph)"
    try:
        return Path(path).read_text(encoding="utf-8"), Path(path).name
    except (OSError, UnicodeDecodeError) as err:
        raise TableError(f"cannot read {path} ({err}); fix {setting}") from None
