"""Another site, with the analyst's Basic credentials cached in the browser, must get nothing done.

A browser attaches cached Basic credentials to any request for nimgraph's origin, whichever page
made it send one: a form on evil.example that posts an ingest job, or a link, image or script tag
that reads personal data under the analyst's name with a purpose the attacker chose. These tests
make those requests as the browser would, against the real app on a real embedded store, and check
that the pages and scripts analysts use still work.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import dev_settings
from fastapi.testclient import TestClient

from api import browser
from api.main import create_app
from nimgraph.demo.generate import write_dataset
from nimgraph.ingest.engine import ingest_file
from nimgraph.ingest.spec import load_spec
from nimgraph.mappings import mapping_path
from nimgraph.store.embedded import EmbeddedStore

ANALYST = ("analyst", "dev-analyst")  # what the browser has cached: any user name, the key as password
EVIL = "https://evil.example"
EVIL_PURPOSE = "routine check"  # the attacker's choice, which must never reach the audit log
SEARCH = {"type": "Person", "purpose": EVIL_PURPOSE}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, model):
    root = tmp_path_factory.mktemp("cross-site")
    write_dataset(root / "data", seed=7, incidents=400)
    store = EmbeddedStore(root / "g.db", model)
    spec = load_spec(mapping_path("police_nominals"), model)
    ingest_file(store, model, spec, root / "data" / "police_nominals_restricted.csv", rejects_dir=root / "rejects")
    (root / "work" / "reports").mkdir(parents=True)
    (root / "work" / "reports" / "briefing.html").write_text("<!doctype html><title>briefing</title><p>report")
    settings = dev_settings(store="unused", work_dir=root / "work", access_db=root / "access.db")
    with TestClient(create_app(settings, store=store, model=model)) as client:
        yield client, root
    store.close()


def _upload(root: Path) -> dict:
    return {
        "spec": ("council_asb.yaml", mapping_path("council_asb").read_text(), "application/yaml"),
        "file": ("council_asb.csv", (root / "data" / "council_asb.csv").read_bytes(), "text/csv"),
    }


def _jobs(root: Path) -> set[str]:
    directory = root / "work" / "jobs"
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


def _audited_purposes(client: TestClient) -> set[str]:
    return {entry["purpose"] for entry in client.app.state.access.audit.query(limit=100_000)}


def _refused(response) -> str:
    assert response.status_code == 403, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    assert "items" not in response.json()
    return response.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},  # a sandboxed frame or a redirect hides the origin
        {"Origin": "http://testserver.evil.example"},
        {},  # a browser sending neither header, or a form the user was tricked into posting
    ],
    ids=["origin", "origin-and-fetch-metadata", "fetch-metadata", "null-origin", "lookalike", "no-evidence"],
)
def test_a_foreign_form_cannot_submit_an_ingest_job_with_cached_basic_credentials(served, headers):
    client, root = served
    before = _jobs(root)
    response = client.post("/ingest/jobs", auth=ANALYST, headers=headers, files=_upload(root))
    detail = _refused(response)
    assert "X-API-Key" in detail or "origin" in detail.lower() or "another site" in detail
    assert _jobs(root) == before  # no job directory: the upload was never read


def test_a_foreign_origin_is_refused_even_with_the_key_in_a_header(served):
    client, root = served
    before = _jobs(root)
    response = client.post("/ingest/jobs", headers={"X-API-Key": "dev-analyst", "Origin": EVIL}, files=_upload(root))
    assert EVIL in _refused(response)
    assert _jobs(root) == before


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},  # a link, <img> or <script src> on evil.example
        {"Sec-Fetch-Site": "same-site"},  # another app on a sibling port or subdomain
        {"Origin": EVIL},
        {},  # a browser that sends no fetch metadata
    ],
    ids=["cross-site", "same-site", "origin", "no-evidence"],
)
def test_another_site_cannot_read_personal_data_under_the_analysts_name(served, headers):
    client, _ = served
    response = client.get("/search", params=SEARCH, auth=ANALYST, headers=headers)
    _refused(response)
    assert EVIL_PURPOSE not in _audited_purposes(client)


def test_a_leaked_token_does_not_work_from_another_site_nor_for_another_key(served):
    client, _ = served
    token = _landing_token(client, ANALYST)
    leaked = client.get(
        "/search", params={**SEARCH, "csrf": token}, auth=ANALYST, headers={"Sec-Fetch-Site": "cross-site"}
    )
    _refused(leaked)
    researcher = _landing_token(client, ("someone", "dev-researcher"))
    borrowed = client.get("/search", params={**SEARCH, "csrf": researcher}, auth=ANALYST)
    assert "not yours" in _refused(borrowed)
    forged = client.get("/search", params={**SEARCH, "csrf": "99999999999.AAAA"}, auth=ANALYST)
    _refused(forged)
    yesterday = time.time() - browser.TOKEN_LIFETIME - 60
    stale = browser.issue_token(
        SimpleNamespace(app=client.app), client.app.state.access.caller("dev-analyst"), yesterday
    )
    assert "expired" in _refused(client.get("/search", params={**SEARCH, "csrf": stale}, auth=ANALYST))
    assert EVIL_PURPOSE not in _audited_purposes(client)


def _landing_token(client: TestClient, auth: tuple[str, str]) -> str:
    page = client.get("/", auth=auth)
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _links(page_text: str, prefix: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(rf'href="({re.escape(prefix)}[^"]*)"', page_text)]


def test_the_landing_page_links_carry_a_token_that_opens_the_reads(served):
    """A browser that sends no fetch metadata: the token in the landing page's links is its proof."""
    client, _ = served
    token = _landing_token(client, ANALYST)
    page = client.get("/", params={"purpose": "Op Larch briefing", "csrf": token}, auth=ANALYST)
    assert page.status_code == 200
    reports, problems = _links(page.text, "/reports/"), _links(page.text, "/problems?")
    assert reports and problems and all("csrf=" in link for link in reports + problems)
    for link in reports + problems:
        assert client.get(link, auth=ANALYST).status_code == 200, link
    entries = client.app.state.access.audit.query(limit=100_000)
    assert "Op Larch briefing" in {entry["purpose"] for entry in entries}
    assert not any("csrf" in entry["path"] for entry in entries)  # the log does not hand tokens on


