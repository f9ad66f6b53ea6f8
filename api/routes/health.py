from __future__ import annotations

from fastapi import APIRouter

from api.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(store: StoreDep) -> dict:
    """Liveness, with the size of the graph."""
    counts = store.counts()
    return {
        "status": "ok",
        "entities": sum(counts["entities"].values()),
        "links": sum(counts["links"].values()),
    }
