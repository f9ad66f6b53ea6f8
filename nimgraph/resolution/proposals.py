"""Linkage proposals in the graph: a ``possiblySameAs`` inference per candidate pair, and an analyst's
decisions on it. Nothing is merged.

A run reads every person with what identifies them (name, date of birth, NHS number, and the
addresses, phones and emails they are linked to), trains the model on them, and writes each pair at
or above the threshold as an inferred link asserted by one record of the ``entity-resolution``
source: the match probability and weight, each comparison's contribution, the model's id. Its
handling code is the most restrictive of every record behind either person, so a caller sees a
proposal only when it may see all the evidence it rests on. A decision (accept, reject, undo) is its
own record of the ``analyst-resolution`` source, signed and timed, so a re-run, which rewrites the
proposal's record with new figures, never overwrites it; a rejected pair stays rejected.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nimgraph.grading import HANDLING_ORDER, most_restrictive
from nimgraph.ids import link_id
from nimgraph.ontology import Core, Model
from nimgraph.records import Assertion, Batch, Entity, Link
from nimgraph.resolution.frames import person_row
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
DECISIONS = {"accept": "Accepted", "reject": "Rejected", "undo": "Proposed"}
PAGE = 2000


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


def _people(store: GraphReader) -> Iterable[Entity]:
    offset = 0
    while True:
        page = store.find(Core.PERSON, limit=PAGE, offset=offset)
        yield from page
        if len(page) < PAGE:
            return
        offset += PAGE


def people_rows(store: GraphReader, model: Model) -> tuple[list[dict[str, Any]], dict[str, set[str]]]:
    """Each person's canonical row, and the handling codes of every record behind it (the person's and
    those of the addresses, phones and emails that fill it in)."""
    rows, codes = [], {}
    follow = [
        t for t in model.links if model.link_type(t).domain and model.is_a(model.link_type(t).domain, Core.PERSON)
    ]
    for person in _people(store):
        values = dict(person.properties)
        seen = {a.handling for a in person.provenance}
        around = store.neighbourhood([person.id], 1, follow, max_entities=50)
        for other in around.entities.values():
            if other.id == person.id:
                continue
            for key in ("addressLine", "postcode", "phoneNumber", "identifier"):
                if key in other.properties and key not in values:
                    values[key] = other.properties[key]
                    seen |= {a.handling for a in other.provenance}
        for link in around.links.values():
            seen |= {a.handling for a in link.provenance}
        source = sorted({a.source for a in person.provenance})[0] if person.provenance else "unknown"
        rows.append(person_row(person.id, source, values))
        codes[person.id] = seen
    return rows, codes


def _decided(store: GraphReader) -> dict[str, str]:
    """The status of each existing proposal: id -> status (Proposed until an analyst decides)."""
    held = store.subgraph([Core.POSSIBLY_SAME_AS]).links
    return {i: str(link.properties.get("reviewStatus") or DECISIONS["undo"]) for i, link in held.items()}


def _levels(store: GraphStore, model: Model) -> list[tuple[str, GraphReader]]:
    """Each handling level's reader, least restrictive first: a P run reads what P records say."""
    from nimgraph.access.roles import Role, clearance_for
    from nimgraph.access.view import ClearedView

    levels: list[tuple[str, GraphReader]] = []
    for n, code in enumerate(HANDLING_ORDER[:-1]):
        cleared = clearance_for(Role.PARTNER_VIEWER, handling=list(HANDLING_ORDER[: n + 1]))
        levels.append((code, ClearedView(store, model, cleared)))
    return [*levels, (HANDLING_ORDER[-1], store)]


