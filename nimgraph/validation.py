"""Checking records against the ontology's shapes.ttl: fast checks generated from the shapes, and pyshacl.

Ingest runs :func:`violations` on every entity: the shapes' minCount, maxCount and numeric ranges,
read once into the Model, plus the code lists that properties name with ``nim:codeList``.
:func:`validate_graph` runs pyshacl over RDF (an export, say) with the same shapes, and code-list
shapes generated from the Model, so both say the same thing; ``bench/validate_shapes.py`` measures
the two on the same records.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from rdflib import RDF, BNode, Graph, Literal
from rdflib.collection import Collection

from nimgraph.ontology import NIM, ONTOLOGY_DIR, SH, Constraint, Model, turtle_files


@dataclass(frozen=True)
class Violation:
    path: str  # the property
    kind: str  # "missing", "range", "pattern" or "code"
    message: str  # in words an analyst understands


def article(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def violations(model: Model, type_name: str, properties: dict, codes: bool = True) -> Iterator[Violation]:
    """What is wrong with an entity's properties, by the shapes and (unless ``codes`` is false) code lists.

    >>> from nimgraph.ontology import default_model
    >>> [v.message for v in violations(default_model(), "ASBIncident", {})]
    ['an ASB incident needs a date']
    >>> [v.message for v in violations(default_model(), "Problem", {"title": "x", "saraStage": "Triage"})]
    ["SARA stage 'Triage' is not in the SARA stages: Scanning, Analysis, Response, Assessment"]
    >>> [v.message for v in violations(default_model(), "Address", {"postcode": "NW5"})]
    ["postcode 'NW5' is not a UK postcode, e.g. NW5 9WR"]
    """
    label = model.entity_type(type_name).label
    for constraint in model.constraints_for(type_name):
        prop = model.properties.get(constraint.path)
        if prop is None:  # a constraint on a link: pyshacl checks it on RDF, ingest cannot see links here
            continue
        yield from constraint_violations(constraint, label, prop.label, properties.get(constraint.path))
    if not codes:  # the caller has already read coded values through their code lists
        return
    for name, value in properties.items():
        prop = model.properties.get(name)
        if prop is None or prop.code_list is None or not isinstance(value, str):
            continue
        code_list = model.code_list(prop.code_list)
        if code_list.lookup(value) is None:
            allowed = ", ".join(c.label for c in code_list.concepts)
            yield Violation(name, "code", f"{prop.label} {value!r} is not in the {code_list.label}: {allowed}")


def constraint_violations(
    constraint: Constraint, label: str, property_label: str, value: object
) -> Iterator[Violation]:
    """What is wrong with one property's ``value`` (None: not given) by one constraint, in the order
    :func:`violations` says it; ``label`` is the entity type's."""
    if value is None:
        if constraint.min_count >= 1:
            yield Violation(constraint.path, "missing", f"{article(label)} needs {article(property_label)}")
        return
    low, high = constraint.min_inclusive, constraint.max_inclusive
    if (low is not None and value < low) or (high is not None and value > high):  # type: ignore[operator]
        yield Violation(constraint.path, "range", f"{property_label} {value!r} is outside {low} to {high}")
    if constraint.pattern and isinstance(value, str) and not re.search(constraint.pattern, value):
        wanted = constraint.message or f"in the form {constraint.pattern}"
        yield Violation(constraint.path, "pattern", f"{property_label} {value!r} is not {wanted}")


def ontology_graph() -> Graph:
    """The ontology's classes and properties (not the shapes), for pyshacl's subclass reasoning."""
    graph = Graph()
    for path in turtle_files():
        if path.name != "shapes.ttl":
            graph.parse(data=path.read_text(encoding="utf-8"), format="turtle")
    return graph


def shapes_graph(model: Model) -> Graph:
    """The ontology's shapes.ttl plus one generated shape per coded property (``sh:in`` its codes and labels)."""
    graph = Graph()
    graph.parse(data=(ONTOLOGY_DIR / "shapes.ttl").read_text(encoding="utf-8"), format="turtle")
    for name, prop in sorted(model.properties.items()):
        if prop.code_list is None:
            continue
        concepts = model.code_list(prop.code_list).concepts
        allowed = sorted({c.notation for c in concepts} | {c.label for c in concepts})
        shape, constraint, values = NIM[f"{name}CodeListShape"], BNode(), BNode()
        Collection(graph, values, [Literal(v) for v in allowed])
        graph.add((shape, RDF.type, SH.NodeShape))
        graph.add((shape, SH.targetSubjectsOf, NIM[name]))
        graph.add((shape, SH.property, constraint))
        graph.add((constraint, SH.path, NIM[name]))
        graph.add((constraint, SH["in"], values))
    return graph


@dataclass(frozen=True)
class ShaclReport:
    conforms: bool
    results: int
    text: str


def validate_graph(data: Graph, model: Model) -> ShaclReport:
    """Run pyshacl with the shapes over ``data``, mixing in the ontology so subclasses meet their shapes."""
    import pyshacl  # imported here: it is slow to import and only exports and tests need it

    conforms, report, text = pyshacl.validate(
        data, shacl_graph=shapes_graph(model), ont_graph=ontology_graph(), inference="none", allow_warnings=True
    )
    results = len(set(report.subjects(RDF.type, SH.ValidationResult)))
    return ShaclReport(conforms=bool(conforms), results=results, text=str(text))
