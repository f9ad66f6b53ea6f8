"""Linkage proposals in the graph: a ``possiblySameAs`` inference per candidate pair, and an analyst's
decisions on it. Nothing is merged.

A run reads every person with what identifies them (name, date of birth, NHS number, and the
addresses, phones and emails they are linked to), every address and every vehicle, trains a model
per class on them, and writes each pair at or above the threshold as an inferred link asserted by a
record of the ``entity-resolution`` source: the match probability and weight, each comparison's
contribution, the model's id. It does so once per handling level, on that level's records, and each
run's records have that level's code: a caller sees a proposal only through a run on records it may
see, with that run's figures. A decision (accept, reject, undo) is its own record of the
``analyst-resolution`` source, signed and timed, so a re-run, which rewrites the proposal's records
with new figures, never overwrites it; a rejected pair stays rejected.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nimgraph.grading import HANDLING_ORDER, most_restrictive
from nimgraph.ids import link_id
from nimgraph.ontology import Core, Model
from nimgraph.records import Assertion, Batch, Entity, Link, Subgraph
from nimgraph.resolution import ACCEPTED, PROPOSED, REJECTED
from nimgraph.resolution.frames import address_row, person_row, vehicle_row
from nimgraph.resolution.linkage import ClassSettings, LinkageError, Pair, load_settings, predict, train
from nimgraph.store.base import GraphReader, GraphStore
from nimgraph.tasking.writes import change_record_id

__all__ = [
    "DECISIONS",
    "DECISION_SOURCE",
    "PROPOSAL_SOURCE",
    "Proposal",
    "RunReport",
    "decide",
    "people_rows",
    "proposals",
    "run_linkage",
]

PROPOSAL_SOURCE = "entity-resolution"
DECISION_SOURCE = "analyst-resolution"
# A proposal: source untested (2), known indirectly (C); a decision: the analyst's own, known directly.
PROPOSAL_GRADING, DECISION_GRADING = "2C", "1A"
DECISIONS = {"accept": ACCEPTED, "reject": REJECTED, "undo": PROPOSED}
ALL = 10**12  # a find's limit that reads every match


@dataclass(frozen=True)
class Proposal:
    """A candidate pair as a reader sees it."""

    id: str
    left: str
    right: str
    match_probability: float
    match_weight: float
    contributions: dict[str, float]
    status: str
    model_id: str
    handling: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RunReport:
    model_id: str
    people: int
    proposed: int  # pairs at or above the threshold
    new: int  # of those, pairs not proposed before
    kept_decisions: int  # pairs already decided, whose decision stands
    model_path: Path | None
    classes: dict[str, dict[str, Any]] = field(default_factory=dict)  # per class: model, records, pairs


# How a class's records (other than people, who gather what they are linked to) become canonical rows.
ROW_BUILDERS = {"address": address_row, "vehicle": vehicle_row}


def _entities(store: GraphReader, type_name: str) -> Iterable[Entity]:
    """Every record of a type, in one read: pages read one after another would shift under a concurrent
    write, and a cleared view's pages under a hidden one (a P run would then read what C writes moved)."""
    return store.find(type_name, limit=ALL)


class Snapshot:
    """What one class's linkage reads, read once from the store: every record of its type and the links
    from people to what identifies them. Each handling level's view is a cleared view of this, so every
    level reads the same data, and a level's rows depend only on what records of that level say."""

    def __init__(self, store: GraphReader, type_name: str, link_types: list[str]) -> None:
        self.type_name = type_name
        self.records = list(store.find(type_name, limit=ALL))
        self.links = store.subgraph(link_types) if link_types else Subgraph()

    def find(self, type_name=None, text=None, limit: int = 50, offset: int = 0) -> list[Entity]:
        if type_name != self.type_name or text is not None:
            raise LinkageError(f"a linkage snapshot holds only {self.type_name} records, found by type")
        return self.records[offset : offset + limit]

    def subgraph(self, link_types: Iterable[str]) -> Subgraph:
        wanted = set(link_types)
        links = {i: k for i, k in self.links.links.items() if k.type in wanted}
        ends = {end for k in links.values() for end in (k.source, k.target)}
        return Subgraph(entities={i: e for i, e in self.links.entities.items() if i in ends}, links=links)


