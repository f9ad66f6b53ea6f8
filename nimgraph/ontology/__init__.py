"""Load the ontology (``nimgraph/ontology/*.ttl``, package data) into an immutable :class:`Model`.

The ontology is the single source of truth for types. Everything that needs an entity type, a link
type, a property or a constraint asks the Model; the only type names written in Python are the
few core terms in :class:`Core`, which the loader checks exist in the ontology.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rdflib import OWL, RDF, RDFS, SKOS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

NIM = Namespace("https://w3id.org/nimgraph/ontology#")
SH = Namespace("http://www.w3.org/ns/shacl#")
# Package data, found through importlib.resources so that an installed wheel finds it too.
ONTOLOGY_DIR: Traversable = files(__name__)


def turtle_files(directory: Traversable | Path | str | None = None) -> list[Traversable]:
    """The ``*.ttl`` files of ``directory`` (default: the packaged ontology), in name order."""
    folder = Path(directory) if isinstance(directory, str) else directory or ONTOLOGY_DIR
    return sorted((f for f in folder.iterdir() if f.name.endswith(".ttl")), key=lambda f: f.name)


_DATATYPES = {
    XSD.string: "string",
    XSD.date: "date",
    XSD.dateTime: "datetime",
    XSD.double: "number",
    XSD.decimal: "number",
    XSD.integer: "integer",
    XSD.boolean: "boolean",
}


class Core:
    """Ontology terms the code relies on by name; :func:`load_model` fails if one is missing."""

    PERSON = "Person"
    OBJECT = "Object"
    EVENT = "Event"
    INCIDENT = "Incident"  # what assessments count: crimes, ASB, fires and other reported incidents
    LOCATION = "Location"
    AREA = "Area"
    PROBLEM = "Problem"
    ACTIVITY = "Activity"  # a response to a problem, under a pillar
    OUTCOME = "Outcome"  # what changed for a problem
    PROJECT = "Project"  # a bounded piece of work under a problem
    PRIORITY = "Priority"
    TASKING_GROUP = "TaskingGroup"
    TASKING_MEETING = "TaskingMeeting"
    TASKING = "Tasking"
    EVALUATION = "Evaluation"  # an operational review
    INTELLIGENCE_REPORT = "IntelligenceReport"
    RECORD = "Record"  # the unit of provenance; the Neo4j store's label for source records
    INFORMATION_SOURCE = "InformationSource"
    INVOLVED_IN = "involvedIn"
    VICTIM_IN = "victimIn"
    OFFENDER_IN = "offenderIn"
    SUSPECT_IN = "suspectIn"
    OCCURRED_AT = "occurredAt"
    WITHIN = "within"
    CONCERNS = "concerns"
    ASSOCIATED_WITH = "associatedWith"
    FAMILY_OF = "familyOf"
    LIVES_WITH = "livesWith"  # a household: the people live together
    LIVES_AT = "livesAt"  # a person's address
    PREDICTED_ASSOCIATION = "predictedAssociation"  # an inferred link an analyst accepted
    POSSIBLY_SAME_AS = "possiblySameAs"  # record linkage's proposal: the same person, for an analyst to decide
    RESPONDS_TO = "respondsTo"  # activity -> the problem it responds to
    OUTCOME_OF = "outcomeOf"  # outcome -> problem
    PRODUCED_BY = "producedBy"  # output -> activity
    MENTIONS = "mentions"
    SUB_PROBLEM_OF = "subProblemOf"
    PROBLEM_VICTIM = "problemVictim"  # the problem analysis triangle's victim side
    PROBLEM_OFFENDER = "problemOffender"
    PRIORITISES = "prioritises"  # priority -> problem
    SET_BY = "setBy"  # priority -> tasking group
    MEETING_OF = "meetingOf"  # meeting -> tasking group
    ISSUED_AT = "issuedAt"  # tasking -> meeting
    TASKS = "tasks"  # tasking -> what it directs work on
    CARRIES_OUT = "carriesOut"  # activity -> tasking
    EVALUATES = "evaluates"  # evaluation -> what it reviews
    ASSERTS = "asserts"  # record -> what it asserts
    FROM_SOURCE = "fromSource"  # record -> its information source

    @classmethod
    def entity_terms(cls) -> tuple[str, ...]:
        """Also the categories networks are drawn by: the first in a type's lineage wins."""
        return (cls.PERSON, cls.OBJECT, cls.EVENT, cls.AREA, cls.LOCATION, cls.PROBLEM, cls.INTELLIGENCE_REPORT)

    @classmethod
    def required_terms(cls) -> tuple[str, ...]:
        loop = (cls.ACTIVITY, cls.OUTCOME, cls.PROJECT, cls.PRIORITY, cls.TASKING_GROUP, cls.TASKING_MEETING)
        return (*cls.entity_terms(), *loop, cls.TASKING, cls.EVALUATION, cls.RECORD, cls.INFORMATION_SOURCE)

    @classmethod
    def link_terms(cls) -> tuple[str, ...]:
        return (
            cls.INVOLVED_IN,
            cls.VICTIM_IN,
            cls.OFFENDER_IN,
            cls.SUSPECT_IN,
            cls.OCCURRED_AT,
            cls.WITHIN,
            cls.CONCERNS,
            cls.ASSOCIATED_WITH,
            cls.FAMILY_OF,
            cls.LIVES_WITH,
            cls.LIVES_AT,
            cls.PREDICTED_ASSOCIATION,
            cls.POSSIBLY_SAME_AS,
            cls.RESPONDS_TO,
            cls.OUTCOME_OF,
            cls.PRODUCED_BY,
            cls.MENTIONS,
            cls.SUB_PROBLEM_OF,
            cls.PROBLEM_VICTIM,
            cls.PROBLEM_OFFENDER,
            cls.PRIORITISES,
            cls.SET_BY,
            cls.MEETING_OF,
            cls.ISSUED_AT,
            cls.TASKS,
            cls.CARRIES_OUT,
            cls.EVALUATES,
            cls.ASSERTS,
            cls.FROM_SOURCE,
        )


