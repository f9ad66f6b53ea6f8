"""Liveness for anyone; the size of the graph only for a caller cleared for every handling code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from api.auth import presented_key
from api.deps import StoreDep
from nimgraph.access.roles import Caller

router = APIRouter(tags=["health"])


def _known_caller(request: Request, presented: Annotated[str | None, Depends(presented_key)]) -> Caller | None:
    """Optional here: a monitor polls without a key, and an unknown key is simply anonymous."""
    return request.app.state.access.caller(presented) if presented else None


@router.get("/health")
def health(store: StoreDep, caller: Annotated[Caller | None, Depends(_known_caller)]) -> dict:
    """Liveness; with a key cleared for every handling code, also the number of entities and links.

    Anyone else learns only that the service is up: whole-graph counts say how much the partnership
    holds, restricted material included.
    """
    if caller is None or not caller.clearance.sees_everything:
        return {"status": "ok"}
    counts = store.counts()
    return {
        "status": "ok",
        "entities": sum(counts["entities"].values()),
        "links": sum(counts["links"].values()),
    }