def identifying_values(around: Subgraph) -> dict[str, dict[str, Any]]:
    """What each person's linked entities add to their row (an address's line and postcode, a phone's
    number, an email's identifier), from a read of the links to them: where a person has several, the
    first by link id, so the same data gives the same values."""
    filled: dict[str, dict[str, Any]] = {}
    for link in sorted(around.links.values(), key=lambda k: k.id):
        other = around.entities.get(link.target)
        if other is None or link.source == link.target:
            continue
        values = filled.setdefault(link.source, {})
        for key in IDENTIFYING:
            if key in other.properties:
                values.setdefault(key, other.properties[key])
    return filled


def people_rows(store: GraphReader, model: Model, type_name: str = Core.PERSON) -> list[dict[str, Any]]:
    """Each person's canonical row, with what identifies them (their own values win).

    Two set-wise reads, whatever the number of people: every link from a person to what identifies them,
    then every person.
    """
    filled = identifying_values(store.subgraph(identifying_links(model)))
    rows = []
    for person in _entities(store, type_name):
        source = sorted({a.source for a in person.provenance})[0] if person.provenance else "unknown"
        rows.append(person_row(person.id, source, {**filled.get(person.id, {}), **person.properties}))
    return rows


# What a person's linked entities add to their row.
IDENTIFYING = ("addressLine", "postcode", "phoneNumber", "identifier")


def identifying_links(model: Model) -> list[str]:
    """Links from a person to something that identifies them: to a type with an identifying property."""
    found = []
    for name, link in model.links.items():
        if not link.domain or not link.range or link.inferred or link.range not in model.entities:
            continue
        reaches = {link.range, *model.descendants(link.range)}
        if model.is_a(link.domain, Core.PERSON) and any(
            set(IDENTIFYING) & set(model.properties_for(kind)) for kind in reaches
        ):
            found.append(name)
    return sorted(found)


def _levels(store: GraphReader, model: Model) -> list[tuple[str, GraphReader]]:
    """Each handling level's reader, least restrictive first: a P run reads what P records say."""
    from nimgraph.access.roles import Role, clearance_for
    from nimgraph.access.view import ClearedView

    levels: list[tuple[str, GraphReader]] = []
    for n, code in enumerate(HANDLING_ORDER[:-1]):
        cleared = clearance_for(Role.PARTNER_VIEWER, handling=list(HANDLING_ORDER[: n + 1]))
        levels.append((code, ClearedView(store, model, cleared)))  # type: ignore[arg-type]
    return [*levels, (HANDLING_ORDER[-1], store)]


def class_rows(reader: GraphReader, model: Model, settings: ClassSettings) -> list[dict[str, Any]]:
    """The canonical rows of one class's records."""
    if settings.name == "person":
        return people_rows(reader, model, settings.type_name)
    build = ROW_BUILDERS[settings.name]
    rows = []
    for entity in _entities(reader, settings.type_name):
        source = sorted({a.source for a in entity.provenance})[0] if entity.provenance else "unknown"
        rows.append(build(entity.id, source, entity.properties))
    return rows


