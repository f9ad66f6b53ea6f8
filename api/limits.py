"""Refuse an upload before its body is read: without a key allowed to send it, or past the size limit.

A pure ASGI middleware, because FastAPI parses a multipart form (spooling it to disk) before it runs
a route's dependencies, and BaseHTTPMiddleware cannot see the body as it streams. The key is checked
from the headers alone; the size is counted as the body arrives, so neither a missing nor a false
Content-Length gets a byte past the limit.
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, HTTPException, Request, Response
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import current_caller, key_in, requires
from api.errors import problem
from nimgraph.access.roles import Permission

SLACK = 2_000_000  # the spec and the multipart framing travel with the file
# POST routes that take a body worth refusing unread, and who may send one: without such a key, a
# caller gets its 401 or 403 before a byte is read (a slow body must not hold a connection open).
UPLOADS = {"/ingest/jobs": requires(Permission.INGEST, unfiltered=True), "/charts": requires(Permission.READ)}
# Every other body is JSON a route parses before it checks the key: small, and only from a key that may
# send it. Writes to the partnership's own records (POST, PATCH, DELETE under these paths) need the
# record permission; measuring an operational review is a read.
JSON_LIMIT = 1_000_000
WRITING = frozenset({"POST", "PATCH", "PUT", "DELETE"})
RECORD_WRITES = requires(Permission.RECORD, unfiltered=True)
RESOLVE_WRITES = requires(Permission.RESOLVE, unfiltered=True)
ANY_KEY = requires(Permission.READ)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once the body passes the limit; FastAPI passes it on as the 413 it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the {limit:,}-byte limit; send a smaller file")


def install(app: FastAPI) -> None:
    # Innermost of the app's middleware (add_middleware would put it outermost): the audit and browser
    # middleware see its refusals, and its 413 reaches FastAPI straight, not wrapped in a task group.
    app.user_middleware.append(Middleware(UploadGuard))


class UploadGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        upload = _upload_route(request) is not None
        limit = request.app.state.settings.max_upload_bytes + SLACK if upload else JSON_LIMIT
        refusal = _unauthorised(request)
        if refusal is None:
            refusal = _declared_too_large(request, limit)
        if refusal is not None:
            await refusal(scope, receive, send)  # the body is never read
            return
        await _counted(self.app, limit, scope, receive, send)


def _upload_route(request: Request):
    if request.method != "POST":
        return None
    path = request.url.path.rstrip("/")  # matched by its end, so a root path in front changes nothing
    return next((check for route, check in UPLOADS.items() if path.endswith(route)), None)


def _record_writes(request: Request):
    """The check for a write to the partnership's records or a review; None for anything else."""
    if request.method not in WRITING:
        return None
    from api.routes.records import WRITE_PREFIXES  # the routers name their own paths

    path = request.url.path.rstrip("/")
    if path.endswith("/operational-reviews"):
        return ANY_KEY
    if any(f"{prefix}/" in path + "/" for prefix in WRITE_PREFIXES):
        return RECORD_WRITES
    if "/resolution/" in path + "/":
        return RESOLVE_WRITES
    return None


def _unauthorised(request: Request) -> Response | None:
    """A problem response when a body comes without a key that may send it; None otherwise."""
    needed = _upload_route(request) or _record_writes(request)
    if needed is None:
        return None
    try:
        caller = current_caller(request, key_in(request))
        needed.dependency(caller)
    except HTTPException as refused:
        status = refused.status_code
        return problem(status, HTTPStatus(status).phrase, refused.detail, request, refused.headers)
    return None


def _declared_too_large(request: Request, limit: int) -> Response | None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        detail = f"the request body is {int(declared):,} bytes; the limit is {limit:,}"
        return problem(413, "Upload too large", detail, request)
    return None


async def _counted(app: ASGIApp, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    """Run the app with a ``receive`` that refuses the body once it passes ``limit`` bytes.

    The refusal is the route's 413 (FastAPI passes an HTTPException from ``receive`` on); if a layer
    in between turned it into something else (a 400, an exception), that answer is replaced.
    """
    received = 0
    over = started = dropping = False

    async def capped() -> Message:
        nonlocal received, over
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            over = True
            raise BodyTooLarge(limit)
        return message

    async def watched(message: Message) -> None:
        nonlocal started, dropping
        if message["type"] == "http.response.start":
            dropping = over and message["status"] != 413
            started = not dropping
        if not dropping:
            await send(message)

    try:
        await app(scope, capped, watched)
    except Exception:
        if not over or started:
            raise
    if over and not started:
        detail = BodyTooLarge(limit).detail
        await problem(413, "Upload too large", detail, Request(scope))(scope, receive, send)