class UnknownTypeError(KeyError):
    """A name that the ontology does not define; the message suggests the nearest names."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        super().__init__(f"unknown {kind} {name!r}.{hint} Defined in ontology/nim.ttl.")
        self.name = name

    def __str__(self) -> str:
        return str(self.args[0])

    def with_context(self, where: str) -> UnknownTypeError:
        self.args = (f"{self.args[0].rstrip('.')} ({where}).",)
        return self


@dataclass(frozen=True)
class Concept:
    """One value of a code list: its notation (the code) and its label."""

    notation: str
    label: str
    definition: str = ""
    alt_labels: tuple[str, ...] = ()  # skos:altLabel: other words a source may use for the concept


_UNFOLDED = re.compile(r"[\s\-\u2010\u2011\u2013]+")  # spaces, hyphens and the dash a word processor makes of one


def fold(text: str) -> str:
    """A code list's word as :meth:`CodeList.lookup` compares it: in any case, without spaces or hyphens, so
    that a word written as one, two or hyphenated is the same word.

    >>> fold(" Step-father "), fold("step  father"), fold("STEPFATHER"), fold("Step\u2013father")
    ('stepfather', 'stepfather', 'stepfather', 'stepfather')
    """
    return _UNFOLDED.sub("", text).casefold()


@dataclass(frozen=True)
class CodeList:
    """A SKOS concept scheme from ontology/codelists.ttl."""

    name: str
    label: str
    definition: str
    concepts: tuple[Concept, ...]
    _index: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index = {fold(a): c for c in self.concepts for a in c.alt_labels}
        index.update({fold(c.label): c for c in self.concepts})  # a label wins over another's alternative
        index.update({fold(c.notation): c for c in self.concepts})  # a code wins over a label
        object.__setattr__(self, "_index", index)

    def lookup(self, text: str) -> Concept | None:
        """The concept whose notation, label or alternative label is ``text``, ignoring case, spaces and
        hyphens (:func:`fold`).

        >>> prevention = Concept("prevention", "Prevention", alt_labels=("crime prevention",))
        >>> pillars = CodeList("Pillar", "pillars", "", (prevention,))
        >>> pillars.lookup(" PREVENTION ").label, pillars.lookup("Crime  Prevention").label
        ('Prevention', 'Prevention')
        >>> pillars.lookup("crime-prevention").label, pillars.lookup("CrimePrevention").label
        ('Prevention', 'Prevention')
        >>> pillars.lookup("prevent") is None
        True
        """
        return self._index.get(fold(text))


@dataclass(frozen=True)
class PropertyDef:
    name: str
    label: str
    datatype: str
    domain: str | None
    definition: str = ""
    code_list: str | None = None
    aligned_with: tuple[str, ...] = ()
    free_text: bool = False  # nim:freeText: may name people, so a pseudonymised view leaves it out


@dataclass(frozen=True)
class Constraint:
    """One SHACL property constraint from ontology/shapes.ttl."""

    path: str
    min_count: int = 0
    max_count: int | None = None
    datatype: str | None = None
    min_inclusive: float | None = None
    max_inclusive: float | None = None
    pattern: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class EntityType:
    name: str
    label: str
    definition: str
    parents: tuple[str, ...]
    association_weight: float | None = None
    keys: tuple[str, ...] = ()  # properties that identify an instance (nim:keyProperty)
    mappable: bool = True  # False for what nimgraph creates itself: records, products, inferences
    identifies_person: bool = False  # nim:identifiesPerson, as declared (subclasses inherit: Model.identifies_person)
    aligned_with: tuple[str, ...] = ()  # superclasses outside nim: (PROV-O, FOAF, schema.org)
    label_patterns: tuple[str, ...] = ()  # nim:labelPatterns, as declared on this class


@dataclass(frozen=True)
class LinkType:
    name: str
    label: str
    definition: str
    parents: tuple[str, ...]
    domain: str | None
    range: str | None
    association_weight: float | None = None
    inferred: bool = False  # an analysis proposed it; never recorded evidence
    mappable: bool = True
    aligned_with: tuple[str, ...] = ()
    symmetric: bool = False  # owl:SymmetricProperty: stored once per unordered pair (Model.oriented)
    asymmetric: bool = False  # owl:AsymmetricProperty: directional, declared under a symmetric link

    @property
    def relationship(self) -> str:
        """The Neo4j relationship type: camelCase local name to UPPER_SNAKE (victimIn -> VICTIM_IN)."""
        return relationship_name(self.name)


def relationship_name(link_name: str) -> str:
    """Derive a Neo4j relationship type from a link's local name: camelCase to UPPER_SNAKE.

    >>> relationship_name("victimIn")
    'VICTIM_IN'
    >>> relationship_name("usesPhone")
    'USES_PHONE'
    """
    return snake_case(link_name).upper()


def snake_case(name: str) -> str:
    """Split a camelCase or PascalCase name into lower snake case, keeping acronyms whole.

    >>> snake_case("ASBIncident"), snake_case("LSOA"), snake_case("livesAt")
    ('asb_incident', 'lsoa', 'lives_at')
    """
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


@dataclass(frozen=True)
class Model:
    """The loaded ontology: entity types, link types, properties, constraints and code lists. Immutable."""

    entities: Mapping[str, EntityType]
    links: Mapping[str, LinkType]
    properties: Mapping[str, PropertyDef]
    constraints: Mapping[str, tuple[Constraint, ...]] = field(default_factory=dict)
    code_lists: Mapping[str, CodeList] = field(default_factory=dict)
    label_patterns: tuple[str, ...] = ()  # the ontology's own nim:labelPatterns: every class's last resort
    # Memo of derived answers (lineages, constraints): the Model never changes, so they never go stale.
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

    def __reduce__(self) -> tuple:
        # a mapping proxy does not pickle, and an ingest's mapping process needs the model: it gets
        # plain dicts, wrapped again on arrival (the memo is rebuilt there as it is asked)
        tables = (self.entities, self.links, self.properties, self.constraints, self.code_lists)
        return _model_from_tables, (*(dict(table) for table in tables), self.label_patterns)

    def entity_type(self, name: str) -> EntityType:
        try:
            return self.entities[name]
        except KeyError:
            raise UnknownTypeError("entity type", name, list(self.entities)) from None

    def link_type(self, name: str) -> LinkType:
        try:
            return self.links[name]
        except KeyError:
            raise UnknownTypeError("link type", name, list(self.links)) from None

    def property_def(self, name: str) -> PropertyDef:
        try:
            return self.properties[name]
        except KeyError:
            raise UnknownTypeError("property", name, list(self.properties)) from None

    def code_list(self, name: str) -> CodeList:
        try:
            return self.code_lists[name]
        except KeyError:
            raise UnknownTypeError("code list", name, list(self.code_lists)) from None

    def max_count(self, type_name: str, property_name: str) -> int | None:
        """The cardinality limit the shapes put on a property of a type, if any."""
        limits = [
            c.max_count for c in self.constraints_for(type_name) if c.path == property_name and c.max_count is not None
        ]
        return min(limits) if limits else None

    def ancestors(self, name: str) -> tuple[str, ...]:
        """The type itself, then its ancestors nearest first (entity or link types)."""
        key = ("ancestors", name)
        if key not in self._memo:
            self._memo[key] = self._lineage(name)
        return self._memo[key]

    def _lineage(self, name: str) -> tuple[str, ...]:
        table: Mapping[str, EntityType | LinkType] = self.entities if name in self.entities else self.links
        if name not in table:
            raise UnknownTypeError("type", name, [*self.entities, *self.links])
        order, queue = [], [name]
        while queue:
            current = queue.pop(0)
            if current not in order:
                order.append(current)
                queue.extend(p for p in table[current].parents if p in table)
        return tuple(order)

    def is_a(self, name: str, ancestor: str) -> bool:
        return ancestor in self.ancestors(name)

    def identifies_person(self, type_name: str) -> bool:
        """True when instances of the type (or of an ancestor flagged nim:identifiesPerson) identify someone."""
        return any(self.entities[a].identifies_person for a in self.ancestors(type_name) if a in self.entities)

    def descendants(self, name: str) -> frozenset[str]:
        """The type and every type below it."""
        table: Mapping[str, EntityType | LinkType] = self.entities if name in self.entities else self.links
        if name not in table:
            raise UnknownTypeError("type", name, [*self.entities, *self.links])
        return frozenset(t for t in table if name in self.ancestors(t))

    def properties_for(self, type_name: str) -> dict[str, PropertyDef]:
        lineage = set(self.ancestors(type_name))
        return {n: p for n, p in self.properties.items() if p.domain is None or p.domain in lineage}

    def constraints_for(self, type_name: str) -> tuple[Constraint, ...]:
        key = ("constraints", type_name)
        if key not in self._memo:
            self._memo[key] = tuple(c for t in self.ancestors(type_name) for c in self.constraints.get(t, ()))
        return self._memo[key]

    def labelling(self, type_name: str) -> tuple[str, ...]:
        """The label patterns to try for an instance of the type: its own, its ancestors' nearest
        first, then the ontology's (an unknown type gets the ontology's alone)."""
        key = ("labelling", type_name)
        if key not in self._memo:
            lineage = self.ancestors(type_name) if type_name in self.entities else ()
            own = [p for t in lineage for p in self.entities[t].label_patterns]
            self._memo[key] = tuple(dict.fromkeys([*own, *self.label_patterns]))
        return self._memo[key]

    def oriented(self, link_type: str, source: str, target: str) -> tuple[str, str]:
        """A link's ends as they are stored: in canonical order (the smaller id first) for a
        symmetric link type, so that "A knows B" and "B knows A" are one link; as given otherwise.

        >>> model = default_model()
        >>> model.oriented("knows", "Person-b", "Person-a"), model.oriented("victimIn", "Person-b", "Event-a")
        (('Person-a', 'Person-b'), ('Person-b', 'Event-a'))
        """
        if self.link_type(link_type).symmetric and target < source:
            return target, source
        return source, target

    def association_weight(self, type_name: str, default: float = 0.0) -> float:
        """The nearest ``nim:associationWeight`` up the type's lineage."""
        table: Mapping[str, EntityType | LinkType] = self.entities if type_name in self.entities else self.links
        for t in self.ancestors(type_name):
            if table[t].association_weight is not None:
                return float(table[t].association_weight)  # type: ignore[arg-type]
        return default


