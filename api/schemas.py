"""Response models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nimgraph.ontology import Core

_RECORD = {
    "source": "council-asb",
    "record_id": "ASB-EXAMPLE-0001",
    "file": "council_asb.csv",
    "row": 2,
    "date": "2026-01-01",
    "grade": "2BP",
    "handling": "P",
}
_CLEARANCE = {"filtered": False, "notice": None}


class ProvenancePublic(BaseModel):
    source: str
    record_id: str
    file: str
    row: int
    date: str | None
    grade: str = Field(description="3x5x2 grade, e.g. 1AP")
    handling: str


class ClearanceNotice(BaseModel):
    """Whether the caller's key filters results: the same on every answer to that key, never a count."""

    filtered: bool = Field(description="true when your clearance (handling codes, pseudonyms) filters what you see")
    notice: str | None = Field(description="the partnership's fixed words for it, where its policy shows them")


class EntitySummary(BaseModel):
    id: str
    type: str
    label: str
    properties: dict[str, Any]


class EntityPublic(EntitySummary):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "Person-3f2a9c0d1e4b5a6f7c8d",
                    "type": Core.PERSON,
                    "label": "Alex Example",
                    "properties": {"name": "Alex Example", "nominalId": "EXAMPLE-0001"},
                    "provenance": [_RECORD],
                    "clearance": _CLEARANCE,
                }
            ]
        }
    )

    provenance: list[ProvenancePublic]
    clearance: ClearanceNotice


class EntityPage(BaseModel):
    items: list[EntitySummary]
    limit: int
    offset: int
    next_offset: int | None = Field(description="where the next page starts; null after the last page")
    clearance: ClearanceNotice


class EvidencePublic(BaseModel):
    kind: str
    via: str | None
    via_label: str | None
    weight: float
    records: list[ProvenancePublic]


class AssociationPublic(BaseModel):
    person: str
    label: str
    strength: float
    evidence: list[EvidencePublic]


class AssociationList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subject": "Person-3f2a9c0d1e4b5a6f7c8d",
                    "hops": 2,
                    "link_types": None,
                    "since": "2026-01-01",
                    "until": None,
                    "min_grade": "2B",
                    "items": [
                        {
                            "person": "Person-8b1e7a2c9d0f3e4a5b6c",
                            "label": "Sam Sample",
                            "strength": 2.35,
                            "evidence": [
                                {
                                    "kind": Core.OFFENDER_IN,
                                    "via": "CrimeIncident-0c9d8e7f6a5b4c3d2e1f",
                                    "via_label": "Drugs, 2026-08-14",
                                    "weight": 1.0,
                                    "records": [_RECORD],
                                }
                            ],
                        }
                    ],
                    "clearance": _CLEARANCE,
                }
            ]
        }
    )

    subject: str
    hops: int
    link_types: list[str] | None
    since: str | None
    until: str | None
    min_grade: str | None
    items: list[AssociationPublic]
    clearance: ClearanceNotice


class NodePublic(BaseModel):
    id: str
    type: str
    label: str
    properties: dict[str, Any]
    provenance: list[ProvenancePublic]


class LinkPublic(BaseModel):
    id: str
    type: str
    source: str
    target: str
    inferred: bool
    provenance: list[ProvenancePublic]


class GraphPublic(BaseModel):
    """A graph-shaped result; ask for ``format=html`` to see it drawn."""

    nodes: list[NodePublic]
    links: list[LinkPublic]
    truncated: bool = Field(description="true when a size cap left part of the asked-for graph out")
    clearance: ClearanceNotice | None = Field(default=None, description="set when the graph is the whole response")


class PathList(BaseModel):
    source: str
    target: str
    max_hops: int
    paths: list[list[str]] = Field(description="shortest paths, each a list of entity ids from source to target")
    graph: GraphPublic
    clearance: ClearanceNotice


class ConnectingNetworkPublic(BaseModel):
    subjects: list[str]
    paths: list[dict[str, Any]]
    unconnected: list[list[str]]
    intermediaries: list[dict[str, Any]]
    graph: GraphPublic
    clearance: ClearanceNotice


class SharedPublic(BaseModel):
    id: str
    type: str
    label: str | None


class ProblemLinkPublic(BaseModel):
    problem: str
    label: str
    strength: float
    shared: dict[str, int] = Field(description="shared entities by POLE category")
    examples: list[SharedPublic]
    records: list[int] = Field(description="footnote numbers of the records behind the shared entities")


class ProblemLinks(BaseModel):
    problem: str
    links: list[ProblemLinkPublic]
    footnotes: list[dict[str, Any]]
    clearance: ClearanceNotice


class ClassPublic(BaseModel):
    name: str
    label: str
    definition: str
    parents: list[str]
    aligned_with: list[str]
    keys: list[str]
    mappable: bool = Field(description="false for what nimgraph creates itself: records, products, inferences")
    properties: list[str] = Field(description="properties this class and its ancestors may carry")


class LinkTypePublic(BaseModel):
    name: str
    label: str
    definition: str
    relationship: str = Field(description="the Neo4j relationship type, derived from the name")
    domain: str | None
    range: str | None
    parents: list[str]
    inferred: bool


class ConceptPublic(BaseModel):
    notation: str
    label: str
    definition: str


class CodeListPublic(BaseModel):
    name: str
    label: str
    definition: str
    concepts: list[ConceptPublic]
