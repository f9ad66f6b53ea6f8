"""The audit log, for admins: read-only. Nothing in the API changes it except by appending."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.auth import AuditDep, requires
from nimgraph.access.roles import Caller, Permission

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEntryPublic(BaseModel):
    seq: int
    at: str
    who: str
    role: str
    purpose: str
    method: str
    path: str
    status: int
    items: list[str]
    withheld: dict[str, int]
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    limit: int
    offset: int
    next_offset: int | None
    intact: bool | None = Field(
        description="whether the keyed chain holds and reaches every checkpoint in the anchor; null unless verify=true"
    )
    first_broken: int | None = Field(default=None, description="the first entry whose chain does not hold")
    problems: list[str] = Field(default_factory=list, description="what verify found wrong, one sentence each")
    unkeyed_before: int | None = Field(
        default=None, description="entries before this one predate the audit key: only plain SHA-256 chains them"
    )


@router.get("", response_model=AuditPage)
def read_log(
    request: Request,
    caller: Annotated[Caller, requires(Permission.AUDIT)],
    context: AuditDep,
    who: Annotated[str | None, Query(max_length=200, description="The key holder's name")] = None,
    item: Annotated[str | None, Query(max_length=200, description="An entity id the reads released")] = None,
    since: Annotated[datetime | None, Query(description="From this time (ISO 8601, UTC)")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (ISO 8601, UTC)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
    verify: Annotated[bool, Query(description="Check the chain and the anchor (reads every entry)")] = False,
) -> AuditPage:
    """Entries oldest first, by who read, what they released and when; with verify=true, whether the log is intact.

    Reading the log is itself a read of personal data, so it needs a purpose and is logged.
    """
    log = request.app.state.access.audit
    entries = log.query(
        who=who,
        item=item,
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        limit=limit,
        offset=offset,
    )
    found = log.verify() if verify else None
    return AuditPage(
        items=entries,
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(entries) == limit else None,
        intact=found.intact if found else None,
        first_broken=found.first_broken if found else None,
        problems=list(found.problems) if found else [],
        unkeyed_before=found.unkeyed_before if found else None,
    )