def _local(uri: URIRef) -> str:
    return str(uri).rsplit("#", 1)[-1]


def _text(graph: Graph, subject: URIRef, predicate: URIRef) -> str:
    value = graph.value(subject, predicate)
    return str(value) if value is not None else ""


def _weight(graph: Graph, subject: URIRef) -> float | None:
    value = graph.value(subject, NIM.associationWeight)
    return float(value.toPython()) if isinstance(value, Literal) else None


def _in_nim(uri: object) -> bool:
    return isinstance(uri, URIRef) and str(uri).startswith(str(NIM))


def _flag(graph: Graph, subject: URIRef, predicate: URIRef, default: bool) -> bool:
    value = graph.value(subject, predicate)
    return bool(value.toPython()) if isinstance(value, Literal) else default


def _aligned(graph: Graph, subject: URIRef, predicate: URIRef) -> tuple[str, ...]:
    return tuple(
        sorted(
            graph.namespace_manager.normalizeUri(o)
            for o in graph.objects(subject, predicate)
            if isinstance(o, URIRef) and not _in_nim(o)
        )
    )


def _patterns(graph: Graph, subject: URIRef) -> tuple[str, ...]:
    """The strings of the subject's ``nim:labelPatterns`` list, in order (RDF keeps a list's order)."""
    found: list[str] = []
    for head in graph.objects(subject, NIM.labelPatterns):
        found.extend(str(item) for item in Collection(graph, head))
    return tuple(found)


