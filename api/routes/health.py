"""Liveness for anyone; the size of the graph only for a caller cleared for every handling code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import APIKeyHeader, HTTPBasic, HTTPBasicCredentials

from api.deps import StoreDep
from nimgraph.access.roles import Caller

router = APIRouter(tags=["health"])

# Optional here: a monitor polls without a key, and an unknown key is simply anonymous.
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Your API key, to see the graph's size.")
_basic = HTTPBasic(auto_error=False, realm="nimgraph", description="Any user name; the API key as password.")


def _known_caller(
    request: Request,
    api_key: Annotated[str | None, Depends(_api_key)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> Caller | None:
    presented = api_key or (basic.password if basic else None)
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
