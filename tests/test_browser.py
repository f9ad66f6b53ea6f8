"""Command 1's core end to end: `nimgraph demo` serves a landing page; Chromium opens the reports.

The browser must draw the network with its nodes, and the page must make no request that leaves
127.0.0.1: the reports work with the network cable out. The same for the strategic and tactical
assessments the landing page links: charts and map drawn, and no request beyond the page itself.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served_demo(tmp_path_factory: pytest.TempPathFactory):
    """`nimgraph demo` in a subprocess, as a user runs it, on a free port."""
    work = tmp_path_factory.mktemp("served")
    port = free_port()
    env = {
        **os.environ,
        "NIMGRAPH_PORT": str(port),
        "NIMGRAPH_STORE": str(work / "graph.db"),
        "NIMGRAPH_WORK_DIR": str(work),
    }
    log = (work / "demo.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "nimgraph.cli", "demo"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"nimgraph demo exited with {process.returncode}:\n{Path(log.name).read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2):
                break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("nimgraph demo did not serve within 180 s")
    yield base, Path(log.name)
    process.terminate()
    process.wait(timeout=20)
    log.close()


def test_demo_prints_the_urls(served_demo):
    base, log = served_demo
    text = log.read_text()
    assert f"{base}/reports/subject-profile.html" in text
    assert f"{base}/reports/problem-profile.html" in text


@pytest.mark.parametrize("report", ["subject-profile.html", "problem-profile.html"])
def test_report_draws_its_network_offline(served_demo, browser, report):
    base, _ = served_demo
    context = browser.new_context(http_credentials={"username": "analyst", "password": "dev-analyst"})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{base}/")
    page.fill('input[name="purpose"]', "browser test")
    page.click('#purpose-form button[type="submit"]')
    page.click(f'a[href^="/reports/{report}?purpose="]')
    page.wait_for_selector('#network[data-stabilised="true"]', state="attached", timeout=90_000)

    expected = int(page.get_attribute("#network", "data-nodes"))
    drawn = page.evaluate("Object.keys(window.nimgraphNetwork.getPositions()).length")
    assert expected > 5 and drawn == expected
    painted = page.evaluate(
        """() => {
            const canvas = document.querySelector('#network canvas');
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let inked = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
            return inked;
        }"""
    )
    assert painted > 1000, "the canvas is blank"
    hosts = {urlparse(url).hostname for url in requested if urlparse(url).scheme in ("http", "https", "ws", "wss")}
    assert hosts == {"127.0.0.1"}, f"requests left the machine: {sorted(u for u in requested)}"
    context.close()


def _api(base: str, path: str) -> dict:
    request = urllib.request.Request(f"{base}{path}", headers={"X-API-Key": "dev-analyst", "X-Purpose": "browser test"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_a_visualisation_page_from_the_api_draws_offline_with_legend_and_time_filter(served_demo, browser):
    base, _ = served_demo
    street = _api(base, "/search?type=Street&q=Marlowe%20Parade")["items"][0]["id"]
    context = browser.new_context(http_credentials={"username": "analyst", "password": "dev-analyst"})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{base}/entities/{street}/network?format=html&hops=2&purpose=browser%20test")
    page.wait_for_selector('#network[data-stabilised="true"]', state="attached", timeout=90_000)

    expected = int(page.get_attribute("#network", "data-nodes"))
    drawn = page.evaluate("Object.keys(window.nimgraphNetwork.getPositions()).length")
    assert expected > 20 and drawn == expected
    legend = page.inner_text("#legend")
    assert "Street (Location)" in legend and "ASBIncident (Event)" in legend
    tooltip = page.evaluate("window.nimgraphData.nodes.get(window.nimgraphData.nodes.getIds()[0]).title")
    assert "[1" in tooltip or "[2" in tooltip or "[3" in tooltip  # a record's 3x5x2 grade

    # the hotspot's ASB rises month on month: the last month alone shows fewer nodes than the year
    last = page.get_attribute("#time-to", "value")
    page.fill("#time-from", last[:8] + "01")
    page.dispatch_event("#time-from", "change")
    shown = int(page.get_attribute("#network", "data-shown-nodes"))
    assert 0 < shown < expected
    hosts = {urlparse(url).hostname for url in requested if urlparse(url).scheme in ("http", "https", "ws", "wss")}
    assert hosts == {"127.0.0.1"}, f"requests left the machine: {sorted(requested)}"
    context.close()


# Recorded before any page script runs: a Content-Security-Policy violation is an event, not an exception.
RECORD_POLICY_VIOLATIONS = """
window.nimgraphPolicyViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.nimgraphPolicyViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""