def _entity_types(graph: Graph) -> dict[str, EntityType]:
    return {
        _local(c): EntityType(
            name=_local(c),
            label=_text(graph, c, RDFS.label),
            definition=_text(graph, c, SKOS.definition),
            parents=tuple(sorted(_local(p) for p in graph.objects(c, RDFS.subClassOf) if _in_nim(p))),
            association_weight=_weight(graph, c),
            keys=tuple(sorted(_local(k) for k in graph.objects(c, NIM.keyProperty) if _in_nim(k))),
            mappable=_flag(graph, c, NIM.mappable, True),
            identifies_person=_flag(graph, c, NIM.identifiesPerson, False),
            aligned_with=_aligned(graph, c, RDFS.subClassOf),
            label_patterns=_patterns(graph, c),
        )
        for c in graph.subjects(RDF.type, OWL.Class)
        if _in_nim(c)
    }


def _link_types(graph: Graph) -> dict[str, LinkType]:
    def optional_local(value: object) -> str | None:
        return _local(value) if _in_nim(value) else None  # type: ignore[arg-type]

    return {
        _local(p): LinkType(
            name=_local(p),
            label=_text(graph, p, RDFS.label),
            definition=_text(graph, p, SKOS.definition),
            parents=tuple(sorted(_local(q) for q in graph.objects(p, RDFS.subPropertyOf) if _in_nim(q))),
            domain=optional_local(graph.value(p, RDFS.domain)),
            range=optional_local(graph.value(p, RDFS.range)),
            association_weight=_weight(graph, p),
            inferred=_flag(graph, p, NIM.inferred, False),
            mappable=_flag(graph, p, NIM.mappable, True),
            aligned_with=_aligned(graph, p, RDFS.subPropertyOf),
            symmetric=(p, RDF.type, OWL.SymmetricProperty) in graph,
            asymmetric=(p, RDF.type, OWL.AsymmetricProperty) in graph,
        )
        for p in graph.subjects(RDF.type, OWL.ObjectProperty)
        if _in_nim(p)
    }


