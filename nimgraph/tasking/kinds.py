"""The kinds of record the partnership writes itself, and the links each may make.

A kind names its ontology type (the single source of truth for its properties) and, for each link
it can make, the field a caller names it by, the ontology link type and whether the record is the
link's source. Nothing here names a type in a string: the terms come from :class:`Core`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nimgraph.ontology import Core, Model

__all__ = ["KINDS", "Kind", "LinkField", "kind_named", "kind_of"]


@dataclass(frozen=True)
class LinkField:
    """A link a record makes: ``field`` in a write, ``link_type`` in the graph, from the record."""

    field: str
    link_type: str
    description: str


@dataclass(frozen=True)
class Kind:
    name: str  # singular, as the CLI names it
    plural: str  # as the API's path names it
    type: str  # the ontology type a new record gets
    description: str
    links: tuple[LinkField, ...] = ()
    also: tuple[str, ...] = field(default=())  # subtypes a write may ask for instead (a project)

    def link_field(self, name: str) -> LinkField:
        for link in self.links:
            if link.field == name:
                return link
        known = ", ".join(link.field for link in self.links) or "none"
        raise KeyError(f"a {self.name} has no link {name!r}; its links: {known}")


KINDS: tuple[Kind, ...] = (
    Kind(
        "priority",
        "priorities",
        Core.PRIORITY,
        "A priority the strategy group set, with an owner, a period, a rationale and measures.",
        (
            LinkField("problems", Core.PRIORITISES, "the problems the priority covers"),
            LinkField("group", Core.SET_BY, "the tasking group that set it"),
        ),
    ),
    Kind(
        "group",
        "tasking-groups",
        Core.TASKING_GROUP,
        "A tasking and co-ordinating group, strategic or tactical.",
    ),
    Kind(
        "meeting",
        "meetings",
        Core.TASKING_MEETING,
        "A tasking and co-ordination meeting: its date, attendees, decisions and actions.",
        (LinkField("group", Core.MEETING_OF, "the group that met"),),
    ),
    Kind(
        "tasking",
        "taskings",
        Core.TASKING,
        "What is to be done, by a named owner, by a due date; its status and result.",
        (
            LinkField("meeting", Core.ISSUED_AT, "the meeting that set it"),
            LinkField("concerning", Core.TASKS, "the priority, problem, subject or place it directs work on"),
        ),
    ),
    Kind(
        "problem",
        "problems",
        Core.PROBLEM,
        "A problem or project: its owner, SARA stage, PROCTOR fields and problem analysis triangle.",
        (
            LinkField("parent", Core.SUB_PROBLEM_OF, "the larger problem it is part of"),
            LinkField("places", Core.CONCERNS, "the triangle's location: the places or areas it is scoped to"),
            LinkField("victims", Core.PROBLEM_VICTIM, "the triangle's victim side"),
            LinkField("offenders", Core.PROBLEM_OFFENDER, "the triangle's offender side"),
        ),
        also=(Core.PROJECT,),
    ),
    Kind(
        "activity",
        "activities",
        Core.ACTIVITY,
        "Work done or planned under a pillar: dates planned and actual, resources, owner.",
        (
            LinkField("problems", Core.RESPONDS_TO, "the problems it responds to"),
            LinkField("taskings", Core.CARRIES_OUT, "the taskings it carries out"),
        ),
    ),
    Kind(
        "outcome",
        "outcomes",
        Core.OUTCOME,
        "What changed for a problem, and the lessons learnt.",
        (LinkField("problems", Core.OUTCOME_OF, "the problems it is an outcome of"),),
    ),
    Kind(
        "review",
        "reviews",
        Core.EVALUATION,
        "An operational review: did it work, the analyst's conclusion and lessons.",
        (LinkField("reviews", Core.EVALUATES, "the problem, tasking or activity it reviews"),),
    ),
)


def kind_named(name: str) -> Kind:
    """The kind a caller names, by its singular or plural.

    >>> kind_named("taskings").type
    'Tasking'
    """
    for kind in KINDS:
        if name in (kind.name, kind.plural):
            return kind
    raise KeyError(f"no kind of record {name!r}; the kinds: {', '.join(k.name for k in KINDS)}")


def kind_of(model: Model, type_name: str) -> Kind | None:
    """The kind an entity of ``type_name`` is written as, or None if the partnership does not write it.

    >>> from nimgraph.ontology import default_model
    >>> kind_of(default_model(), "Project").name, kind_of(default_model(), "Person")
    ('problem', None)
    """
    for kind in KINDS:
        if model.is_a(type_name, kind.type):
            return kind
    return None
