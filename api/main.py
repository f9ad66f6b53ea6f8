"""The FastAPI application: a store, the ontology Model, access control and one router per resource."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import auth, browser, errors, limits
from api.routes import (
    assessments,
    associations,
    audit,
    charts,
    entities,
    exports,
    groups,
    health,
    ingest,
    ontology,
    operational_reviews,
    pages,
    paths,
    places,
    problems,
    profiles,
    rankings,
    records,
    resolution,
    screenings,
    search,
    tasking_pack,
    workbench,
)
from nimgraph import __version__
from nimgraph.config import Settings, get_settings
from nimgraph.ontology import Model, default_model
from nimgraph.store import open_store
from nimgraph.store.base import GraphStore

DESCRIPTION = """\
Associations, paths and intelligence products from the partnership's knowledge graph.

**Access.** Send your API key in `X-API-Key` (a browser can send it as the HTTP Basic password).
Every read of personal data needs a purpose in `X-Purpose` (or `?purpose=` on a link) and is
written to the audit log. Your role decides which handling codes you see: anything supported only
by records you are not cleared for is withheld, and nothing in a response says what or how much
(`clearance` carries one fixed notice when your key's answers are filtered). The researcher role
sees people under stable pseudonyms (`psn-...`).

**Errors** are `application/problem+json` (RFC 9457) with a `detail` saying what to change.
"""


def create_app(
    settings: Settings | None = None, store: GraphStore | None = None, model: Model | None = None
) -> FastAPI:
    """Build the app; a store passed in stays the caller's to close.

    Raises ``InsecureSettingsError`` outside development mode when a key or the pseudonym secret
    is missing or a placeholder.
    """
    settings = settings or get_settings()
    model = model or default_model()
    access = auth.Access.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        app.state.store = store or open_store(settings.store, model, settings)
        app.state.store.id_key()  # refuses a store whose ids anyone could compute, or made under another key
        exports.serving(app)
        # What start-up built (the ontology Model, the store, the app) lives as long as the process:
        # move it out of the collector's sight, so a full collection does not walk it mid-request.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            ingest.shutdown(app)
            exports.shutdown(app)
            if owned:
                app.state.store.close()
            access.close()

    app = FastAPI(
        title="nimgraph",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by pages.py from local assets: no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.model = model
    if store is not None:  # usable without the lifespan too (schema fuzzing calls the app directly)
        app.state.store = store
    app.state.access = access
    exports.start(app, settings)
    errors.install(app)
    limits.install(app)
    browser.install(app)  # outside the upload limits: its headers reach every response they make
    auth.install(app)  # outermost: every refusal of the middlewares inside it is audited too
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["X-API-Key", "X-Purpose", "Authorization", "Content-Type"],
        )
    for router in (
        health.router,
        search.router,
        entities.router,
        associations.router,
        paths.router,
        rankings.router,
        groups.router,
        screenings.router,
        places.router,
        problems.router,
        profiles.router,
        assessments.router,
        ingest.router,
        ontology.router,
        audit.router,
        pages.router,
        charts.router,
        workbench.router,
        operational_reviews.router,
        resolution.router,
        tasking_pack.router,
        exports.router,
        *records.ROUTERS,
    ):
        app.include_router(router)
    return app
