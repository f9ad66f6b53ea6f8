"""Who is calling, what they may see, and the audit entry every personal-data read leaves.

A caller presents an API key in ``X-API-Key`` (or as the password of HTTP Basic, so a browser
can open the HTML pages). A read of personal data also needs a purpose, in ``X-Purpose`` (or the
``purpose`` query parameter, for links opened in a browser); the route gets a ``ClearedView`` of
the store, and the audit middleware writes one entry when the response is ready, before it is
sent.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.security import APIKeyHeader, HTTPBasic, HTTPBasicCredentials
from starlette.concurrency import run_in_threadpool

from nimgraph.access.audit import AuditEntry, AuditLog
from nimgraph.access.pseudonyms import Pseudonyms
from nimgraph.access.roles import Caller, Permission, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.config import ApiKey, Settings

MAX_PURPOSE = 500
CHALLENGE = {"WWW-Authenticate": 'Basic realm="nimgraph"'}  # lets a browser ask for the key


class InsecureSettingsError(RuntimeError):
    """The settings would serve real data with guessable secrets."""


@dataclass
class Access:
    """The app's keys, pseudonym register and audit log: one of each per process."""

    keys: dict[str, ApiKey]
    pseudonyms: Pseudonyms
    audit: AuditLog

    @classmethod
    def from_settings(cls, settings: Settings) -> Access:
        reasons = settings.insecure()
        if reasons:
            raise InsecureSettingsError(
                "refusing to start outside development mode: "
                + "; ".join(reasons)
                + ". Set real secrets in the environment or .env, or NIMGRAPH_ENV=development for a demo."
            )
        settings.access_db.parent.mkdir(parents=True, exist_ok=True)
        return cls(
            keys=settings.effective_api_keys(),
            pseudonyms=Pseudonyms(settings.access_db, settings.secret("pseudonym_key")),
            audit=AuditLog(settings.access_db),
        )

    def caller(self, presented: str) -> Caller | None:
        match = None
        for key, holder in self.keys.items():  # compare with every key, so timing says nothing
            if hmac.compare_digest(key.encode(), presented.encode()):
                match = holder
        if match is None:
            return None
        return Caller(match.name, match.role, clearance_for(match.role, match.handling, match.pseudonymised))

    def close(self) -> None:
        self.pseudonyms.close()
        self.audit.close()


@dataclass
class AuditContext:
    caller: Caller
    purpose: str
    view: ClearedView | None = None
    items: set[str] = field(default_factory=set)  # personal data released outside a view (e.g. a rejects file)


_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Your API key.")
_basic = HTTPBasic(auto_error=False, realm="nimgraph", description="Any user name; the API key as password.")


def current_caller(
    request: Request,
    api_key: Annotated[str | None, Depends(_api_key)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> Caller:
    presented = api_key or (basic.password if basic else None)
    if not presented:
        raise HTTPException(
            401,
            "an API key is required: send it in the X-API-Key header (or as the HTTP Basic password)",
            headers=CHALLENGE,
        )
    caller = request.app.state.access.caller(presented)
    if caller is None:
        raise HTTPException(401, "the API key is not recognised", headers=CHALLENGE)
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


def stated_purpose(
    request: Request,
    caller: CallerDep,
    purpose: Annotated[
        str | None,
        Query(
            max_length=MAX_PURPOSE,
            description="Why you are reading personal data, for the audit log (or send the X-Purpose header).",
        ),
    ] = None,
) -> AuditContext:
    """The audit context of a personal-data read; refused without a purpose."""
    stated = (request.headers.get("x-purpose") or purpose or "").strip()
    if len(stated) < 3:
        raise HTTPException(
            400,
            "reading personal data needs a purpose: send an X-Purpose header such as "
            "'X-Purpose: Op Larch subject profile', or ?purpose=... on a link",
        )
    if len(stated) > MAX_PURPOSE:
        raise HTTPException(400, f"the purpose is longer than {MAX_PURPOSE} characters")
    context = AuditContext(caller=caller, purpose=stated)
    request.state.audit = context
    return context


AuditDep = Annotated[AuditContext, Depends(stated_purpose)]


def cleared_view(request: Request, context: AuditDep) -> ClearedView:
    """The store as this caller may see it; the audit entry lists what it released."""
    state = request.app.state
    view = ClearedView(state.store, state.model, context.caller.clearance, state.access.pseudonyms)
    context.view = view
    return view


ViewDep = Annotated[ClearedView, Depends(cleared_view)]


def requires(permission: Permission):
    def check(caller: CallerDep) -> Caller:
        if not caller.may(permission):
            raise HTTPException(403, f"the {caller.role.value} role may not {permission.value}")
        return caller

    return Depends(check)


def install(app: FastAPI) -> None:
    """The audit middleware: one entry per request that declared a personal-data read."""

    @app.middleware("http")
    async def audit_reads(request: Request, call_next) -> Response:
        try:
            response = await call_next(request)
        except Exception:
            await _record(request, 500)
            raise
        await _record(request, response.status_code)
        return response


async def _record(request: Request, status: int) -> None:
    context: AuditContext | None = getattr(request.state, "audit", None)
    if context is None:
        return
    view = context.view
    query = f"?{request.url.query}" if request.url.query else ""
    entry = AuditEntry(
        who=context.caller.name,
        role=context.caller.role.value,
        purpose=context.purpose,
        method=request.method,
        path=request.url.path + query,
        status=status,
        items=sorted(context.items | (view.released if view else set())),
        withheld=view.withheld if view else {},
    )
    await run_in_threadpool(request.app.state.access.audit.append, entry)
