"""Every route checks its caller's permission in one place: exactly one requires() among its dependencies.

A route added without one (or with two, which would leave a reader unsure which decides) fails here unless it
is listed as public, and a public route must be one the audit middleware also treats as public.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import dev_settings
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from api.auth import REQUIREMENTS, Requirement, _is_public
from api.main import create_app
from nimgraph.access.roles import Permission

# Liveness, the API's own documentation and the ontology: they carry no personal data, and need no key.
PUBLIC = {
    "/openapi.json",
    "/health",
    "/docs",
    "/docs-assets/{name}",
    "/ontology/classes",
    "/ontology/classes/{name}",
    "/ontology/link-types",
    "/ontology/code-lists",
    "/ontology/code-lists/{name}",
}


@pytest.fixture
def app(embedded_store, model, tmp_path) -> FastAPI:
    settings = dev_settings(store="unused", work_dir=tmp_path / "work", access_db=tmp_path / "access.db")
    return create_app(settings, store=embedded_store, model=model)


def _routes(routes: list[Any]) -> Iterator[Any]:
    """Every route the app answers, with the prefix of the router that holds it."""
    for route in routes:
        if hasattr(route, "effective_route_contexts"):  # an included router (FastAPI resolves them lazily)
            yield from route.effective_route_contexts()
        else:
            yield route


def requirements(dependant: Dependant | None) -> list[Requirement]:
    """The requires() checks among a route's dependencies, at any depth (a view brings READ's)."""
    if dependant is None:
        return []
    found = [REQUIREMENTS[dependant.call]] if dependant.call in REQUIREMENTS else []
    return found + [r for sub in dependant.dependencies for r in requirements(sub)]


def checks_by_route(app: FastAPI) -> dict[tuple[str, str], list[Requirement]]:
    """(methods, path) -> the requires() checks of the route."""
    return {
        (",".join(sorted(getattr(route, "methods", None) or ["GET"])), route.path): requirements(
            getattr(route, "dependant", None)
        )
        for route in _routes(app.routes)
    }


def test_every_route_but_the_public_ones_checks_exactly_one_permission(app):
    checks = checks_by_route(app)
    paths = {path for _, path in checks}
    assert len(checks) > 50 and "/search" in paths  # the walk reached the routers' routes
    assert paths >= PUBLIC, f"public routes listed here that no longer exist: {PUBLIC - paths}"
    wrong = {f"{methods} {path}": [f"{r.permission.value}{' unfiltered' if r.unfiltered else ''}" for r in found]
             for (methods, path), found in checks.items() if (len(found) != 1) != (path in PUBLIC)}  # fmt: skip
    assert not wrong, f"routes without exactly one requires() (or public ones with one): {wrong}"


def test_the_public_routes_are_the_ones_the_audit_middleware_leaves_out(app):
    for _, path in checks_by_route(app):
        assert _is_public(path) == (path in PUBLIC), path


def test_every_route_that_reads_through_a_view_requires_read(app):
    """Permission.READ is checked, not decorative: a view is handed only to a caller whose role may read."""
    for route in _routes(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is not None and _uses_view(dependant):
            assert [r.permission for r in requirements(dependant)] == [Permission.READ], route.path


def _uses_view(dependant: Dependant) -> bool:
    return getattr(dependant.call, "__name__", "") == "cleared_view" or any(
        _uses_view(sub) for sub in dependant.dependencies
    )


def test_a_requirement_refuses_what_its_route_refuses():
    from nimgraph.access.roles import Caller, Role, clearance_for

    partner = Caller("p", Role.PARTNER_VIEWER, clearance_for(Role.PARTNER_VIEWER))
    analyst = Caller("a", Role.ANALYST, clearance_for(Role.ANALYST))
    resolving = Requirement(Permission.RESOLVE, unfiltered=True)
    assert resolving.refusal(partner) == "the partner_viewer role may not resolve"
    assert resolving.allows(analyst) and Requirement(Permission.READ).allows(partner)
    hinted = Requirement(Permission.READ, unfiltered=True, hint="ask /profiles/...")
    assert hinted.refusal(partner) == (
        "to read, a key must be cleared for every handling code and not pseudonymised; this key is not: "
        "ask /profiles/..."
    )
