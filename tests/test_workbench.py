"""The analyst's workbench in headless Chromium, driving a real server over the demo, on both stores.

Each store's demo is served by `nimgraph serve` in a subprocess; every page is checked to fetch
nothing beyond 127.0.0.1. What the chart shows after a filter is checked against the API's own
answer, filtered here independently; a question's table and highlight against the same question
asked of the API directly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode, urlparse

import pytest
from conftest import TEST_ID_KEY, Demo, demo_on, neo4j_settings, person_id
from test_browser import free_port

pytestmark = pytest.mark.browser

PURPOSE = "workbench test"
KEYS = {"analyst": "dev-analyst", "researcher": "dev-researcher", "partner": "dev-partner", "admin": "dev-admin"}


@dataclass
class Served:
    base: str
    demo: Demo
    store: str

    def api(self, path: str, key: str = "dev-analyst", **params) -> dict:
        url = f"{self.base}{path}" + (f"?{urlencode(params, doseq=True)}" if params else "")
        request = urllib.request.Request(url, headers={"X-API-Key": key, "X-Purpose": PURPOSE})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())


@pytest.fixture(scope="module", params=["embedded", "neo4j"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, model):
    """The demo on one store, served by `nimgraph serve` in development mode on a free port."""
    demo = demo_on(request, tmp_path_factory, model)
    work = tmp_path_factory.mktemp(f"workbench-{request.param}")
    port = free_port()
    env = {
        **os.environ,
        "NIMGRAPH_ENV": "development",
        "NIMGRAPH_PORT": str(port),
        "NIMGRAPH_WORK_DIR": str(work),
        "NIMGRAPH_ACCESS_DB": str(work / "access.db"),
        "NIMGRAPH_AUDIT_ANCHOR": str(work / "audit-anchor.log"),
        "NIMGRAPH_ID_KEY": TEST_ID_KEY,  # the key the tests' stores are made under
    }
    if request.param == "embedded":
        env["NIMGRAPH_STORE"] = str(demo.work_dir / "graph.db")
    else:
        neo4j = neo4j_settings()
        env |= {
            "NIMGRAPH_STORE": neo4j["uri"],
            "NIMGRAPH_NEO4J_USER": neo4j["user"],
            "NIMGRAPH_NEO4J_PASSWORD": neo4j["password"],
        }
    log = (work / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "nimgraph.cli", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            pytest.fail(f"nimgraph serve exited with {process.returncode}:\n{Path(log.name).read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("nimgraph serve did not answer within 60 s")
            time.sleep(0.3)
    yield Served(base, demo, request.param)
    process.terminate()
    process.wait(timeout=20)
    log.close()


class Bench:
    """One workbench page, as one key holder; remembers every URL the page asked for."""

    def __init__(self, browser, served: Served, role: str, via_landing: str | None = None) -> None:
        self.served = served
        self.context = browser.new_context(
            http_credentials={"username": role, "password": KEYS[role]},
            viewport={"width": 1500, "height": 950},
            accept_downloads=True,
        )
        self.page = self.context.new_page()
        self.requested: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requested.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        if via_landing:  # as an analyst arrives: the landing page, a purpose, its link
            self.page.goto(f"{served.base}/")
            self.page.fill('input[name="purpose"]', via_landing)
            self.page.click('#purpose-form button[type="submit"]')
            self.page.click("#workbench-link a")
        else:
            self.page.goto(f"{served.base}/workbench")
        self.page.wait_for_selector('#wb-chart[data-ready="true"]', state="attached", timeout=30_000)

    def close(self) -> None:
        hosts = {urlparse(u).hostname for u in self.requested if urlparse(u).scheme in ("http", "https", "ws", "wss")}
        self.context.close()
        assert hosts == {"127.0.0.1"}, f"requests left the machine: {sorted(self.requested)}"
        assert not self.errors, self.errors

    # ---------------------------------------------------------------- waiting
    def js(self, expression: str):
        return self.page.evaluate(expression)

    def until(self, expression: str, timeout: float = 60) -> None:
        """Poll a page expression (wait_for_function would eval a string, which the page's CSP forbids)."""
        deadline = time.monotonic() + timeout
        while not self.js(expression):
            if time.monotonic() > deadline:
                raise AssertionError(f"never true: {expression}; status: {self.status()}")
            time.sleep(0.1)

    def done(self) -> int:
        return int(self.page.get_attribute("#wb-status", "data-done") or 0)

    def act(self, action: Callable[[], object]) -> str:
        """Do something on the page and wait until the page says that action is done; its status."""
        before = self.done()
        action()
        self.until(f"Number(document.querySelector('#wb-status').dataset.done || 0) > {before}")
        return self.status()

    def status(self) -> str:
        return self.page.inner_text("#wb-status")

    def chart(self, name: str) -> int:
        return int(self.page.get_attribute("#wb-chart", f"data-{name}"))

    # ---------------------------------------------------------------- doing
    def purpose(self, text: str = PURPOSE) -> None:
        self.page.fill("#wb-purpose", text)

    def search(self, q: str = "", type_name: str = "") -> str:
        self.page.fill("#wb-q", q)
        self.page.select_option("#wb-type", type_name)
        return self.act(lambda: self.page.click("#wb-search"))

    def add(self, label: str) -> None:
        self.act(lambda: self.page.click(f'#wb-results-list button[aria-label="Add {label} to the chart"]'))

    def select(self, *ids: str) -> None:
        self.page.select_option("#wb-entities", list(ids))

    def expand(self, *ids: str, max_entities: int = 100) -> str:
        self.select(*ids)
        self.expand_options()
        self.page.fill("#wb-expand-max", str(max_entities))
        status = self.act(lambda: self.page.click("#wb-expand"))
        self.until("document.querySelector('#wb-chart').dataset.stable !== 'false'")
        return status

    def expand_options(self) -> None:
        if not self.js("document.querySelector('#wb-expand-max').closest('details').open"):
            self.page.click("text=Expand options")

    def ask(self, question: str, scope: str = "chart", add: bool = False, **fields: str) -> str:
        self.page.select_option("#wb-question", question)
        for selector, value in fields.items():
            self.page.select_option(f"#wb-{selector.replace('_', '-')}", value)
        self.page.check(f"input[name=scope][value={scope}]")
        self.page.set_checked("#wb-add-results", add)
        return self.act(lambda: self.page.click("#wb-run"))

    def entities(self) -> dict[str, dict]:
        return {e["id"]: e for e in self.js("Array.from(workbench.entities.values())")}

    def shown(self) -> set[str]:
        return set(self.js("workbench.shown()"))


@pytest.fixture
def bench(browser, served):
    opened: list[Bench] = []

    def open_as(role: str, via_landing: str | None = None) -> Bench:
        opened.append(Bench(browser, served, role, via_landing))
        return opened[-1]

    yield open_as
    for one in opened:
        one.close()


def street(served: Served, name: str = "Marlowe Parade") -> dict:
    found = served.api("/search", type="Street", q=name)["items"]
    return next(item for item in found if item["label"] == name)


# ---------------------------------------------------------------- filters, computed here from the API's answer
def _grade_ok(grade: str, minimum: str | None) -> bool:
    return not minimum or (grade[0] <= minimum[0] and grade[1] <= minimum[1])


def _records_pass(records: list[dict], handling: set[str], minimum: str | None) -> bool:
    return not records or any(r["handling"] in handling and _grade_ok(r["grade"], minimum) for r in records)


def _dates(records: list[dict], properties: dict | None = None) -> set[str]:
    dates = {r["date"][:10] for r in records if r.get("date")}
    date = (properties or {}).get("date")
    if isinstance(date, str) and len(date) >= 7:
        dates.add(date + "-01" if len(date) == 7 else date[:10])
    return dates


def _in_window(dates: set[str], since: str | None, until: str | None) -> bool:
    return (
        not (since or until) or not dates or any((not since or d >= since) and (not until or d <= until) for d in dates)
    )


def expected_shown(
    graph: dict,
    handling: set[str] = frozenset({"P", "C"}),
    minimum: str | None = None,
    since: str | None = None,
    until: str | None = None,
    hidden_types: set[str] = frozenset(),
) -> tuple[set[str], set[str]]:
    nodes = {
        n["id"]
        for n in graph["nodes"]
        if _records_pass(n["provenance"], handling, minimum)
        and _in_window(_dates(n["provenance"], n["properties"]), since, until)
    }
    links = {
        k["id"]
        for k in graph["links"]
        if k["type"] not in hidden_types
        and k["source"] in nodes
        and k["target"] in nodes
        and _records_pass(k["provenance"], handling, minimum)
        and _in_window(_dates(k["provenance"]), since, until)
    }
    return nodes, links


# ---------------------------------------------------------------- the tests
def test_keyboard_search_add_expand_and_every_filter(served, bench):
    page = bench("analyst")
    keys = page.page.keyboard

    def tab_to(element_id: str, limit: int = 40) -> None:
        for _ in range(limit):
            keys.press("Tab")
            if page.js("document.activeElement.id") == element_id:
                return
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("wb-purpose")
    keys.type(PURPOSE)
    tab_to("wb-q")
    keys.type("Marlowe Parade")
    keys.press("Tab")
    assert page.js("document.activeElement.id") == "wb-type"
    keys.type("Street")
    assert page.js("document.activeElement.value") == "Street"
    keys.press("Shift+Tab")
    status = page.act(lambda: keys.press("Enter"))
    assert "found" in status, status
    for _ in range(12):  # on to the result's Add button, and Enter adds it
        keys.press("Tab")
        if page.js("document.activeElement.getAttribute('aria-label')") == "Add Marlowe Parade to the chart":
            break
    else:
        raise AssertionError("Tab never reached the result's Add button")
    page.act(lambda: keys.press("Enter"))
    place = street(served)
    assert page.chart("nodes") == 1 and set(page.entities()) == {place["id"]}

    tab_to("wb-entities")
    keys.press("ArrowDown")  # selects the one entity
    assert page.js("workbench.network.getSelectedNodes()") == [place["id"]]
    tab_to("wb-expand")
    page.act(lambda: keys.press("Enter"))
    graph = served.api(f"/entities/{place['id']}/network", hops=1, max_entities=100)
    assert set(page.entities()) == {n["id"] for n in graph["nodes"]} and page.chart("nodes") > 50

    everything = expected_shown(graph)
    assert page.shown() == everything[0] and set(page.js("workbench.shownLinks()")) == everything[1]

    # grade: the street's ASB is graded 1B, its crimes 1A
    page.page.select_option("#wb-min-grade", "1A")
    nodes, links = expected_shown(graph, minimum="1A")
    assert page.shown() == nodes and 1 < len(nodes) < len(everything[0])
    assert set(page.js("workbench.shownLinks()")) == links
    page.page.select_option("#wb-min-grade", "")

    # link type: every link here places an event at the street
    page.page.uncheck('#wb-filter-links input[value="occurredAt"]')
    assert page.chart("shown-edges") == 0 and page.chart("shown") == len(everything[0])
    page.page.check('#wb-filter-links input[value="occurredAt"]')
    assert page.chart("shown-edges") == len(everything[1])

    # dates, typed
    page.page.fill("#wb-since", "2026-06-01")
    page.page.fill("#wb-until", "2026-08-31")
    page.page.dispatch_event("#wb-until", "change")
    nodes, links = expected_shown(graph, since="2026-06-01", until="2026-08-31")
    assert page.shown() == nodes and 1 < len(nodes) < len(everything[0])
    assert place["id"] in nodes  # undated items always show

    # dates, brushed: a drag across the timeline's last month shows that month's items
    page.page.click("#wb-clear-dates")
    assert page.shown() == everything[0]
    box = page.page.locator("#wb-timeline").bounding_box()
    bins = int(page.page.get_attribute("#wb-timeline", "data-bins"))
    last_bar_x = box["x"] + 8 + (box["width"] - 16) * (bins - 0.5) / bins
    page.page.mouse.move(last_bar_x, box["y"] + 30)
    page.page.mouse.down()
    page.page.mouse.move(last_bar_x + 2, box["y"] + 30)
    page.page.mouse.up()
    since, until = page.page.input_value("#wb-since"), page.page.input_value("#wb-until")
    latest = max(
        d for item in graph["nodes"] + graph["links"] for d in _dates(item["provenance"], item.get("properties"))
    )
    assert since == latest[:8] + "01" and until >= latest, (since, until, latest)
    nodes, _ = expected_shown(graph, since=since, until=until)
    assert page.shown() == nodes and len(nodes) < len(everything[0])
    page.page.click("#wb-clear-dates")

    # handling: the crimes here are also on C records, which the analyst may hide from view
    page.page.uncheck('#wb-filter-handling input[value="C"]')
    nodes, links = expected_shown(graph, handling={"P"})
    assert page.shown() == nodes and set(page.js("workbench.shownLinks()")) == links
    page.page.check('#wb-filter-handling input[value="C"]')
    assert page.shown() == everything[0]


def test_pin_hide_remove_and_map_mode(served, bench):
    page = bench("analyst")
    page.purpose()
    page.search("Marlowe Parade", "Street")
    page.add("Marlowe Parade")
    place = street(served)["id"]
    page.expand(place, max_entities=40)
    ids = sorted(set(page.entities()) - {place})
    before = page.js(f"workbench.network.getPositions(['{place}'])['{place}']")

    page.select(place)
    page.page.focus("#wb-chart")
    page.act(lambda: page.page.keyboard.press("p"))
    assert page.entities()[place]["pinned"] and page.js(f"workbench.nodes.get('{place}').fixed.x") is True

    page.select(ids[0])
    page.act(lambda: page.page.click("#wb-hide"))
    assert page.entities()[ids[0]]["hidden"] and ids[0] not in page.shown()
    page.act(lambda: page.page.click("#wb-unhide"))
    assert ids[0] in page.shown()

    page.select(ids[1])
    page.page.focus("#wb-chart")
    page.act(lambda: page.page.keyboard.press("Delete"))
    assert ids[1] not in page.entities()
    assert all(ids[1] not in (k["source"], k["target"]) for k in page.js("Array.from(workbench.links.values())"))

    # map mode: the street at its coordinates, the events without any parked to its west
    page.act(lambda: page.page.click("#wb-mode"))
    assert page.page.get_attribute("#wb-chart", "data-mode") == "map"
    entities = page.entities()
    located = {i: e for i, e in entities.items() if e["geo"]}
    assert place in located
    where = page.js("workbench.network.getPositions()")
    parked = [i for i in entities if i not in located]
    assert parked and max(where[i]["x"] for i in parked) < min(where[i]["x"] for i in located)
    page.page.select_option("#wb-park", "hide")
    assert page.shown() == set(located)
    page.act(lambda: page.page.click("#wb-mode"))
    assert page.page.get_attribute("#wb-chart", "data-mode") == "network"
    after = page.js(f"workbench.network.getPositions(['{place}'])['{place}']")
    assert abs(after["x"] - before["x"]) < 1 and abs(after["y"] - before["y"]) < 1  # pinned, and back where it was


def test_questions_on_the_chart_and_the_graph_and_paths(served, bench):
    page = bench("analyst")
    page.purpose()
    demo = served.demo
    network = [person_id(demo, nominal) for nominal in demo.planted["network"][:2]]
    for nominal in demo.planted["network"][:2]:
        page.search(nominal, "Person")
        page.act(lambda: page.page.click("#wb-add-all"))
    assert set(page.entities()) == set(network)

    # paths between the two: added and highlighted, as the API finds them
    page.select(*network)
    status = page.act(lambda: page.page.click("#wb-paths"))
    found = served.api("/paths", **{"from": network[0], "to": network[1], "max_hops": 4})
    on_paths = {i for path in found["paths"] for i in path}
    assert found["paths"] and "shortest path" in status
    assert set(page.js("workbench.highlighted()")) == on_paths <= set(page.entities())
    assert page.js("workbench.highlightedLinks()")

    # one link type only: what the API's network of that type holds, and no other type
    page.expand_options()
    page.page.select_option("#wb-expand-types", ["knows"])
    page.expand(network[0])
    knows = served.api(f"/entities/{network[0]}/network", hops=1, link_types="knows", max_entities=100)
    added = {k["id"]: k["type"] for k in page.js("Array.from(workbench.links.values())")}
    assert {k["id"] for k in knows["links"]} <= set(added) and {n["id"] for n in knows["nodes"]} <= set(page.entities())
    assert set(added) == {k["id"] for k in found["graph"]["links"] + knows["links"]}
    assert {k["type"] for k in knows["links"]} == {"knows"}
    page.page.select_option("#wb-expand-types", [])

    page.expand(*network)
    shown = sorted(page.shown())
    assert 5 < len(shown) <= 300

    # a ranking of what the chart shows: the API's own answer, highlighted
    status = page.ask("rankings", measure="degree")
    asked = served.api("/rankings", measure="degree", within=shown, top=20)
    rows = page.page.locator("#wb-answer-table tbody tr")
    assert rows.count() == len(asked["rows"]) > 0, status
    ranked = {row["id"] for row in asked["rows"]}
    assert set(page.js("workbench.highlighted()")) == ranked <= set(page.entities())
    assert page.chart("highlighted") == len(ranked)
    degree_heading = page.page.locator("#wb-answer-table th", has_text="degree")
    assert degree_heading.get_attribute("title")  # each column's definition
    assert "degree" in page.page.inner_text("#wb-definitions")
    first = asked["rows"][0]
    page.act(lambda: rows.first.click())
    assert page.js("workbench.highlighted()") == [first["id"]]
    assert page.js("workbench.network.getSelectedNodes()") == [first["id"]]

    # groups on the chart: each row's members
    page.ask("groups", method="components")
    groups = served.api("/groups", method="components", min_size=3, within=shown, top=20)
    members = {m["id"] for row in groups["rows"] for m in row["members"]}
    assert page.page.locator("#wb-answer-table tbody tr").count() == len(groups["rows"]) > 0
    assert set(page.js("workbench.highlighted()")) == members

    # the whole graph, with the answer's entities added to the chart
    before = page.chart("nodes")
    page.ask("screenings", scope="graph", add=True, indicator="criminal_associates")
    screened = served.api("/screenings", indicator="criminal_associates", top=20)
    ids = {row["id"] for row in screened["rows"]}
    assert ids and ids <= set(page.entities()) and page.chart("nodes") >= before
    assert set(page.js("workbench.highlighted()")) == ids
    assert "notes" not in screened or page.page.locator("#wb-notes li").count() == len(screened["notes"])

    page.ask("places", scope="graph", event_types="CrimeIncident")
    placed = served.api("/places", event_types="CrimeIncident", top=20)
    assert page.page.locator("#wb-answer-table tbody tr").count() == len(placed["rows"]) > 0


def test_save_reopen_export_and_audit(served, bench, tmp_path):
    started = datetime.now(UTC).isoformat()
    page = bench("analyst")
    purpose = f"workbench save test {served.store} {time.time_ns()}"
    page.purpose(purpose)
    page.search("Marlowe Parade", "Street")
    page.add("Marlowe Parade")
    place = street(served)["id"]
    page.expand(place, max_entities=30)
    others = sorted(set(page.entities()) - {place})
    page.select(place)
    page.act(lambda: page.page.click("#wb-pin"))
    page.select(others[0])
    page.act(lambda: page.page.click("#wb-hide"))
    page.page.select_option("#wb-min-grade", "1B")
    saved = page.entities()
    where = {i: e["pos"] for i, e in saved.items()}
    links = set(page.js("Array.from(workbench.links.keys())"))

    page.page.fill("#wb-chart-name", f"Marlowe Parade ({served.store})")
    status = page.act(lambda: page.page.click("#wb-save"))
    assert "Saved" in status, status
    chart_id = page.page.input_value("#wb-saved")
    assert chart_id.startswith("chart-")

    page.act(lambda: page.page.click("#wb-clear-chart"))
    page.page.select_option("#wb-min-grade", "")
    assert page.chart("nodes") == 0
    page.act(lambda: page.page.click("#wb-list"))
    page.page.select_option("#wb-saved", chart_id)
    status = page.act(lambda: page.page.click("#wb-open"))
    assert "Opened" in status, status
    reopened = page.entities()
    assert set(reopened) == set(saved) and set(page.js("Array.from(workbench.links.keys())")) == links
    assert reopened[place]["pinned"] and reopened[others[0]]["hidden"]
    assert page.page.input_value("#wb-min-grade") == "1B"
    now = page.js("workbench.network.getPositions()")
    assert others[0] not in now  # hidden: not drawn, but back where it was once shown
    assert all(abs(now[i]["x"] - where[i]["x"]) < 1 and abs(now[i]["y"] - where[i]["y"]) < 1 for i in now)
    page.act(lambda: page.page.click("#wb-unhide"))
    hidden = page.js(f"workbench.network.getPositions(['{others[0]}'])['{others[0]}']")
    assert abs(hidden["x"] - where[others[0]]["x"]) < 1 and abs(hidden["y"] - where[others[0]]["y"]) < 1

    with page.page.expect_download() as png:
        page.act(lambda: page.page.click("#wb-export-png"))
    image = Path(png.value.path()).read_bytes()
    assert png.value.suggested_filename.endswith(".png") and image[:8] == b"\x89PNG\r\n\x1a\n" and len(image) > 5000
    with page.page.expect_download() as exported:
        page.act(lambda: page.page.click("#wb-export-json"))
    body = json.loads(Path(exported.value.path()).read_text())
    assert exported.value.suggested_filename.endswith(".json")
    assert {n["id"] for n in body["nodes"]} == set(saved) and {k["id"] for k in body["links"]} == links
    assert body["handling"] in ("P", "C") and body["by"] == "development analyst"

    log = served.api("/audit", key="dev-admin", who="development analyst", since=started, limit=1000)["items"]
    mine = [(e["method"], e["path"].split("?")[0], e["status"]) for e in log if e["purpose"] == purpose]
    assert ("POST", "/charts", 201) in mine and ("GET", f"/charts/{chart_id}", 200) in mine
    assert ("GET", f"/entities/{place}/network", 200) in mine


def test_a_researcher_sees_only_pseudonyms(served, bench):
    page = bench("researcher")
    page.purpose()
    assert "people under pseudonyms" in page.page.inner_text("#wb-caller")
    page.search("", "Person")
    page.act(lambda: page.page.click("#wb-add-all"))
    people = sorted(page.entities())
    assert len(people) == 50 and all(i.startswith("psn-") for i in people)
    page.expand(*people[:5])
    page.ask("rankings", measure="degree")
    model = served.demo.model
    entities = page.entities()
    personal = {i: e for i, e in entities.items() if model.identifies_person(e["type"])}
    assert len(personal) > 50 and all(i.startswith("psn-") and not e["properties"] for i, e in personal.items())
    names = {
        str(e.properties[k]).casefold()
        for e in served.demo.store.find("Person", limit=100_000)
        for k in ("name", "nominalId")
        if len(str(e.properties.get(k, ""))) >= 6
    }
    shown = " ".join(
        [page.js("document.body.innerText")]
        + [str(n.get("title", "")) + str(n.get("label", "")) for n in page.js("workbench.nodes.get()")]
    ).casefold()
    assert len(names) > 100 and sorted(n for n in names if n in shown) == []


def test_a_partner_sees_nothing_restricted(served, bench):
    page = bench("partner", via_landing="Op Larch partner review")
    assert page.page.input_value("#wb-purpose") == "Op Larch partner review"
    assert page.page.locator("#wb-filter-handling input").evaluate_all("boxes => boxes.map(b => b.value)") == ["P"]
    vulnerable = person_id(served.demo, served.demo.planted["vulnerable"])  # only C records name them
    assert "Nothing found" in page.search(served.demo.planted["vulnerable"], "Person")
    refused = page.js(
        f"fetch('/entities/{quote(vulnerable)}', {{headers: {{'X-Purpose': 'workbench test'}}}}).then(r => r.status)"
    )
    assert refused == 404
    page.search("Marlowe Parade", "Street")
    page.add("Marlowe Parade")
    page.expand(street(served)["id"])
    items = page.js("Array.from(workbench.entities.values()).concat(Array.from(workbench.links.values()))")
    assert len(items) > 50 and {r["handling"] for item in items for r in item["provenance"]} == {"P"}
    page.ask("rankings", scope="graph", add=True, measure="degree")
    assert vulnerable not in page.entities()
    items = page.js("Array.from(workbench.entities.values())")
    assert {r["handling"] for item in items for r in item["provenance"]} == {"P"}


def _decide(served: Served, proposal: str, decision: str) -> dict:
    request = urllib.request.Request(
        f"{served.base}/resolution/proposals/{proposal}/decision",
        data=json.dumps({"decision": decision}).encode(),
        headers={"X-API-Key": "dev-analyst", "X-Purpose": PURPOSE, "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_the_review_queue_shows_a_match_side_by_side_with_its_waterfall_and_takes_decisions(served, bench):
    page = bench("analyst")
    page.purpose()
    page.act(lambda: page.page.click("#wb-matches"))
    expected = served.api("/resolution/proposals", status="Proposed", limit=100)["items"]
    assert expected, "the demo proposes matches"
    buttons = page.page.locator("#wb-match-list button[data-proposal]")
    listed = buttons.evaluate_all("bs => bs.map(b => b.dataset.proposal)")
    assert listed == [p["id"] for p in expected]  # most likely first, as the API ranks them
    chosen = expected[0]
    page.act(lambda: page.page.click(f'#wb-match-list button[data-proposal="{chosen["id"]}"]'))
    review = served.api(f"/resolution/proposals/{chosen['id']}")
    article = page.page.locator(".match-review")
    assert article.get_attribute("data-proposal") == chosen["id"]
    side = article.locator("table.side-by-side").inner_text()
    assert review["left"]["label"] in side and review["right"]["label"] in side
    # the waterfall: the prior, one bar per comparison, and the total, adding up to the match weight
    svg = article.locator("svg.waterfall")
    assert int(svg.get_attribute("data-steps")) == len(review["comparisons"]) + 1
    steps = svg.locator("rect.up, rect.down").evaluate_all("rs => rs.map(r => Number(r.dataset.value))")
    total = float(svg.locator("rect.total").get_attribute("data-value"))
    assert total == pytest.approx(review["match_weight"]) and sum(steps) == pytest.approx(total, abs=1e-3)
    assert steps[1:] == pytest.approx([c["contribution"] for c in review["comparisons"]])
    assert svg.bounding_box()["width"] > 200
    try:
        page.act(lambda: page.page.click('.match-review button[data-decision="accept"]'))
        page.until("document.querySelector('.match-review').dataset.status === 'Accepted'")
        after = served.api(f"/resolution/proposals/{chosen['id']}")
        assert after["status"] == "Accepted" and after["decisions"][-1]["by"] == "development analyst"
        assert chosen["id"] not in [p["id"] for p in served.api("/resolution/proposals", limit=500)["items"]]
        page.act(lambda: page.page.click('.match-review button[data-decision="undo"]'))
        page.until("document.querySelector('.match-review').dataset.status === 'Proposed'")
    finally:
        if served.api(f"/resolution/proposals/{chosen['id']}")["status"] != "Proposed":
            _decide(served, chosen["id"], "undo")


def test_a_partner_and_a_researcher_review_no_match_they_may_not_see_or_decide(served, bench):
    partner = bench("partner")
    partner.purpose()
    partner.act(lambda: partner.page.click("#wb-matches"))
    # every demo record that names a person is C: a partner's queue is empty, and says so
    assert partner.page.get_attribute("#wb-match-list", "data-count") == "0"
    researcher = bench("researcher")
    researcher.purpose()
    researcher.act(lambda: researcher.page.click("#wb-matches"))
    first = researcher.page.locator("#wb-match-list button[data-proposal]").first
    assert first.get_attribute("data-proposal").startswith("psn-")
    researcher.act(lambda: first.click())
    assert "may read this match but not decide it" in researcher.page.inner_text(".match-review")
    assert researcher.page.locator(".match-review button[data-decision]").count() == 0