CHART_MARKS = {"#trend-chart": "path.line", "#harm-chart": "rect.bar", "#concentration-chart": "path.curve"}

MAP_LAYERS = """kind => {
    let count = 0;
    window.nimgraphMaps["assessment-map"].eachLayer(layer => { if (layer instanceof L[kind]) count++; });
    return count;
}"""

INKED_MAP_PIXELS = """() => {
    const canvas = document.querySelector('#assessment-map canvas');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
    return inked;
}"""

RENDERED_SIZE = "element => { const box = element.getBoundingClientRect(); return [box.width, box.height]; }"


def console_error(message) -> list[str]:
    """A console error, but not Chromium's own miss on /favicon.ico (the app has no icon; the request stays here)."""
    if message.type != "error" or urlparse(message.location.get("url", "")).path == "/favicon.ico":
        return []
    return [f"console: {message.text} at {message.location.get('url')}"]


def recorded_page(browser, url: str):
    """An analyst's tab on ``url``, recording every request it makes and every error; (page, requests, errors)."""
    context = browser.new_context(
        http_credentials={"username": "analyst", "password": "dev-analyst"}, viewport={"width": 1280, "height": 1000}
    )
    context.set_default_navigation_timeout(180_000)  # products are built on request, on shared cores
    context.add_init_script(RECORD_POLICY_VIOLATIONS)
    page = context.new_page()
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda message: errors.extend(console_error(message)))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url} {request.failure}"))
    page.goto(url)
    return page, requested, errors


def open_assessment_from_landing(served_demo, browser, link: str):
    """The analyst sets a purpose on the landing page and follows the link; every request is recorded.

    Returns the page on the drawn assessment, the document's URL, every request the tab made (the
    list grows as it makes more), where in it the assessment's requests start, and the errors.
    """
    base, _ = served_demo
    page, requested, errors = recorded_page(browser, f"{base}/")
    page.fill('input[name="purpose"]', "browser test")
    page.click('#purpose-form button[type="submit"]')
    page.wait_for_selector(f"a#{link}")
    url = f"{base}{page.get_attribute(f'a#{link}', 'href')}"
    before = len(requested)
    page.click(f"a#{link}")
    page.wait_for_url(lambda address: address == url, wait_until="load")  # a string would be a glob
    page.wait_for_selector('#assessment-map[data-drawn="true"]', state="attached", timeout=60_000)
    return page, url, requested, before, errors


def assert_map_drawn(page) -> None:
    """The assessment's map: drawn on one canvas with ink on it, every point and cell a layer, no tiles."""
    points = int(page.get_attribute("#assessment-map", "data-points"))
    hotspots = int(page.get_attribute("#assessment-map", "data-hotspots"))
    assert points + hotspots > 0
    assert page.locator("#assessment-map canvas").count() == 1
    width, height = page.locator("#assessment-map").evaluate(RENDERED_SIZE)
    assert width > 300 and height > 200
    assert page.evaluate(MAP_LAYERS, "CircleMarker") == points
    assert page.evaluate(MAP_LAYERS, "Rectangle") == hotspots
    assert page.evaluate(MAP_LAYERS, "TileLayer") == 0
    assert page.evaluate(INKED_MAP_PIXELS) > 1000, "the map's canvas is blank"
    assert page.locator("#assessment-map .leaflet-control-scale").count() == 1


