"""Command 1's core end to end: `nimgraph demo` serves a landing page; Chromium opens the reports.

The browser must draw the network with its nodes, and the page must make no request that leaves
127.0.0.1: the reports work with the network cable out.
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
