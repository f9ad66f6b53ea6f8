"""Errors as application/problem+json (RFC 9457)."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from nimgraph.ontology import UnknownTypeError
from nimgraph.products.common import ProductError, TableError

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int, title: str, detail: str, request: Request, headers: dict[str, str] | None = None, **extra: object
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": str(request.url.path),
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        try:
            title = HTTPStatus(exc.status_code).phrase
        except ValueError:
            title = "Request failed"
        return problem(exc.status_code, title, str(exc.detail), request, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in errors)
        return problem(422, "Invalid request", detail, request, errors=errors)

    @app.exception_handler(TableError)
    async def misconfigured(request: Request, exc: TableError) -> JSONResponse:
        # the file may quote what an analyst wrote for readers this caller is not: the server log has it
        logging.getLogger("nimgraph").error("%s %s: %s", request.method, request.url.path, exc)
        return problem(
            500,
            "Product tables need attention",
            "a table or file the product is built with is not right; an administrator can see which in the server log",
            request,
        )

    @app.exception_handler(ProductError)
    async def not_buildable(request: Request, exc: ProductError) -> JSONResponse:
        return problem(404, "Product cannot be built", str(exc), request)

    @app.exception_handler(UnknownTypeError)
    async def unknown_type(request: Request, exc: UnknownTypeError) -> JSONResponse:
        return problem(400, "Unknown type", str(exc), request)