def _properties(graph: Graph) -> dict[str, PropertyDef]:
    return {
        _local(p): PropertyDef(
            name=_local(p),
            label=_text(graph, p, RDFS.label),
            datatype=_DATATYPES.get(graph.value(p, RDFS.range), "string"),  # type: ignore[arg-type]
            domain=_local(d) if _in_nim(d := graph.value(p, RDFS.domain)) else None,  # type: ignore[arg-type]
            definition=_text(graph, p, SKOS.definition),
            code_list=_local(c) if _in_nim(c := graph.value(p, NIM.codeList)) else None,  # type: ignore[arg-type]
            aligned_with=_aligned(graph, p, RDFS.subPropertyOf),
            free_text=_flag(graph, p, NIM.freeText, False),
        )
        for p in graph.subjects(RDF.type, OWL.DatatypeProperty)
        if _in_nim(p)
    }


def _code_lists(graph: Graph) -> dict[str, CodeList]:
    def concepts(scheme: URIRef) -> tuple[Concept, ...]:
        members = sorted(  # rdflib keeps no file order, so each concept states its position
            graph.subjects(SKOS.inScheme, scheme), key=lambda c: _number(graph, c, NIM.position) or 0
        )
        return tuple(
            Concept(
                notation=_text(graph, c, SKOS.notation),  # type: ignore[arg-type]
                label=_text(graph, c, SKOS.prefLabel),  # type: ignore[arg-type]
                definition=_text(graph, c, SKOS.definition),  # type: ignore[arg-type]
                alt_labels=tuple(sorted(str(a) for a in graph.objects(c, SKOS.altLabel))),  # type: ignore[arg-type]
            )
            for c in members
        )

    return {
        _local(s): CodeList(
            name=_local(s),
            label=_text(graph, s, RDFS.label),
            definition=_text(graph, s, SKOS.definition),
            concepts=concepts(s),
        )
        for s in graph.subjects(RDF.type, SKOS.ConceptScheme)
        if _in_nim(s)
    }


