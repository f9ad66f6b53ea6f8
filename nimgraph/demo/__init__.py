"""The demo partnership: generate partner files, ingest them with the ready mappings, profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nimgraph.analysis.build import to_networkx
from nimgraph.analysis.risk import drawn_towards_crime
from nimgraph.demo.generate import write_dataset
from nimgraph.demo.intervention import record_intervention
from nimgraph.ingest.engine import IngestReport, ingest_plan
from nimgraph.mappings import ready_plan
from nimgraph.ontology import Core, Model
from nimgraph.private_files import write_private_text
from nimgraph.products import render
from nimgraph.products.common import crime_roles
from nimgraph.products.problem import build_problem_profile
from nimgraph.products.subject import build_subject_profile
from nimgraph.store.base import GraphStore

# Which ready mapping reads which partner file, in load order: people and places before intelligence.
PLAN = [
    ("police_uk_street", "police_street_crime.csv"),
    ("police_nominals", "police_nominals_restricted.csv"),
    ("council_asb", "council_asb.csv"),
    ("council_asb_parties", "council_asb_parties.csv"),
    ("fire_deliberate", "fire_deliberate.csv"),
    ("fire_home_safety", "fire_home_safety_visits.csv"),
    ("intel_reports", "intel_reports.csv"),
    ("csp_problems", "csp_problems.csv"),
]
DEMO_PROBLEM = "PRB-0014"


@dataclass
class DemoResult:
    data_dir: Path
    reports: dict[str, Path] = field(default_factory=dict)
    ingests: list[IngestReport] = field(default_factory=list)
    subject_id: str | None = None
    problem_id: str | None = None
    intervention: dict[str, str] = field(default_factory=dict)  # the partnership's records of it, by role
    linkage: str | None = None  # the model record linkage proposed matches with, if it ran


def screen_for_vulnerable(store: GraphStore, model: Model) -> list[str]:
    """People party to no crime who know three or more who are, most at risk first."""
    involvement = crime_roles(model)
    association = set(model.descendants(Core.ASSOCIATED_WITH))
    graph = to_networkx(store.subgraph(involvement | association), model)
    hits = drawn_towards_crime(
        graph,
        association=association,
        involvement=involvement,
        person_types=set(model.descendants(Core.PERSON)),
    )
    return [h.person for h in hits]


def find_problem(store: GraphStore, reference: str) -> str | None:
    found = [e for e in store.find(Core.PROBLEM, reference) if e.properties.get("reference") == reference]
    return found[0].id if found else None


def run_demo(
    store: GraphStore,
    model: Model,
    work_dir: Path,
    *,
    seed: int = 2026,
    incidents: int = 5000,
    batch_size: int = 5000,
    progress_factory: Callable[[str, int], Callable[[int], None]] | None = None,
    say: Callable[[str], None] = print,
    link: bool = True,
) -> DemoResult:
    data_dir = work_dir / "data"
    result = DemoResult(data_dir=data_dir)
    planted = write_dataset(data_dir, seed=seed, incidents=incidents)
    store.prepare()
    say(f"Generated partner files in {data_dir}")

    def reported(report: IngestReport) -> None:
        result.ingests.append(report)
        say(report.summary())

    ingest_plan(
        store,
        model,
        ready_plan(model, data_dir, PLAN),
        rejects_dir=work_dir / "rejects",
        batch_size=batch_size,
        progress_factory=progress_factory,
        on_report=reported,
    )
    if link:
        result.linkage = _propose_matches(store, model, say)
    reports_dir = work_dir / "reports"
    candidates = screen_for_vulnerable(store, model)
    if candidates:
        result.subject_id = candidates[0]
        profile = build_subject_profile(store, model, result.subject_id)
        result.reports["subject"] = reports_dir / "subject-profile.html"
        render.write(profile, result.reports["subject"], reports_dir / "subject-profile.json")
    result.problem_id = find_problem(store, DEMO_PROBLEM)
    if result.problem_id:
        result.intervention = record_intervention(store, model, result.problem_id, planted["intervention"])
        say(f"Recorded the intervention against {DEMO_PROBLEM}: a tasking and two activities")
        profile = build_problem_profile(store, model, result.problem_id)
        result.reports["problem"] = reports_dir / "problem-profile.html"
        render.write(profile, result.reports["problem"], reports_dir / "problem-profile.json")
    _write_assessments(store, model, reports_dir, result)
    return result


def _propose_matches(store: GraphStore, model: Model, say: Callable[[str], None]) -> str | None:
    """Record linkage over the partners' people: the pairs for an analyst's review queue (nothing merged)."""
    try:
        from nimgraph.resolution.linkage import LinkageError
        from nimgraph.resolution.proposals import run_linkage

        report = run_linkage(store, model)
    except (ImportError, LinkageError) as error:
        say(f"No matches proposed: {error}")
        return None
    say(
        f"Proposed {report.proposed} pairs of records that may be the same person, from {report.people:,} "
        "people, for review: nimgraph resolve queue, or the workbench's review queue"
    )
    return report.model_id


def _write_assessments(store: GraphStore, model: Model, reports_dir: Path, result: DemoResult) -> None:
    """The strategic and tactical assessments as pages, for callers cleared for every code (as every
    pre-built report is); anyone else builds them for their clearance at /assessments/..."""
    from nimgraph.access.roles import Role, clearance_for
    from nimgraph.access.view import ClearedView
    from nimgraph.products import assessment_output
    from nimgraph.products.assessing import AssessmentSettings
    from nimgraph.products.strategic import build_strategic_assessment
    from nimgraph.products.tactical import build_tactical_assessment

    view = ClearedView(store, model, clearance_for(Role.ANALYST))
    tables = AssessmentSettings.load()
    for name, build in (("strategic", build_strategic_assessment), ("tactical", build_tactical_assessment)):
        path = reports_dir / f"{name}-assessment.html"
        write_private_text(path, assessment_output.to_html(build(view, model, tables)))
        result.reports[name] = path
