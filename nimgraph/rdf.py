"""The graph as RDF in the ontology's terms (Turtle or JSON-LD), and back.

Each entity is an instance of its ``nim:`` class with its properties as typed literals. Each link is
a triple ``source nim:link target``, and also a reified ``rdf:Statement`` that carries the link's id,
properties and provenance. Each source record is a ``nim:Record`` (a ``prov:Entity``) that
``nim:asserts`` the entities and link statements it supports, with its grade and handling code,
and comes ``nim:fromSource`` a ``nim:InformationSource``. The export passes the ontology's shapes.ttl.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from urllib.parse import quote, unquote

from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import PROV

from nimgraph.ontology import NIM, Core, Model
from nimgraph.records import Assertion, Entity, Link, Subgraph

ITEM = Namespace("https://w3id.org/nimgraph/id/")
RECORD = Namespace("https://w3id.org/nimgraph/record/")
SOURCE = Namespace("https://w3id.org/nimgraph/source/")
FORMATS = {"turtle": "turtle", "ttl": "turtle", "json-ld": "json-ld", "jsonld": "json-ld"}

_XSD = {"date": XSD.date, "datetime": XSD.dateTime, "number": XSD.double, "integer": XSD.integer}
_RECORD_FIELDS = (  # Assertion field -> ontology property
    ("record_id", "recordId"),
    ("file", "sourceFile"),
    ("row", "rowNumber"),
    ("date", "recordDate"),
    ("grade", "grade"),
    ("handling", "handlingCode"),
)


def _literal(value: object, datatype: str) -> Literal:
    if datatype in _XSD:
        return Literal(value, datatype=_XSD[datatype])
    if datatype == "boolean":
        return Literal(bool(value))
    return Literal(str(value))


def _record_uri(assertion: Assertion) -> URIRef:
    return RECORD[f"{quote(assertion.source, safe='')}/{quote(assertion.record_id, safe='')}"]


def to_rdf(subgraph: Subgraph, model: Model, sources: Mapping[str, Mapping[str, str]] | None = None) -> Graph:
    """The subgraph, with its provenance, as an rdflib Graph in the ontology's terms.

    ``sources`` is the store's source register (``store.sources()``): what it holds of each source
    that the exported records come from (its agency...) is written on that ``nim:InformationSource``.
    """
    graph = Graph()
    for prefix, namespace in (("nim", NIM), ("prov", PROV), ("item", ITEM), ("record", RECORD), ("src", SOURCE)):
        graph.bind(prefix, namespace)

    def add_properties(subject: URIRef, properties: dict) -> None:
        for name, value in sorted(properties.items()):
            if value is not None:
                graph.add((subject, NIM[name], _literal(value, model.property_def(name).datatype)))

    def add_provenance(subject: URIRef, provenance: list[Assertion]) -> None:
        for assertion in provenance:
            record, source = _record_uri(assertion), SOURCE[quote(assertion.source, safe="")]
            graph.add((record, RDF.type, NIM[Core.RECORD]))
            graph.add((record, NIM[Core.FROM_SOURCE], source))
            graph.add((record, NIM[Core.ASSERTS], subject))
            graph.add((subject, PROV.wasDerivedFrom, record))
            graph.add((source, RDF.type, NIM[Core.INFORMATION_SOURCE]))
            graph.add((source, NIM.name, Literal(assertion.source)))
            for field, name in _RECORD_FIELDS:
                value = getattr(assertion, field)
                if value is not None:
                    graph.add((record, NIM[name], _literal(value, model.property_def(name).datatype)))

    for entity in subgraph.entities.values():
        subject = ITEM[entity.id]
        graph.add((subject, RDF.type, NIM[model.entity_type(entity.type).name]))
        add_properties(subject, entity.properties)
        add_provenance(subject, entity.provenance)
    for link in subgraph.links.values():
        predicate = NIM[model.link_type(link.type).name]
        source, target, statement = ITEM[link.source], ITEM[link.target], ITEM[link.id]
        graph.add((source, predicate, target))
        graph.add((statement, RDF.type, RDF.Statement))
        graph.add((statement, RDF.subject, source))
        graph.add((statement, RDF.predicate, predicate))
        graph.add((statement, RDF.object, target))
        add_properties(statement, link.properties)
        add_provenance(statement, link.provenance)
    for name, properties in sorted((sources or {}).items()):
        source = SOURCE[quote(name, safe="")]
        if (source, RDF.type, NIM[Core.INFORMATION_SOURCE]) in graph:  # only sources of exported records
            add_properties(source, dict(properties))
    return graph


def serialise(graph: Graph, fmt: str) -> str:
    """Turtle or JSON-LD text."""
    try:
        return graph.serialize(format=FORMATS[fmt.lower()])
    except KeyError:
        raise ValueError(f"unknown RDF format {fmt!r}; use one of: {', '.join(sorted(FORMATS))}") from None


def _local(uri: object, namespace: Namespace) -> str:
    return unquote(str(uri)[len(str(namespace)) :])


def _python(value: Literal) -> object:
    converted = value.toPython()
    return converted.isoformat() if isinstance(converted, dt.date) else converted


def from_rdf(graph: Graph, model: Model) -> Subgraph:
    """Read back what :func:`to_rdf` wrote: entities, links and provenance."""
    by_class = {NIM[t.name]: name for name, t in model.entities.items()}
    by_predicate = {NIM[name]: name for name in model.links}

    def properties(subject: URIRef) -> dict:
        return {
            _local(p, NIM): _python(o)
            for p, o in graph.predicate_objects(subject)
            if isinstance(o, Literal) and str(p).startswith(str(NIM))
        }

    def provenance(subject: URIRef) -> list[Assertion]:
        found = []
        for record in graph.subjects(NIM[Core.ASSERTS], subject):
            fields = properties(record)
            found.append(
                Assertion(
                    source=str(graph.value(graph.value(record, NIM[Core.FROM_SOURCE]), NIM.name)),
                    record_id=str(fields["recordId"]),
                    file=str(fields["sourceFile"]),
                    row=int(fields["rowNumber"]),
                    date=fields.get("recordDate"),  # type: ignore[arg-type]
                    grade=str(fields["grade"]),
                    handling=str(fields["handlingCode"]),
                )
            )
        return sorted(found, key=lambda a: (a.source, a.record_id))

    entities = {}
    for subject, cls in graph.subject_objects(RDF.type):
        if cls in by_class and str(subject).startswith(str(ITEM)):
            entity_id = _local(subject, ITEM)
            entities[entity_id] = Entity(
                id=entity_id, type=by_class[cls], properties=properties(subject), provenance=provenance(subject)
            )
    links = {}
    for statement in graph.subjects(RDF.type, RDF.Statement):
        link_id = _local(statement, ITEM)
        links[link_id] = Link(
            id=link_id,
            type=by_predicate[graph.value(statement, RDF.predicate)],  # type: ignore[index]
            source=_local(graph.value(statement, RDF.subject), ITEM),
            target=_local(graph.value(statement, RDF.object), ITEM),
            properties=properties(statement),
            provenance=provenance(statement),
        )
    return Subgraph(entities=entities, links=links)