def run_linkage(
    store: GraphStore,
    model: Model,
    *,
    settings: ClassSettings | None = None,
    models_dir: Path | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> RunReport:
    """Train on the store's people and write the pairs at or above the threshold as proposals.

    The linkage runs once at each handling level, on what records of that level and below say: a pair
    the P records alone propose gets a P record with the P run's figures, so a partner's queue is what
    linkage of the records it may see would find (a pair missing from it says nothing of C records);
    the run on everything adds a record as strict as every record behind either person. Records of an
    earlier run that this one no longer proposes are withdrawn; decisions stay, as strict as the
    proposal records left behind them.
    """
    import pandas as pd

    chosen = settings or load_settings()["person"]
    held = store.subgraph([Core.POSSIBLY_SAME_AS]).links
    before = {i: str(k.properties.get("reviewStatus") or DECISIONS["undo"]) for i, k in held.items()}
    links: dict[str, Link] = {}
    report = None
    codes: dict[str, set[str]] = {}
    for code, reader in _levels(store, model):
        rows, codes = people_rows(reader, model)
        if len(rows) < 2:
            continue
        say(f"linking {len(rows):,} people on records handled up to {code}")
        trained = train(chosen, [pd.DataFrame(rows)], link_type="dedupe_only", say=say)
        path = trained.save(models_dir / f"{trained.model_id}.json") if models_dir else None
        everything = code == HANDLING_ORDER[-1]
        for pair in predict(trained):
            level = None if everything else code
            proposal = _proposal(model, pair, trained.model_id, codes if everything else {}, level)
            if proposal.id in links:  # the stricter run's figures are the link's; each record keeps its own
                links[proposal.id].provenance.extend(proposal.provenance)
                links[proposal.id].properties = proposal.properties
            else:
                links[proposal.id] = proposal
        report = RunReport(trained.model_id, len(rows), 0, 0, 0, path)
    if report is None:
        raise LinkageError("there are fewer than two people to compare")
    written = {a.record_id for link in links.values() for a in link.provenance}
    earlier = {a.record_id for k in held.values() for a in k.provenance if a.source == PROPOSAL_SOURCE}
    store.register_source(PROPOSAL_SOURCE, {"dataset": "Pairs that may be the same person, from record linkage"})
    run = f"linkage:{report.model_id}:{secrets.token_hex(4)}"
    store.upsert(Batch(links=list(links.values()), run=run))
    if earlier - written:
        store.retract(PROPOSAL_SOURCE, sorted(earlier - written))
    _keep_decisions_as_strict(store, held, links, codes, run)
    report.proposed = len(links)
    report.new = sum(1 for i in links if i not in before)
    report.kept_decisions = sum(1 for i in links if before.get(i) in (DECISIONS["accept"], DECISIONS["reject"]))
    return report


def _keep_decisions_as_strict(
    store: GraphStore, held: dict[str, Link], links: dict[str, Link], codes: dict[str, set[str]], run: str
) -> None:
    """Give each decision the handling of the proposal records now behind its pair (or, where none is, of
    every record behind either person): a decision says what the evidence says, and no more widely."""
    rewritten = []
    for held_id, link in held.items():
        decisions = [a for a in link.provenance if a.source == DECISION_SOURCE]
        if not decisions:
            continue
        proposed = links.get(held_id)
        behind = {a.handling for a in proposed.provenance} if proposed else set()
        wanted = most_restrictive(behind or codes.get(link.source, set()) | codes.get(link.target, set()) or {"C"})
        if all(a.handling == wanted for a in decisions):
            continue
        kept = [replace(a, handling=wanted, grade=f"{a.grade[:2]}{wanted}") for a in decisions]
        rewritten.append(replace(link, properties={}, provenance=kept))
    if rewritten:
        store.upsert(Batch(links=rewritten, run=f"{run}:decisions"))


def _proposal(model: Model, pair: Pair, model_id: str, codes: dict[str, set[str]], level: str | None) -> Link:
    """The pair's proposal record: at ``level`` for a run on that level's records, else as strict as
    every record behind either person."""
    source, target = model.oriented(Core.POSSIBLY_SAME_AS, pair.left, pair.right)
    handling = level or most_restrictive(codes.get(pair.left, set()) | codes.get(pair.right, set()) or {"C"})
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
                record_id=identifier if level is None else f"{identifier}#{level}",
                file="",
                row=0,
                date=datetime.now(UTC).date().isoformat(),
                grade=f"{PROPOSAL_GRADING}{handling}",
                handling=handling,
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
    # as strict as the proposal records behind the pair: a decision is read only where its evidence is
    proposed = {a.handling for a in held.provenance if a.source == PROPOSAL_SOURCE}
    handling = most_restrictive(proposed) if proposed else "C"
    status = DECISIONS[decision]
    decision_link = Link(
        id=held.id,
        type=held.type,
        source=held.source,
        target=held.target,
        properties={"reviewStatus": status, "decidedBy": analyst.strip()},
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
