"""Browser defences: refuse cross-site requests that ride on cached credentials, and send security headers.

A browser that has cached the HTTP Basic key attaches it to any request for this origin, even one
another site made it send, so Basic credentials alone do not show that the analyst meant the
request. A request proves it is not cross-site in one of three ways: its key came in ``X-API-Key``
(a custom header, which a foreign page cannot send without a CORS preflight, and the app answers a
preflight only for NIMGRAPH_CORS_ORIGINS); the browser's own ``Sec-Fetch-Site`` says it came from
this origin (``same-origin``, or ``none`` for a navigation the user typed, bookmarked or opened
from another application, which is the user asking); or it carries an anti-forgery token
(``?csrf=`` or ``X-CSRF-Token``), an HMAC, keyed by a secret derived from the audit key, of the key
holder's name and role and an expiry 12 hours out, which the landing page puts in the links and
forms it gives a Basic-authenticated browser, for browsers that send no fetch metadata. That proof
is demanded of every write (POST, PUT, PATCH, DELETE) and every read whose audited purpose came in
the query string with Basic credentials, since the purpose is then whatever the linking page chose;
for a write an ``Origin`` equal to this origin also counts, as browsers send it on every POST.
Whatever the credentials, a write whose ``Origin`` is neither this origin nor in
NIMGRAPH_CORS_ORIGINS, or whose ``Sec-Fetch-Site`` is cross-site or same-site without an allowed
origin, is refused, and a Basic purpose read whose ``Sec-Fetch-Site`` is cross-site is refused even
with a token (a leaked link must not work from another site). Refusals are 403 problem+json saying
why, sent before any route runs, so nothing is read or written; the audit middleware, outside this
one, logs the refusal (without its purpose, which another site may have chosen). No cookie is set: the
token travels in the URL, ``Referrer-Policy: no-referrer`` keeps it (and the purpose) from leaking
to another site, and it is dropped from the query before the audit log records the path. Every
response carries ``nosniff``, ``X-Frame-Options: DENY``, a content security policy (no network
access but to this origin, no framing, no ``<base>``, forms only to this origin; HTML pages may run
their own inline scripts and styles, as the reports inline vis-network) and, unless a route chose
otherwise, ``Cache-Control: no-store``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request, Response

from api.auth import CSRF_PARAM, basic_password
from api.errors import problem
from nimgraph.access.roles import Caller

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_PARAM = CSRF_PARAM
TOKEN_HEADER = "x-csrf-token"
TOKEN_LIFETIME = 12 * 3600  # a working shift; the landing page issues a fresh one on every visit
TOKEN_LABEL = b"nimgraph anti-forgery token v1"  # keeps the derived key apart from the audit chain's

# JSON and files: nothing to run, nothing to load, never framed.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# HTML pages inline their scripts and styles (reports are written ahead of time, so no nonces).
PAGE_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # purposes and tokens travel in query strings
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",  # no <script src> or <img src> of our JSON elsewhere
}


def install(app: FastAPI) -> None:
    """The cross-site guard and the security headers, as one middleware."""

    @app.middleware("http")
    async def guard(request: Request, call_next) -> Response:
        reason = refusal(request)
        if reason:
            response: Response = problem(403, "Cross-site request refused", reason, request)
        else:
            _drop_token(request)
            response = await call_next(request)
        _secure(response)
        return response


def refusal(request: Request) -> str | None:
    """Why this request must not run, or None when it may."""
    origin = request.headers.get("origin")
    site = request.headers.get("sec-fetch-site")
    allowed = origin is not None and origin in request.app.state.settings.cors_origins
    own = site == "same-origin" or (origin is not None and _is_own(origin, request))
    writes = request.method not in SAFE_METHODS

    if writes and origin is not None and not (own or allowed):
        return (
            f"a {request.method} from the origin {origin!r} is refused: only pages of this site, or origins "
            "listed in NIMGRAPH_CORS_ORIGINS, may change data"
        )
    if writes and site in ("cross-site", "same-site") and not allowed:
        return f"a {request.method} sent by another site (Sec-Fetch-Site: {site}) is refused"

    purpose_read = not writes and "purpose" in request.query_params and "x-purpose" not in request.headers
    if not (writes or purpose_read) or request.headers.get("x-api-key"):
        return None
    caller = _basic_caller(request)
    if caller is None:
        return None  # no usable credentials: the route refuses it with a 401 and a challenge
    if purpose_read and (site == "cross-site" or (origin is not None and not (own or allowed))):
        return (
            "a read of personal data with a purpose in the link, sent by another site, is refused: "
            "open the page from nimgraph's landing page, or send X-API-Key and X-Purpose headers"
        )
    vouched = own if writes else site in ("same-origin", "none")  # the browser's word, which pages cannot forge
    if vouched:
        return None
    token = request.query_params.get(TOKEN_PARAM) or request.headers.get(TOKEN_HEADER)
    if token and valid_token(request, caller, token):
        return None
    what = "a write" if writes else "a read of personal data with a purpose in the link"
    why = "its anti-forgery token has expired or is not yours" if token else "it carries no anti-forgery token"
    return (
        f"{what} with HTTP Basic credentials must show it is not cross-site, and {why}: open it from a "
        "link on nimgraph's landing page (which adds ?csrf=...), or from a script send the key in "
        "X-API-Key (and the purpose in X-Purpose)"
    )


def _drop_token(request: Request) -> None:
    # The token has done its work here: keep it out of the audit log's record of the path.
    if TOKEN_PARAM in request.query_params:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != TOKEN_PARAM]
        request.scope["query_string"] = urlencode(kept).encode("latin-1")


def uses_basic(request: Request) -> bool:
    """Whether the key came as the Basic password: a browser, which needs tokens in its links."""
    return not request.headers.get("x-api-key") and _basic_caller(request) is not None


def issue_token(request: Request, caller: Caller, now: float | None = None) -> str:
    """An anti-forgery token for this key holder, valid for TOKEN_LIFETIME seconds."""
    expires = int(now if now is not None else time.time()) + TOKEN_LIFETIME
    return f"{expires}.{_mac(request.app, caller, expires)}"


def valid_token(request: Request, caller: Caller, token: str, now: float | None = None) -> bool:
    expires_text, _, mac = token.partition(".")
    if not expires_text.isdigit() or len(expires_text) > 12:
        return False
    expires = int(expires_text)
    current = now if now is not None else time.time()
    if not current <= expires <= current + TOKEN_LIFETIME:
        return False
    return hmac.compare_digest(mac.encode(), _mac(request.app, caller, expires).encode())


def _mac(app: FastAPI, caller: Caller, expires: int) -> str:
    message = f"{caller.name}\n{caller.role.value}\n{expires}".encode()
    digest = hmac.new(_token_key(app), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def _token_key(app: FastAPI) -> bytes:
    # Derived from the audit key rather than made per process, so every worker accepts every token.
    key = getattr(app.state, "token_key", None)
    if key is None:
        audit_key = app.state.settings.secret("audit_key").encode()
        key = app.state.token_key = hmac.new(audit_key, TOKEN_LABEL, hashlib.sha256).digest()
    return key


def _basic_caller(request: Request) -> Caller | None:
    password = basic_password(request)
    return request.app.state.access.caller(password) if password else None


def _is_own(origin: str, request: Request) -> bool:
    """Whether ``origin`` is this server as the browser addressed it (scheme, host and port)."""
    parts = urlsplit(origin)
    return bool(parts.scheme and parts.hostname) and _origin_key(parts) == _origin_key(urlsplit(str(request.base_url)))


def _origin_key(parts) -> tuple[str, str, int | None]:
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = -1  # a malformed port matches nothing
    return parts.scheme, (parts.hostname or "").lower(), port


def _secure(response: Response) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    html = response.headers.get("content-type", "").startswith("text/html")
    response.headers.setdefault("Content-Security-Policy", PAGE_POLICY if html else API_POLICY)
    response.headers.setdefault("Cache-Control", "no-store")  # personal data must not sit in a cache
