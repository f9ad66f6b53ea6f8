"""Saving an operational review against what it reviews, with the analyst's conclusion and lessons.

The review is computed as the writer sees everything, and stored as a review record (Evaluation)
whose ``reviewResult`` holds the result, linked to the problem, tasking, activity or priority it
reviews. Its handling code is never below its evidence's: P only when a P-only reader would have
computed exactly the same result (so the stored result tells a partner nothing it could not find
itself), else C.
"""

from __future__ import annotations

import json
from typing import Any

from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.grading import HANDLING_ORDER, most_restrictive
from nimgraph.ontology import Model
from nimgraph.products.operational_review import OperationalReview, ReviewError, ReviewQuestion, build_review
from nimgraph.store.base import GraphStore
from nimgraph.tasking.kinds import kind_named
from nimgraph.tasking.writes import RecordError, Written, create

__all__ = ["SAVED_POINTS", "evidence_handling", "save_review"]

SAVED_POINTS = 1000  # map points kept with a saved review
_VOLATILE = ("produced_at", "handling")


def _result(review: OperationalReview) -> dict[str, Any]:
    return {k: v for k, v in review.to_dict().items() if k not in _VOLATILE}


def evidence_handling(
    store: GraphStore, model: Model, question: ReviewQuestion, full: OperationalReview, reviewed: str | None
) -> str:
    """The least restrictive code whose readers would compute exactly ``full``."""
    for code in HANDLING_ORDER[:-1]:
        reader = ClearedView(
            store,
            model,
            clearance_for(Role.PARTNER_VIEWER, handling=list(HANDLING_ORDER[: HANDLING_ORDER.index(code) + 1])),
        )
        try:
            if _result(build_review(reader, model, question, reviewed=reviewed)) == _result(full):
                return code
        except ReviewError:  # a place or the reviewed record is beyond that code
            continue
    return HANDLING_ORDER[-1]


def save_review(
    store: GraphStore,
    model: Model,
    question: ReviewQuestion,
    *,
    reviewed: str | None,
    author: str,
    title: str,
    conclusion: str | None = None,
    lessons: str | None = None,
    handling: str = "P",
) -> tuple[Written, OperationalReview, str]:
    """Compute the review, store it, and return what was written, the review and the code it was stored under."""
    full = build_review(ClearedView(store, model, clearance_for(Role.ANALYST)), model, question, reviewed=reviewed)
    if handling not in HANDLING_ORDER:
        raise RecordError(f"handling code {handling!r} is not one of {', '.join(HANDLING_ORDER)}")
    stored_under = most_restrictive({handling, evidence_handling(store, model, question, full, reviewed)})
    kept = full.to_dict()
    kept["points"] = kept["points"][:SAVED_POINTS]
    kept["handling"] = stored_under
    properties = {"title": title, "conclusion": conclusion, "lessons": lessons}
    written = create(
        store,
        model,
        kind_named("review"),
        {k: v for k, v in properties.items() if v is not None},
        {"reviews": [reviewed]} if reviewed else {},
        author=author,
        handling=stored_under,
        computed={"reviewResult": json.dumps(kept, default=str)},
    )
    return written, full, stored_under
