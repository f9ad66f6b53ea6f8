"""Response models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ProvenancePublic(BaseModel):
    source: str
    record_id: str
    file: str
    row: int
    date: str | None
    grade: str = Field(description="3x5x2 grade, e.g. 1AP")
    handling: str


class EntitySummary(BaseModel):
    id: str
    type: str
    label: str
    properties: dict[str, Any]


class EntityPublic(EntitySummary):
    provenance: list[ProvenancePublic]


class EntityPage(BaseModel):
    items: list[EntitySummary]
    limit: int
    offset: int


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
    subject: str
    hops: int
    items: list[AssociationPublic]


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
