"""Stores: the GraphStore protocol and its implementations."""

from __future__ import annotations

from nimgraph.ontology import Model
from nimgraph.store.base import GraphStore

NEO4J_SCHEMES = ("neo4j://", "neo4j+s://", "neo4j+ssc://", "bolt://", "bolt+s://", "bolt+ssc://")


class StoreConfigError(ValueError):
    pass


def open_store(location: str, model: Model) -> GraphStore:
    """Open the store named by ``location``: a file path (embedded) or a Neo4j URI."""
    if location.startswith(NEO4J_SCHEMES):
        raise StoreConfigError(
            f"the Neo4j store ({location}) is not available in this version; "
            "use a file path for the embedded store, e.g. NIMGRAPH_STORE=var/nimgraph.db"
        )
    if "://" in location:
        raise StoreConfigError(
            f"unrecognised store {location!r}: give a file path (embedded store) "
            "or a neo4j://, neo4j+s:// or bolt:// URI"
        )
    from nimgraph.store.embedded import EmbeddedStore

    return EmbeddedStore(location, model)


__all__ = ["GraphStore", "StoreConfigError", "open_store"]
