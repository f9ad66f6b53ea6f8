"""The FastAPI application: a store, the ontology Model and one router per resource."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.routes import associations, entities, health, ontology, pages, profiles
from nimgraph import __version__
from nimgraph.config import Settings, get_settings
from nimgraph.ontology import Model, default_model
from nimgraph.store import open_store
from nimgraph.store.base import GraphStore


def create_app(
    settings: Settings | None = None, store: GraphStore | None = None, model: Model | None = None
) -> FastAPI:
    """Build the app; a store passed in stays the caller's to close."""
    settings = settings or get_settings()
    model = model or default_model()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        app.state.store = store or open_store(settings.store, model, settings)
        try:
            yield
        finally:
            if owned:
                app.state.store.close()

    app = FastAPI(
        title="nimgraph",
        version=__version__,
        description="Associations, paths and intelligence products from the partnership's knowledge graph.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.model = model
    errors.install(app)
    routers = (health.router, entities.router, associations.router, profiles.router, ontology.router, pages.router)
    for router in routers:
        app.include_router(router)
    return app
