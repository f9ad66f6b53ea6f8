"""The ontology as the API's consumers see it: classes, link types and code lists, read from the Model."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from api.deps import ModelDep
from api.schemas import ClassPublic, CodeListPublic, ConceptPublic, LinkTypePublic
from nimgraph.ontology import Model, UnknownTypeError

router = APIRouter(prefix="/ontology", tags=["ontology"])


def _class(model: Model, name: str) -> ClassPublic:
    entity = model.entity_type(name)
    return ClassPublic(
        name=name,
        label=entity.label,
        definition=entity.definition,
        parents=list(entity.parents),
        aligned_with=list(entity.aligned_with),
        keys=list(entity.keys),
        mappable=entity.mappable,
        properties=sorted(model.properties_for(name)),
    )


@router.get("/classes", response_model=list[ClassPublic])
def classes(model: ModelDep) -> list[ClassPublic]:
    """Every entity type, with its parents and the properties it may carry."""
    return [_class(model, name) for name in sorted(model.entities)]


@router.get("/classes/{name}", response_model=ClassPublic)
def one_class(name: str, model: ModelDep) -> ClassPublic:
    try:
        return _class(model, name)
    except UnknownTypeError as err:
        raise HTTPException(status_code=404, detail=str(err)) from None


@router.get("/link-types", response_model=list[LinkTypePublic])
def link_types(model: ModelDep) -> list[LinkTypePublic]:
    """Every link type with its Neo4j relationship type; inferred ones are flagged."""
    return [
        LinkTypePublic(
            name=name,
            label=link.label,
            definition=link.definition,
            relationship=link.relationship,
            domain=link.domain,
            range=link.range,
            parents=list(link.parents),
            inferred=link.inferred,
        )
        for name, link in sorted(model.links.items())
    ]


def _code_list(model: Model, name: str) -> CodeListPublic:
    code_list = model.code_list(name)
    return CodeListPublic(
        name=name,
        label=code_list.label,
        definition=code_list.definition,
        concepts=[
            ConceptPublic(notation=c.notation, label=c.label, definition=c.definition) for c in code_list.concepts
        ],
    )


@router.get("/code-lists", response_model=list[CodeListPublic])
def code_lists(model: ModelDep) -> list[CodeListPublic]:
    """Every SKOS code list with its concepts, in the list's order."""
    return [_code_list(model, name) for name in sorted(model.code_lists)]


@router.get("/code-lists/{name}", response_model=CodeListPublic)
def one_code_list(name: str, model: ModelDep) -> CodeListPublic:
    try:
        return _code_list(model, name)
    except UnknownTypeError as err:
        raise HTTPException(status_code=404, detail=str(err)) from None
