"""Accepted inferences: an analyst's decision to keep a predicted association, and to undo it.

Link prediction (``nimgraph.analysis.inference``) only proposes. An accepted inference is stored
as a link of an inferred type (``predictedAssociation`` by default, which the ontology marks
``nim:inferred``), asserted by one record of the ``analyst-inference`` source whose record id is
the inference's id, so it is never counted as a partner's recorded link, its provenance says who
accepted it and when, and undoing it is retracting that one record.
"""

from __future__ import annotations

from datetime import date

from nimgraph.analysis.inference import Inference
from nimgraph.grading import most_restrictive
from nimgraph.ontology import Core, Model
from nimgraph.records import Assertion, Batch, Link
from nimgraph.store.base import GraphReader, GraphStore

__all__ = ["ANALYST_SOURCE", "InferenceError", "accept", "suggest", "undo"]

ANALYST_SOURCE = "analyst-inference"
# An analyst's inference: source untested (2), known indirectly (C); handling from the evidence.
INFERENCE_GRADING = "2C"


class InferenceError(ValueError):
    """The inference cannot be stored as asked (unknown people, a recorded link type)."""


def accept(
    store: GraphStore,
    model: Model,
    inference: Inference,
    *,
    analyst: str,
    link_type: str = Core.PREDICTED_ASSOCIATION,
    on: date | None = None,
) -> Link:
    """Store ``inference`` as an inferred link; its handling code is the most restrictive of its evidence."""
    if not model.link_type(link_type).inferred:
        raise InferenceError(f"{link_type!r} is a recorded link type; an accepted inference needs an inferred one")
    ends = {i: store.get(i) for i in (inference.source, inference.target, *inference.evidence)}
    missing = sorted(i for i, entity in ends.items() if entity is None)
    if missing:
        raise InferenceError(f"the inference names entities the store does not hold: {', '.join(missing)}")
    handling = most_restrictive({a.handling for e in ends.values() if e for a in e.provenance})
    when = (on or date.today()).isoformat()
    source, target = model.oriented(link_type, inference.source, inference.target)
    link = Link(
        id=inference.id,
        type=link_type,
        source=source,
        target=target,
        properties={
            "inferenceMethod": inference.method,
            "score": inference.score,
            "evidence": ", ".join(inference.evidence),
            "reviewStatus": "accepted",
            "acceptedBy": analyst,
        },
        provenance=[
            Assertion(
                source=ANALYST_SOURCE,
                record_id=inference.id,
                file="",
                row=0,
                date=when,
                grade=f"{INFERENCE_GRADING}{handling}",
                handling=handling,
            )
        ],
    )
    store.upsert(Batch(entities=[], links=[link], run=f"inference:{inference.id}:{when}"))
    return link


def undo(store: GraphStore, inference_id: str) -> bool:
    """Remove an accepted inference; True if there was one to remove."""
    return store.retract(ANALYST_SOURCE, [inference_id])["links"] > 0


def suggest(
    store: GraphReader, model: Model, person: str, *, method: str = "adamic_adar", top: int = 10
) -> list[Inference]:
    """Predicted associations for one person, from the same capped network a subject profile reads."""
    from nimgraph.analysis.inference import predict_associations
    from nimgraph.products.common import people_projection
    from nimgraph.products.subject import read_subject_network

    if store.get(person) is None:
        raise InferenceError(f"no entity with id {person!r}")
    projection = people_projection(read_subject_network(store, model, person).graph, model)
    return predict_associations(projection, method=method, among=[person], top=top)  # type: ignore[arg-type]
