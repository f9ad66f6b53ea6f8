"""Refuse an oversized upload from its Content-Length, before its body is read."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

from api.errors import problem

SLACK = 2_000_000  # the spec and the multipart framing travel with the file


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def refuse_oversized(request: Request, call_next) -> Response:
        limit = request.app.state.settings.max_upload_bytes + SLACK
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return problem(
                413, "Upload too large", f"the request body is {int(declared):,} bytes; the limit is {limit:,}", request
            )
        return await call_next(request)