def assert_offline_and_printable(page, base: str, url: str, requested: list[str], before: int, errors: list[str]):
    """Only the document was fetched; nothing left the app's origin; no error; it prints to a real PDF."""
    assert requested[before:] == [url], f"the assessment page made requests besides its document: {requested[before:]}"
    origin = urlparse(base)
    elsewhere = [r for r in requested if (urlparse(r).scheme, urlparse(r).netloc) != (origin.scheme, origin.netloc)]
    assert elsewhere == [], f"requests left the app's origin: {elsewhere}"
    assert page.evaluate("document.querySelectorAll('img, link, script[src], iframe, object, embed').length") == 0
    assert page.evaluate("window.nimgraphPolicyViolations") == []
    assert errors == []
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 50_000, f"a {len(pdf):,}-byte PDF"
    assert requested[before:] == [url], f"printing fetched something: {requested[before + 1 :]}"
    assert errors == []


def test_strategic_assessment_from_the_landing_page_draws_its_charts_and_map_offline(served_demo, browser):
    base, _ = served_demo
    page, url, requested, before, errors = open_assessment_from_landing(served_demo, browser, "strategic-link")
    try:
        assert page.inner_text("#handling").startswith("Handling code ")
        assert page.inner_text("h1") and "Strategic assessment" in page.title()
        for figure, mark in CHART_MARKS.items():
            width, height = page.locator(f"{figure} svg").evaluate(RENDERED_SIZE)
            assert width > 300 and height > 100, f"{figure} is {width} x {height}"
            marks = page.locator(f"{figure} svg {mark}")
            assert marks.count() > 0, f"{figure} has no {mark}"
            sizes = [marks.nth(i).evaluate(RENDERED_SIZE) for i in range(marks.count())]
            assert any(w > 0 and h > 0 for w, h in sizes), f"{figure}'s {mark} are not drawn: {sizes}"
        assert page.locator("#trend-chart svg circle.point").count() > 0
        assert page.locator("#by-category tr").count() > 1
        assert page.locator("#priorities tr.priority").count() > 0
        assert page.locator("#hot-cells tr").count() > 1
        assert_map_drawn(page)
        assert_offline_and_printable(page, base, url, requested, before, errors)
    finally:
        page.context.close()


def test_tactical_assessment_from_the_landing_page_draws_its_map_offline(served_demo, browser):
    base, _ = served_demo
    page, url, requested, before, errors = open_assessment_from_landing(served_demo, browser, "tactical-link")
    try:
        assert page.inner_text("#handling").startswith("Handling code ")
        assert "Tactical assessment" in page.title()
        assert page.locator("#summary li").count() == 3
        assert page.locator("#recommendations tr").count() > 1 or page.locator("#above-category tr").count() > 1
        assert page.locator("#new-hotspots tr").count() > 1
        assert page.locator("svg.nimgraph-chart").count() == 0
        assert_map_drawn(page)
        assert_offline_and_printable(page, base, url, requested, before, errors)
    finally:
        page.context.close()