def run_linkage(
    store: GraphStore,
    model: Model,
    *,
    settings: ClassSettings | Mapping[str, ClassSettings] | None = None,
    models_dir: Path | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> RunReport:
    """Train on the store's records of each class (people, addresses, vehicles) and write the pairs at or
    above each class's threshold as proposals.

    The linkage runs once at each handling level, on what records of that level and below say, and its
    records have that level's code: a pair the P records alone propose gets a P record with the P run's
    figures, so a partner's queue is what linkage of the records it may see would find, unchanged by any
    C record; the run on everything gives its pairs C records (its model read C records). Records of an
    earlier run that this one no longer proposes are withdrawn; decisions stay, read where their pair is
    proposed (see _decisions_follow_proposals).
    """
    chosen = {settings.name: settings} if isinstance(settings, ClassSettings) else dict(settings or load_settings())
    held = store.subgraph([Core.POSSIBLY_SAME_AS]).links
    before = {i: str(k.properties.get("reviewStatus") or DECISIONS["undo"]) for i, k in held.items()}
    links: dict[str, Link] = {}
    report = RunReport("", 0, 0, 0, 0, None)
    for name, class_settings in chosen.items():
        model.entity_type(class_settings.type_name)  # a type the ontology knows, or UnknownTypeError says so
        linked = _link_class(store, model, class_settings, links, models_dir, say)
        if linked is None:
            continue
        report.classes[name] = linked
        if not report.model_id or name == "person":
            report.model_id, report.model_path = linked["model_id"], linked["model_path"]
        if name == "person":
            report.people = linked["records"]
    if not report.classes:
        raise LinkageError(f"there are fewer than two records to compare of {', '.join(chosen)}")
    written = {a.record_id for link in links.values() for a in link.provenance}
    earlier = {a.record_id for k in held.values() for a in k.provenance if a.source == PROPOSAL_SOURCE}
    store.register_source(PROPOSAL_SOURCE, {"dataset": "Pairs that may be the same, from record linkage"})
    run = f"linkage:{report.model_id}:{secrets.token_hex(4)}"
    store.upsert(Batch(links=list(links.values()), run=run))
    if earlier - written:
        store.retract(PROPOSAL_SOURCE, sorted(earlier - written))
    _decisions_follow_proposals(store, run)
    report.proposed = len(links)
    report.new = sum(1 for i in links if i not in before)
    report.kept_decisions = sum(1 for i in links if before.get(i) in (DECISIONS["accept"], DECISIONS["reject"]))
    return report


def _link_class(
    store: GraphStore,
    model: Model,
    settings: ClassSettings,
    links: dict[str, Link],
    models_dir: Path | None,
    say: Callable[[str], None],
) -> dict[str, Any] | None:
    """One class linked at each handling level, its proposals added to ``links``; what it did, or None
    when it had fewer than two records."""
    import pandas as pd

    done = None
    snapshot = Snapshot(store, settings.type_name, identifying_links(model) if settings.name == "person" else [])
    for code, reader in _levels(snapshot, model):  # type: ignore[arg-type]
        rows = class_rows(reader, model, settings)
        if len(rows) < 2:
            continue
        say(f"linking {len(rows):,} {settings.name} records handled up to {code}")
        try:
            trained = train(settings, [pd.DataFrame(rows)], link_type="dedupe_only", say=say)
        except LinkageError as error:
            say(f"nothing to propose from {settings.name} records handled up to {code}: {error}")
            continue
        path = trained.save(models_dir / f"{trained.model_id}.json") if models_dir else None
        proposed = 0
        for pair in predict(trained):
            proposal = _proposal(model, pair, trained.model_id, code)
            proposed += 1
            if proposal.id in links:  # the stricter run's figures are the link's; each record keeps its own
                links[proposal.id].provenance.extend(proposal.provenance)
                links[proposal.id].properties = proposal.properties
            else:
                links[proposal.id] = proposal
        done = {"model_id": trained.model_id, "model_path": path, "records": len(rows), "proposed": proposed}
    return done


def _decisions_follow_proposals(store: GraphStore, run: str) -> None:
    """Give all of a pair's decisions the one handling code :func:`_decisions_code` says, in their write
    order, which is the order that sets the pair's status.

    Read after the run's writes, so a decision made while it ran is rewritten too.
    """
    rewritten = []
    for link in store.subgraph([Core.POSSIBLY_SAME_AS]).links.values():
        decisions = sorted(
            (a for a in link.provenance if a.source == DECISION_SOURCE), key=lambda a: (a.written or 0, a.record_id)
        )
        if not decisions:
            continue
        wanted = _decisions_code(link)
        if all(a.handling == wanted for a in decisions):
            continue
        kept = [replace(a, handling=wanted, grade=f"{a.grade[:2]}{wanted}") for a in decisions]
        rewritten.append(replace(link, properties={}, provenance=kept))
    if rewritten:
        store.upsert(Batch(links=rewritten, run=f"{run}:decisions"))


def _decisions_code(link: Link, deciding_on: str | None = None) -> str:
    """The handling code all of a pair's decisions share (with one being made on ``deciding_on``).

    A decision is read where its pair is proposed: P while the P records alone propose the pair, which
    no C record can change (the P run reads none); a judgement on records a partner sees. A decision made
    where only C records proposed the pair is C for good, and so are the pair's others, so a partner
    never reads part of a history, nor a judgement that C evidence led to.
    """
    made = {str((a.properties or {}).get("decidedOn") or a.handling) for a in link.provenance
            if a.source == DECISION_SOURCE}  # fmt: skip
    return most_restrictive({*made, *([deciding_on] if deciding_on else []), _decision_handling(link)})


def _decision_handling(link: Link) -> str:
    """The least restrictive handling of the proposal records behind a pair; the strictest where none is."""
    proposed = {a.handling for a in link.provenance if a.source == PROPOSAL_SOURCE}
    return min(proposed, key=HANDLING_ORDER.index) if proposed else HANDLING_ORDER[-1]


def _proposal(model: Model, pair: Pair, model_id: str, level: str) -> Link:
    """The pair's proposal record from the run on records handled up to ``level``, at that level: its
    figures come from a model trained on those records, so they say nothing of any stricter one."""
    source, target = model.oriented(Core.POSSIBLY_SAME_AS, pair.left, pair.right)
    identifier = link_id(Core.POSSIBLY_SAME_AS, source, target)
    said = {
        "inferenceMethod": "probabilistic record linkage (Splink, Fellegi-Sunter)",
        "matchProbability": round(pair.match_probability, 6),
        "matchWeight": round(pair.match_weight, 4),
        "comparisonWeights": json.dumps(pair.contributions, sort_keys=True),
        "modelId": model_id,
    }
    return Link(
        id=identifier,
        type=Core.POSSIBLY_SAME_AS,
        source=source,
        target=target,
        properties=said,
        provenance=[
            Assertion(
                source=PROPOSAL_SOURCE,
                # one record a pair and level: a re-run rewrites its figures, never a decision
                record_id=identifier if level == HANDLING_ORDER[-1] else f"{identifier}#{level}",
                file="",
                row=0,
                date=datetime.now(UTC).date().isoformat(),
                grade=f"{PROPOSAL_GRADING}{level}",
                handling=level,
                properties=said,
            )
        ],
    )


def decide(store: GraphStore, model: Model, proposal_id: str, decision: str, *, analyst: str) -> str:
    """Accept, reject or undo a proposal; the status it now has. A decision is its own signed record."""
    if decision not in DECISIONS:
        raise LinkageError(f"a decision is one of {', '.join(DECISIONS)}, not {decision!r}")
    if not analyst or not analyst.strip():
        raise LinkageError("a decision needs the analyst's name")
    held = _held(store, proposal_id)
    if held is None:
        raise LinkageError(f"no proposal {proposal_id!r}")
    at = datetime.now(UTC)
    decided_on = _decision_handling(held)
    handling = _decisions_code(held, decided_on)
    status = DECISIONS[decision]
    decision_link = Link(
        id=held.id,
        type=held.type,
        source=held.source,
        target=held.target,
        properties={"reviewStatus": status, "decidedBy": analyst.strip(), "decidedOn": decided_on},
        provenance=[
            Assertion(
                source=DECISION_SOURCE,
                record_id=change_record_id(held.id, at),
                file=analyst.strip(),
                row=0,
                date=at.date().isoformat(),
                grade=f"{DECISION_GRADING}{handling}",
                handling=handling,
            )
        ],
    )
    store.register_source(DECISION_SOURCE, {"dataset": "Analysts' decisions on proposed matches"})
    store.upsert(Batch(links=[decision_link], run=decision_link.provenance[0].record_id))
    return status


def _held(store: GraphReader, proposal_id: str) -> Link | None:
    return store.subgraph([Core.POSSIBLY_SAME_AS]).links.get(proposal_id)


def proposals(reader: GraphReader, *, status: str | None = None, limit: int = 100) -> list[Proposal]:
    """The proposals ``reader`` may see, highest probability first (optionally of one status)."""
    found: dict[str, Proposal] = {}
    for link in reader.subgraph([Core.POSSIBLY_SAME_AS]).links.values():
        props = link.properties
        current = str(props.get("reviewStatus") or DECISIONS["undo"])
        if status is not None and current != status:
            continue
        found[link.id] = Proposal(
            id=link.id,
            left=link.source,
            right=link.target,
            match_probability=float(props.get("matchProbability") or 0),
            match_weight=float(props.get("matchWeight") or 0),
            contributions=json.loads(props.get("comparisonWeights") or "{}"),
            status=current,
            model_id=str(props.get("modelId") or ""),
            handling=most_restrictive({a.handling for a in link.provenance}) if link.provenance else "C",
        )
    ranked = sorted(found.values(), key=lambda p: (-p.match_probability, p.id))
    return ranked[:limit]
