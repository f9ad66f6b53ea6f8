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
