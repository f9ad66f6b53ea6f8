"""Entity resolution: run record linkage, the review queue, one proposal side by side, and decisions.

Reads go through the caller's cleared view, with a purpose: a proposal is there only for a caller
who may see every record it rests on, and one it may not see is refused as one that does not exist.
A run and a decision need the resolve permission (analysts, admins) with a key cleared for
everything; a decision is signed with the key's name.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from api.auth import ViewDep, audited, requires
from api.deps import ModelDep, SettingsDep, StoreDep
from api.notice import clearance_notice
from nimgraph.access.roles import Caller, Permission
from nimgraph.products.match_review import match_queue, match_review
from nimgraph.resolution.linkage import LinkageError
from nimgraph.resolution.proposals import decide, run_linkage

router = APIRouter(prefix="/resolution", tags=["entity resolution"])
Resolver = Annotated[Caller, requires(Permission.RESOLVE, unfiltered=True)]
ProposalId = Annotated[str, Path(pattern=r"^possiblySameAs-[0-9a-f]{20}$", description="a proposal's id")]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["accept", "reject", "undo"]


@router.get("/proposals")
def queue(
    view: ViewDep,
    model: ModelDep,
    settings: SettingsDep,
    status: Annotated[Literal["Proposed", "Accepted", "Rejected"] | None, Query()] = "Proposed",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
):
    """The review queue: proposals you may see, highest match probability first, both people labelled."""
    rows = match_queue(view, model, status=status, limit=limit)
    view.release_only({i for r in rows for i in (r["left"], r["right"])}, before=set())
    return {"items": rows, "clearance": clearance_notice(view.clearance, settings).model_dump()}


@router.get("/proposals/{proposal_id}")
def proposal(proposal_id: ProposalId, view: ViewDep, model: ModelDep, settings: SettingsDep):
    """One proposal side by side: both people, each comparison's values and contribution, the decisions."""
    page = match_review(view, model, proposal_id)
    if page is None:
        raise HTTPException(404, f"no proposal with id {proposal_id!r} that you are cleared to see")
    return {**page, "clearance": clearance_notice(view.clearance, settings).model_dump()}


@router.post("/proposals/{proposal_id}/decision")
async def decision(
    request: Request, proposal_id: ProposalId, body: DecisionIn, caller: Resolver, store: StoreDep, model: ModelDep
):
    """Accept, reject or undo; a signed record each, never a merge."""
    try:
        status = await run_in_threadpool(decide, store, model, proposal_id, body.decision, analyst=caller.name)
    except LinkageError as err:
        raise HTTPException(404 if "no proposal" in str(err) else 422, str(err)) from None
    audited(request, proposal_id)
    return {"id": proposal_id, "status": status, "by": caller.name}


@router.post("/runs", status_code=201)
async def run(request: Request, caller: Resolver, store: StoreDep, model: ModelDep, settings: SettingsDep):
    """Train on the store's people and propose pairs; earlier decisions stand."""
    try:
        report = await run_in_threadpool(
            run_linkage, store, model, models_dir=settings.work_dir / "resolution" / "models"
        )
    except LinkageError as err:
        raise HTTPException(422, str(err)) from None
    audited(request, f"model:{report.model_id}")
    return {
        "model_id": report.model_id,
        "people": report.people,
        "proposed": report.proposed,
        "new": report.new,
        "kept_decisions": report.kept_decisions,
    }