def _number(graph: Graph, node: object, predicate: URIRef) -> float | None:
    value = graph.value(node, predicate)  # type: ignore[arg-type]
    return float(value.toPython()) if isinstance(value, Literal) else None


def _constraints(graph: Graph) -> dict[str, tuple[Constraint, ...]]:
    found: dict[str, list[Constraint]] = {}
    for shape in graph.subjects(RDF.type, SH.NodeShape):
        target = graph.value(shape, SH.targetClass)
        for node in graph.objects(shape, SH.property):
            min_count, max_count = _number(graph, node, SH.minCount), _number(graph, node, SH.maxCount)
            datatype = graph.value(node, SH.datatype)
            message, pattern = graph.value(node, SH.message), graph.value(node, SH.pattern)
            found.setdefault(_local(target), []).append(  # type: ignore[arg-type]
                Constraint(
                    path=_local(graph.value(node, SH.path)),  # type: ignore[arg-type]
                    min_count=int(min_count or 0),
                    max_count=int(max_count) if max_count is not None else None,
                    datatype=_DATATYPES.get(datatype) if datatype is not None else None,  # type: ignore[arg-type]
                    min_inclusive=_number(graph, node, SH.minInclusive),
                    max_inclusive=_number(graph, node, SH.maxInclusive),
                    pattern=str(pattern) if pattern is not None else None,
                    message=str(message) if message is not None else None,
                )
            )
    return {k: tuple(v) for k, v in found.items()}


