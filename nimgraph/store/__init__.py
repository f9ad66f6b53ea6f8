"""Stores: the GraphStore protocol and its implementations, chosen by the store setting."""

from __future__ import annotations

from nimgraph.config import Settings
from nimgraph.ontology import Model
from nimgraph.store.base import GraphStore
from nimgraph.store.errors import StoreConfigError, StoreError, StoreUnavailableError

NEO4J_SCHEMES = ("neo4j://", "neo4j+s://", "neo4j+ssc://", "bolt://", "bolt+s://", "bolt+ssc://")


def is_neo4j(location: str) -> bool:
    return location.startswith(NEO4J_SCHEMES)


def open_store(location: str, model: Model, settings: Settings | None = None) -> GraphStore:
    """Open the store named by ``location``: a file path (embedded) or a Neo4j URI.

    Neo4j credentials, database and driver options come from ``settings``.
    """
    if is_neo4j(location):
        from nimgraph.store.neo4j import Neo4jStore

        settings = settings or Settings()
        return Neo4jStore(
            location,
            model,
            user=settings.neo4j_user,
            password=settings.neo4j_password.get_secret_value(),
            database=settings.neo4j_database,
            max_connection_lifetime=settings.neo4j_max_connection_lifetime,
            retry_seconds=settings.neo4j_retry_seconds,
            id_key=settings.id_key.get_secret_value(),
        )
    if "://" in location:
        raise StoreConfigError(
            f"unrecognised store {location!r}: give a file path (embedded store) "
            "or a neo4j://, neo4j+s:// or bolt:// URI"
        )
    from nimgraph.store.embedded import EmbeddedStore

    return EmbeddedStore(location, model, id_key=(settings or Settings()).id_key.get_secret_value())


__all__ = ["GraphStore", "StoreConfigError", "StoreError", "StoreUnavailableError", "is_neo4j", "open_store"]
