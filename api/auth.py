"""Who is calling, what they may see, and the audit entry every request leaves.

A caller presents an API key in ``X-API-Key`` (or as the password of HTTP Basic, so a browser
can open the HTML pages). A read of personal data also needs a purpose, in ``X-Purpose`` (or the
``purpose`` query parameter, for links opened in a browser); the route gets a ``ClearedView`` of
the store. The audit middleware writes one entry for every request outside the public routes
(reads, ingest jobs, refusals alike) when the response is ready, before it is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from base64 import b64decode
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.security import APIKeyHeader, HTTPBasic, HTTPBasicCredentials
from starlette.concurrency import run_in_threadpool

from nimgraph.access.audit import AuditEntry, AuditLog
from nimgraph.access.keys import ApiKey, api_keys
from nimgraph.access.pseudonyms import Pseudonyms
from nimgraph.access.roles import Caller, Permission, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.config import Settings

MAX_PURPOSE = 500
# What a reviewer cannot read as written: controls, format characters (direction marks and
# overrides, zero-width ones, U+FEFF, interlinear annotation), line and paragraph separators,
# private-use, surrogate and unassigned code points.
UNSHOWABLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}
CSRF_PARAM = "csrf"  # api/browser.py's anti-forgery token
SECRET_NAME = re.compile(r"key|pass|secret|token|auth|credential", re.IGNORECASE)
CHALLENGE = {"WWW-Authenticate": 'Basic realm="nimgraph"'}  # lets a browser ask for the key
# What carries no personal data and needs no key: these alone leave no audit entry.
PUBLIC_PATHS = frozenset({"/health", "/docs", "/openapi.json"})
PUBLIC_PREFIXES = ("/docs-assets/", "/ontology/")
# Who a refused caller was, in the log: never the key itself, which would then be in the file.
NO_KEY, UNRECOGNISED_KEY = "(no key)", "(unrecognised key)"


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
        keys = api_keys(settings)  # first: a key whose holder makes no sense is told as such, in any mode
        reasons = settings.insecure()
        if reasons:
            raise InsecureSettingsError(
                "refusing to start outside development mode: "
                + "; ".join(reasons)
                + ". Set real secrets in the environment or .env, or NIMGRAPH_ENV=development for a demo."
            )
        settings.access_db.parent.mkdir(parents=True, exist_ok=True)
        return cls(
            keys=keys,
            pseudonyms=Pseudonyms(settings.access_db, settings.secret("pseudonym_key")),
            audit=AuditLog.from_settings(settings),
        )

    def caller(self, presented: str) -> Caller | None:
        match = None
        for key, holder in self.keys.items():  # compare with every key, so timing says nothing
            if hmac.compare_digest(key.encode(), presented.encode()):
                match = holder
        if match is None:
            return None
        clearance = clearance_for(match.role, match.handling, match.pseudonymised)
        return Caller(match.name, match.role, clearance, key=key_fingerprint(presented))

    def close(self) -> None:
        self.pseudonyms.close()
        self.audit.close()


def key_fingerprint(presented: str) -> str:
    """A key's stable fingerprint: tells keys apart (two holders may share a name) without keeping the key.

    >>> key_fingerprint("dev-analyst") == key_fingerprint("dev-analyst") != key_fingerprint("dev-partner")
    True
    """
    return hashlib.sha256(b"nimgraph key fingerprint\x1f" + presented.encode()).hexdigest()[:16]


@dataclass
class AuditContext:
    caller: Caller
    purpose: str
    view: ClearedView | None = None
    items: set[str] = field(default_factory=set)  # personal data released outside a view (e.g. a rejects file)


_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Your API key.")
_basic = HTTPBasic(auto_error=False, realm="nimgraph", description="Any user name; the API key as password.")


def presented_key(
    api_key: Annotated[str | None, Depends(_api_key)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> str | None:
    """The key the request carries, in X-API-Key or as the HTTP Basic password, if any."""
    return api_key or (basic.password if basic else None)


def current_caller(request: Request, presented: Annotated[str | None, Depends(presented_key)]) -> Caller:
    if not presented:
        raise HTTPException(
            401,
            "an API key is required: send it in the X-API-Key header (or as the HTTP Basic password)",
            headers=CHALLENGE,
        )
    caller = request.app.state.access.caller(presented)
    if caller is None:
        raise HTTPException(401, "the API key is not recognised", headers=CHALLENGE)
    request.state.caller = caller  # so the audit entry of a later refusal still names them
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
    stated = (_header_purpose(request) or purpose or "").strip()
    if len(stated) < 3:
        raise HTTPException(
            400,
            "reading personal data needs a purpose: send an X-Purpose header such as "
            "'X-Purpose: Op Larch subject profile', or ?purpose=... on a link",
        )
    if len(stated) > MAX_PURPOSE:
        raise HTTPException(400, f"the purpose is longer than {MAX_PURPOSE} characters")
    if any(unicodedata.category(character) in UNSHOWABLE_CATEGORIES for character in stated):
        # a reviewer reads the purpose as written: a line break, a NUL or a direction override
        # (U+202E) would let a caller make one purpose look like another in the log
        raise HTTPException(400, "the purpose may not hold control characters or text-direction overrides")
    context = AuditContext(caller=caller, purpose=stated)
    request.state.audit = context
    return context


AuditDep = Annotated[AuditContext, Depends(stated_purpose)]


@dataclass(frozen=True)
class Requirement:
    """What a route asks of its caller: a permission of its role, and with ``unfiltered`` a clearance that hides
    nothing (``hint`` says what such a caller may ask instead)."""

    permission: Permission
    unfiltered: bool = False
    hint: str = ""

    def refusal(self, caller: Caller) -> str | None:
        """Why ``caller`` may not, or None when it may."""
        if not caller.may(self.permission):
            return f"the {caller.role.value} role may not {self.permission.value}"
        if self.unfiltered and caller.clearance.filtered:
            # a write is merged with what the store holds, so its outcome would tell a filtered key what it
            # cannot see (that a person exists, what a value is); and its reports quote what it wrote
            refused = (
                f"to {self.permission.value}, a key must be cleared for every handling code and not pseudonymised; "
                "this key is not"
            )
            return f"{refused}: {self.hint}" if self.hint else refused
        return None

    def allows(self, caller: Caller) -> bool:
        """For a page that offers only what its caller may do; the route itself still checks."""
        return self.refusal(caller) is None


# Every check requires() made, by the function FastAPI calls: how tests/test_api_permissions.py finds the one
# check on each route.
REQUIREMENTS: dict[Callable[..., Caller], Requirement] = {}


def requires(permission: Permission, *, unfiltered: bool = False, hint: str = "") -> Any:
    """The caller, if it meets ``Requirement(permission, unfiltered, hint)``; else a 403 saying why.

    The one place routes check permissions: each route depends on exactly one (a view, ``ViewDep``, brings
    ``requires(Permission.READ)``), and nothing else decides who may call a route.
    """
    return meets(Requirement(permission, unfiltered, hint))


def meets(requirement: Requirement) -> Any:
    """As ``requires``, for a requirement a page also asks ``allows`` of (to offer only what its caller may do)."""

    def check(caller: CallerDep) -> Caller:
        refused = requirement.refusal(caller)
        if refused is not None:
            raise HTTPException(403, refused)
        return caller

    REQUIREMENTS[check] = requirement
    return Depends(check)


Reader = Annotated[Caller, requires(Permission.READ)]  # personal data, read through the cleared view


def view_for(request: Request, caller: Caller) -> ClearedView:
    """The store as ``caller`` may see it, for work that outlives the request (an export job)."""
    state = request.app.state
    return ClearedView(state.store, state.model, caller.clearance, state.access.pseudonyms)


def cleared_view(request: Request, context: AuditDep, reader: Reader) -> ClearedView:
    """The store as this caller may see it; the audit entry lists what it released."""
    view = view_for(request, reader)
    context.view = view
    return view


ViewDep = Annotated[ClearedView, Depends(cleared_view)]


def _header_purpose(request: Request) -> str:
    """X-Purpose as its sender wrote it: Starlette decodes headers as latin-1, clients send UTF-8."""
    value = request.headers.get("x-purpose") or ""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:  # not UTF-8, so latin-1 is what was meant
        return value


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def install(app: FastAPI) -> None:
    """The audit middleware: one entry per request outside the public routes, refusals included."""

    @app.middleware("http")
    async def audit_requests(request: Request, call_next) -> Response:
        if _is_public(request.url.path):
            return await call_next(request)
        try:
            response = await call_next(request)
        except Exception:
            await _record(request, 500)
            raise
        await _record(request, response.status_code)
        return response


def audited(request: Request, *items: str) -> None:
    """Name what a request collected or read beyond what a view released (an ingest job, say)."""
    request.state.audit_items = getattr(request.state, "audit_items", set()) | set(items)


async def _record(request: Request, status: int) -> None:
    context: AuditContext | None = getattr(request.state, "audit", None)
    view = context.view if context else None
    released = (context.items | (view.released if view else set())) if context else set()
    who, role = _who(request, context)
    query = _logged_query(request.url.query, _declared(request))
    entry = AuditEntry(
        who=who,
        role=role,
        # Only a purpose a route accepted: what a refused request stated may be another site's choice.
        purpose=context.purpose if context else "",
        method=request.method,
        path=request.url.path + query,
        status=status,
        items=sorted(released | getattr(request.state, "audit_items", set())),
        withheld=view.withheld if view else {},
    )
    await run_in_threadpool(request.app.state.access.audit.append, entry)


def _logged_query(query: str, declared: frozenset[str] | None) -> str:
    """The query string as the log keeps it: the values of the parameters the route declares.

    Any other parameter (or any at all, where no route matched) keeps its name but not its value,
    as do secret-looking names, and the anti-forgery token goes: the log cannot be edited, so a key
    someone pasted into a link must never reach it.

    >>> _logged_query("q=Zak&api_key=dev-partner&csrf=abc&purpose=Op+Larch&pw=x", frozenset({"q", "purpose"}))
    '?q=Zak&api_key=%5Bredacted%5D&purpose=Op+Larch&pw=%5Bredacted%5D'
    """
    kept = [
        (name, value if name in (declared or ()) and not SECRET_NAME.search(name) else "[redacted]")
        for name, value in parse_qsl(query, keep_blank_values=True)
        if name != CSRF_PARAM  # proves a browser request's origin; no business of the log's
    ]
    return f"?{urlencode(kept)}" if kept else ""


def _declared(request: Request) -> frozenset[str] | None:
    """The query parameters of the route that answered, found by the router; None when none matched."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return None
    if id(dependant) not in _DECLARED:
        names, pending = set(), [dependant]
        while pending:  # the route's own parameters and its dependencies' (the purpose, the key)
            current = pending.pop()
            names |= {p.alias for p in current.query_params}
            pending.extend(current.dependencies)
        _DECLARED[id(dependant)] = frozenset(names)
    return _DECLARED[id(dependant)]


_DECLARED: dict[int, frozenset[str]] = {}  # by route; routes live as long as the app


def _who(request: Request, context: AuditContext | None) -> tuple[str, str]:
    """The caller's name and role; for a request no route identified, whoever its key names."""
    caller = context.caller if context else getattr(request.state, "caller", None)
    if caller is None:
        presented = key_in(request)
        caller = request.app.state.access.caller(presented) if presented else None
        if caller is None:
            return (UNRECOGNISED_KEY if presented else NO_KEY), ""
    return caller.name, caller.role.value


def basic_password(request: Request) -> str | None:
    """The password of the request's HTTP Basic credentials (where a browser sends the key), if any."""
    scheme, _, credentials = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return None
    try:
        return b64decode(credentials, validate=True).decode().partition(":")[2] or None
    except (ValueError, UnicodeDecodeError):
        return None


def key_in(request: Request) -> str | None:
    """The key a request carries, read from its headers as the dependencies read it, for middleware."""
    return request.headers.get("x-api-key") or basic_password(request)