def _intervention_review(served_demo) -> str:
    """Save the review of the demo's planted intervention through the API; its id."""
    from nimgraph.demo.intervention import intervention_places
    from nimgraph.ontology import default_model
    from nimgraph.store.embedded import EmbeddedStore

    base, log = served_demo
    work = log.parent
    planted = json.loads((work / "data" / "planted.json").read_text())["intervention"]
    model = default_model()
    reading = EmbeddedStore(work / "graph.db", model)  # the served store's file, read beside the server
    try:
        places = intervention_places(reading, model, planted)
    finally:
        reading.close()
    body = {
        **{area: {"places": ids} for area, ids in places.items()},
        "before": {"since": planted["before"][0], "until": planted["before"][1]},
        "after": {"since": planted["after"][0], "until": planted["after"][1]},
        "categories": ["ASBIncident"],
        "title": "Did the back-alley enforcement work?",
        "conclusion": "Environmental ASB fell by four fifths at the target and by half next door.",
        "lessons": "Keep the alley gates locked after the patrols end.",
    }
    request = urllib.request.Request(
        f"{base}/operational-reviews/saved",
        data=json.dumps(body).encode(),
        headers={"X-API-Key": "dev-analyst", "X-Purpose": "browser test", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())["id"]


def test_a_saved_review_draws_its_four_series_and_its_map_offline(served_demo, browser):
    base, _ = served_demo
    review = _intervention_review(served_demo)
    url = f"{base}/operational-reviews/{review}?format=html&purpose=browser+test"
    page, requested, errors = recorded_page(browser, url)
    try:
        page.wait_for_selector('#review-map[data-drawn="true"]', state="attached", timeout=60_000)
        assert "Did the back-alley enforcement work?" in page.inner_text("h1")
        assert page.inner_text("#handling").startswith("Handling code ")
        assert "four fifths" in page.inner_text("#conclusion") and "alley gates" in page.inner_text("#lessons")
        lines = page.locator("#chart svg path.line")
        assert lines.count() == 4, "target, buffer, control and the target as the control predicts"
        assert all(w > 0 and h >= 0 for w, h in (lines.nth(i).evaluate(RENDERED_SIZE) for i in range(4)))
        assert page.locator("#measures tr").count() == 5
        assert "Diffusion of benefit" in page.inner_text("#measures")
        points = int(page.get_attribute("#review-map", "data-points"))
        layers = page.evaluate(MAP_LAYERS.replace("assessment-map", "review-map"), "CircleMarker")
        assert layers == points and page.evaluate(MAP_LAYERS.replace("assessment-map", "review-map"), "TileLayer") == 0
        assert page.locator("#review-map canvas").count() == 1
        assert requested == [url], f"the review page made requests besides its document: {requested}"
        assert page.evaluate("document.querySelectorAll('img, link, script[src], iframe, object, embed').length") == 0
        assert page.evaluate("window.nimgraphPolicyViolations") == [] and errors == []
    finally:
        page.context.close()


def test_the_tasking_pack_opens_from_the_landing_page_and_renders_offline(served_demo, browser):
    base, _ = served_demo
    context = browser.new_context(http_credentials={"username": "analyst", "password": "dev-analyst"})
    context.set_default_navigation_timeout(180_000)
    page = context.new_page()
    try:
        page.goto(f"{base}/")
        page.fill('input[name="purpose"]', "browser test")
        page.click('#purpose-form button[type="submit"]')
        page.wait_for_selector("a#tasking-pack-link")
        assert "/tasking-pack?format=html" in page.get_attribute("a#tasking-pack-link", "href")
    finally:
        context.close()
    # the demo's data ends in October 2026: the pack for a meeting then, over the intervention's months
    url = f"{base}/tasking-pack?format=html&as_of=2026-10-28&days=200&purpose=browser+test"
    page, requested, errors = recorded_page(browser, url)
    try:
        page.wait_for_load_state("load")
        assert "Tasking pack for 2026-10-28" in page.inner_text("h1")
        assert page.locator("#activity tr").count() >= 3, "the demo's two activities, under a header row"
        pillars = page.inner_text("#activity-by-pillar")
        assert "Enforcement" in pillars and "Prevention" in pillars
        assert page.locator("#problems tr").count() > 1
        assert page.inner_text("#recommendations") or page.locator("#recommendations tr").count() > 0
        assert requested == [url] and errors == []
        assert page.evaluate("document.querySelectorAll('img, link, script[src], iframe, object, embed').length") == 0
    finally:
        page.context.close()
