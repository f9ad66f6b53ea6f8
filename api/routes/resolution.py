"""Entity resolution: run record linkage, the review queue, one proposal side by side, and decisions.

Reads go through the caller's cleared view, with a purpose: a proposal is there only for a caller
who may see every record it rests on, and one it may not see is refused as one that does not exist.
A run and a decision need the resolve permission (analysts, admins) with a key cleared for
everything; a decision is signed with the key's name.
"""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from api.auth import Requirement, ViewDep, audited, meets
from api.deps import ModelDep, SettingsDep, StoreDep
from api.notice import clearance_notice
from nimgraph.access.roles import Caller, Permission
from nimgraph.products.match_review import match_queue, match_review
from nimgraph.resolution.linkage import LinkageError
from nimgraph.resolution.proposals import decide, run_linkage

router = APIRouter(prefix="/resolution", tags=["entity resolution"])
RESOLVING = Requirement(Permission.RESOLVE, unfiltered=True)  # the workbench offers decisions to these alone
Resolver = Annotated[Caller, meets(RESOLVING)]
ProposalId = Annotated[
    str,
    Path(pattern=r"^(possiblySameAs-[0-9a-f]{20}|psn-[0-9a-f]{20})$", description="a proposal's id, or its pseudonym"),
]


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
    # it reads every proposal to find this one: the log names only the two people shown, if any
    view.release_only({page["left"]["id"], page["right"]["id"]} if page else set(), before=set())
    if page is None:
        raise HTTPException(404, f"no proposal with id {proposal_id!r} that you are cleared to see")
    return {**page, "clearance": clearance_notice(view.clearance, settings).model_dump()}


@router.post("/proposals/{proposal_id}/decision")
async def decision(
    request: Request, proposal_id: ProposalId, body: DecisionIn, caller: Resolver, store: StoreDep, model: ModelDep
):
    """Accept, reject or undo; a signed record each, never a merge. Not while a run is rewriting the
    proposals: wait for it to end."""
    audited(request, proposal_id)  # the log names the proposal, refused or not
    if _RUNNING.locked():
        raise HTTPException(409, "a linkage run is under way: decide once it has ended (GET /resolution/runs/{id})")
    try:
        status = await run_in_threadpool(decide, store, model, proposal_id, body.decision, analyst=caller.name)
    except LinkageError as err:
        raise HTTPException(404 if "no proposal" in str(err) else 422, str(err)) from None
    audited(request, proposal_id)
    return {"id": proposal_id, "status": status, "by": caller.name}


_RUNNING = threading.Lock()  # one linkage run at a time: two would write the same proposals


def _runs(request: Request) -> dict[str, dict]:
    state = request.app.state
    if getattr(state, "linkage_runs", None) is None:
        state.linkage_runs = {}
    return state.linkage_runs


@router.post("/runs", status_code=202)
async def run(request: Request, caller: Resolver, store: StoreDep, model: ModelDep, settings: SettingsDep):
    """Start a linkage run in the background: train on the store's people and propose pairs; earlier
    decisions stand. Follow it at the URL it returns; a second run waits for the first to end (409)."""
    if not _RUNNING.acquire(blocking=False):
        raise HTTPException(409, "a linkage run is under way: follow it at GET /resolution/runs/{id}")
    runs = _runs(request)
    run_id = secrets.token_hex(16)
    job = {"id": run_id, "status": "running", "by": caller.name, "started": _now(), "steps": [], "report": None}
    runs[run_id] = job

    def work() -> None:
        try:
            report = run_linkage(
                store, model, models_dir=settings.work_dir / "resolution" / "models", say=job["steps"].append
            )
            job["report"] = {k: v for k, v in report.__dict__.items() if k not in ("model_path", "classes")}
            # per class, without the server's paths
            job["report"]["classes"] = {
                name: {k: v for k, v in done.items() if k != "model_path"} for name, done in report.classes.items()
            }
            job["status"] = "done"
        except LinkageError as err:
            job["status"], job["error"] = "failed", str(err)
        except Exception as err:  # a run's failure is reported on its status, and logged in full
            logging.getLogger("nimgraph").exception("linkage run %s failed", run_id)
            job["status"], job["error"] = "failed", f"the run failed ({type(err).__name__}); see the server log"
        finally:
            job["finished"] = _now()
            _RUNNING.release()

    threading.Thread(target=work, name=f"linkage-{run_id[:8]}", daemon=True).start()
    audited(request, f"linkage-run:{run_id}")
    return {"id": run_id, "status": "running", "url": f"/resolution/runs/{run_id}"}


@router.get("/runs/{run_id}")
def run_status(request: Request, run_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], caller: Resolver):
    """A linkage run's progress (its steps so far) and, once done, what it proposed."""
    job = _runs(request).get(run_id)
    if job is None:
        raise HTTPException(404, f"no linkage run {run_id!r}")
    return job


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