def _check(model: Model) -> None:
    for name in Core.required_terms():
        model.entity_type(name)
    for name in Core.link_terms():
        model.link_type(name)
    for target, constraints in model.constraints.items():
        model.entity_type(target)
        for constraint in constraints:
            if constraint.path not in model.links:  # a shape may also constrain a link (pyshacl checks those)
                model.property_def(constraint.path)
    for prop in model.properties.values():
        if prop.code_list is not None:
            model.code_list(prop.code_list)
    _check_symmetry(model)
    from nimgraph.labels import pattern_properties  # labels.py needs nothing of this module's

    declared = [(t.name, p) for t in model.entities.values() for p in t.label_patterns]
    for owner, pattern in [*declared, *(("the ontology", p) for p in model.label_patterns)]:
        for name in pattern_properties(pattern):
            if name not in model.properties:
                raise UnknownTypeError("property", name, list(model.properties)).with_context(
                    f"in label pattern {pattern!r} of {owner}"
                )


class OntologyError(ValueError):
    """The ontology contradicts itself; the message says where."""


def _check_symmetry(model: Model) -> None:
    """A symmetric link joins two things of one kind, and its sub-links say which way they go.

    Symmetry is not inherited: ``parentOf`` is a directional kind of the symmetric ``familyOf``.
    So every sub-link of a symmetric link declares owl:SymmetricProperty or owl:AsymmetricProperty,
    and a link that forgets to is an error rather than a guess.
    """
    for link in model.links.values():
        if link.symmetric and link.asymmetric:
            raise OntologyError(f"link type {link.name!r} is declared both symmetric and asymmetric")
        if link.symmetric and link.domain != link.range:
            raise OntologyError(
                f"symmetric link type {link.name!r} runs from {link.domain or 'anything'} to "
                f"{link.range or 'anything'}; a symmetric link needs one type at both ends"
            )
        symmetric_parents = [p for p in link.parents if p in model.links and model.links[p].symmetric]
        if symmetric_parents and not (link.symmetric or link.asymmetric):
            raise OntologyError(
                f"link type {link.name!r} is a sub-link of the symmetric {symmetric_parents[0]!r}: declare it "
                "owl:SymmetricProperty (stored once per pair) or owl:AsymmetricProperty (directional)"
            )


def load_model(directory: Traversable | Path | str | None = None) -> Model:
    """Parse every ``*.ttl`` in ``directory`` (default: the packaged ontology) into a Model."""
    graph = Graph()
    turtle = turtle_files(directory)
    if not turtle:
        raise FileNotFoundError(f"no ontology files (*.ttl) in {directory or ONTOLOGY_DIR}")
    for path in turtle:
        graph.parse(data=path.read_text(encoding="utf-8"), format="turtle")
    model = Model(
        entities=MappingProxyType(_entity_types(graph)),
        links=MappingProxyType(_link_types(graph)),
        properties=MappingProxyType(_properties(graph)),
        constraints=MappingProxyType(_constraints(graph)),
        code_lists=MappingProxyType(_code_lists(graph)),
        label_patterns=tuple(p for o in graph.subjects(RDF.type, OWL.Ontology) for p in _patterns(graph, o)),
    )
    _check(model)
    return model


def _model_from_tables(*tables: Any) -> Model:
    """A pickled Model as it arrives (see ``Model.__reduce__``).

    >>> import pickle
    >>> model = default_model()
    >>> pickle.loads(pickle.dumps(model)) == model
    True
    """
    *mappings, label_patterns = tables
    entities, links, properties, constraints, code_lists = (MappingProxyType(m) for m in mappings)
    return Model(entities, links, properties, constraints, code_lists, label_patterns)


@cache
def default_model() -> Model:
    """The packaged ontology, loaded once per process."""
    return load_model()
