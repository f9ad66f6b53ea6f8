"""Parameters several routers share, with their limits and examples."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Path, Query

from nimgraph.ontology import Core, Model, UnknownTypeError
from nimgraph.products.connections import MAX_HOPS, MAX_PATH_HOPS  # noqa: F401 - the limits the CLI shares

ENTITY_ID = r"^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9_.:\-]{1,100}$"
ENTITY_ID_HELP = "An entity id such as Person-3f2a9c0d1e4b5a6f7c8d, or a pseudonym such as psn-..."
# Search text may not hold control characters: a NUL cut the store's match short and matched everything.
SEARCH_TEXT = r"^[^\x00-\x1f\x7f]+$"

EntityId = Annotated[str, Path(pattern=ENTITY_ID, description=ENTITY_ID_HELP, examples=["Person-3f2a9c0d1e4b5a6f7c8d"])]
LinkTypes = Annotated[
    list[str] | None,
    Query(
        description="Follow only these link types (repeat the parameter); subtypes included",
        examples=[[Core.ASSOCIATED_WITH]],
    ),
]


def known_link_types(model: Model, names: list[str] | None) -> set[str] | None:
    """The named link types and their subtypes; a 400 naming the closest match for a typo."""
    if not names:
        return None
    found: set[str] = set()
    for name in names:
        if name not in model.links:
            raise UnknownTypeError("link type", name, list(model.links))
        found |= model.descendants(name)
    return found


def not_found(entity_id: str) -> HTTPException:
    return HTTPException(404, f"no entity with id {entity_id!r} that you are cleared to see")