def test_a_browser_that_says_same_origin_or_typed_needs_no_token(served):
    client, _ = served
    for site in ("same-origin", "none"):
        response = client.get(
            "/search",
            params={"type": "Person", "purpose": f"typed {site}"},
            auth=ANALYST,
            headers={"Sec-Fetch-Site": site},
        )
        assert response.status_code == 200 and response.json()["items"], site


def test_the_landing_page_posts_its_own_writes(served):
    """The same page's form post: the browser sends this origin; a token works where it does not."""
    client, root = served
    same = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/ingest/jobs", auth=ANALYST, headers=same, files=_upload(root)).status_code == 202
    token = _landing_token(client, ANALYST)
    with_token = client.post("/ingest/jobs", params={"csrf": token}, auth=ANALYST, files=_upload(root))
    assert with_token.status_code == 202


def test_a_script_with_the_key_in_a_header_still_works(served):
    client, root = served
    key = {"X-API-Key": "dev-analyst"}
    read = client.get("/search", params={"type": "Person", "purpose": "script check"}, headers=key)
    assert read.status_code == 200 and read.json()["items"]
    by_header = client.get("/search", params={"type": "Person"}, headers={**key, "X-Purpose": "script check"})
    assert by_header.status_code == 200
    assert client.post("/ingest/jobs", headers=key, files=_upload(root)).status_code == 202


def test_an_origin_listed_in_the_settings_may_post_with_the_key(served, model, tmp_path):
    client, root = served
    settings = client.app.state.settings.model_copy(update={"cors_origins": ["https://front.example"]})
    with TestClient(create_app(settings, store=client.app.state.store, model=model)) as listed:
        key = {"X-API-Key": "dev-analyst"}
        allowed = listed.post("/ingest/jobs", headers={**key, "Origin": "https://front.example"}, files=_upload(root))
        assert allowed.status_code == 202
        _refused(listed.post("/ingest/jobs", headers={**key, "Origin": EVIL}, files=_upload(root)))


def _personal_responses(client: TestClient):
    key = {"X-API-Key": "dev-analyst", "X-Purpose": "header check"}
    person = client.get("/search", params={"type": "Person", "limit": 1}, headers=key).json()["items"][0]["id"]
    yield client.get("/search", params={"type": "Person"}, headers=key)
    yield client.get(f"/entities/{person}", headers=key)
    yield client.get(f"/entities/{person}/network", params={"format": "html"}, headers=key)
    yield client.get("/reports/briefing.html", headers=key)
    yield client.get("/", params={"purpose": "header check"}, auth=ANALYST, headers={"Sec-Fetch-Site": "same-origin"})
    yield client.get("/search", params=SEARCH, auth=ANALYST)  # a refusal
    yield client.get("/search", params={"type": "Person"})  # no key


def test_every_personal_data_response_carries_the_security_headers(served):
    client, _ = served
    for response in _personal_responses(client):
        where = (response.request.url, response.status_code)
        headers = response.headers
        assert headers["cache-control"] == "no-store", where
        assert headers["x-content-type-options"] == "nosniff", where
        assert headers["x-frame-options"] == "DENY", where
        assert headers["referrer-policy"] == "no-referrer", where
        policy = headers["content-security-policy"]
        for directive in ("default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"):
            assert directive in policy, where
        assert "http" not in policy and "*" not in policy, where  # no script, style or fetch from elsewhere
        if headers["content-type"].startswith("text/html"):
            assert "connect-src 'self'" in policy and "form-action 'self'" in policy, where


def test_health_tells_anonymous_callers_only_that_it_is_up(served):
    client, _ = served
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/health", headers={"X-API-Key": "not-a-key"}).json() == {"status": "ok"}
    # whole-graph sizes count C material: not for a partner viewer
    assert client.get("/health", headers={"X-API-Key": "dev-partner"}).json() == {"status": "ok"}
    sized = client.get("/health", headers={"X-API-Key": "dev-analyst"}).json()
    assert sized["status"] == "ok" and sized["entities"] > 0
    assert client.get("/health", auth=ANALYST).json()["entities"] == sized["entities"]
