"""The demo's intervention against the hotspot problem, recorded as the partnership would record it.

The generator plants the ASB (``planted["intervention"]``); once the partner files are loaded, the
partnership's own records say what was done: a tasking to the problem's owner, carried out by an
enforcement activity and a prevention activity, both responding to the problem.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nimgraph.ontology import Core, Model
from nimgraph.products.record_page import record_page
from nimgraph.store.base import GraphReader, GraphStore
from nimgraph.tasking.kinds import kind_named
from nimgraph.tasking.writes import create

__all__ = ["intervention_places", "record_intervention"]

AUTHOR = "Northwick CSP analyst (demo)"
PAGE = 500


def _street(reader: GraphReader, model: Model, name: str, lsoa_code: str) -> str | None:
    """The location called ``name`` within the area whose code is ``lsoa_code`` (street names repeat)."""
    offset = 0
    while True:  # every address on the street matches the name too: read them all, page by page
        page = reader.find(Core.LOCATION, name, limit=PAGE, offset=offset)
        for place in page:
            if place.properties.get("name") != name:
                continue
            within = sorted(model.descendants(Core.WITHIN))
            around = reader.neighbourhood([place.id], 1, within, entity_provenance=False)
            if any(e.properties.get("areaCode") == lsoa_code for e in around.entities.values() if e.id != place.id):
                return place.id
        if len(page) < PAGE:
            return None
        offset += PAGE


def intervention_places(reader: GraphReader, model: Model, planted: dict[str, Any]) -> dict[str, list[str]]:
    """The ids of the target, buffer and control streets the generator planted, as ``reader`` finds them."""
    found: dict[str, list[str]] = {}
    for area, names in planted["streets"].items():
        ids = [_street(reader, model, name, planted["lsoa_codes"][area]) for name in names]
        found[area] = [i for i in ids if i is not None]
    return found


def record_intervention(store: GraphStore, model: Model, problem_id: str, planted: dict[str, Any]) -> dict[str, str]:
    """Write the tasking and the two activities against the problem; their ids by role.

    Run again (a second demo into the same store), it finds them by title and writes nothing.
    """
    target = planted["streets"]["target"][0]
    page = record_page(store, model, problem_id)
    held = {k.label: k.id for k in page.links if not k.outward} if page else {}
    wanted = {
        "tasking": f"Reduce ASB at {target}",
        "enforcement": f"Dispersal order and targeted patrols, {target}",
        "prevention": f"Youth diversion sessions and CCTV, {target}",
    }
    if all(title in held for title in wanted.values()):
        return {role: held[title] for role, title in wanted.items()}
    start, end = planted["after"]
    owner = "PS 2291 Khan (Northwick NPT)"
    # written as the partnership would have written them, the day the activities began: the same ids
    # and records in every store under the same key, so the demo is the same on both stores
    recorded = datetime.fromisoformat(f"{start}T09:00:00+00:00")
    tasking = create(
        store,
        model,
        kind_named("tasking"),
        {
            "title": wanted["tasking"],
            "owner": owner,
            "dueDate": end,
            "taskingStatus": "done",
            "result": "Dispersal order, patrols and youth sessions delivered",
        },
        {"concerning": [problem_id]},
        author=AUTHOR,
        handling="P",
        now=recorded,
        key=f"demo:{problem_id}:tasking",
    )
    activities = {}
    for role, title, pillar, who, hours, cost, partners in (
        ("enforcement", wanted["enforcement"], "enforcement", owner, 240, 9600, "Northwick NPT; council ASB team"),
        ("prevention", wanted["prevention"], "prevention", "Council ASB team", 120, 14500,
         "Council; youth service; Northwick NPT"),
    ):  # fmt: skip
        made = create(
            store,
            model,
            kind_named("activity"),
            {
                "title": title,
                "pillar": pillar,
                "owner": who,
                "plannedStart": start,
                "startDate": start,
                "endDate": end,
                "hours": hours,
                "cost": cost,
                "partners": partners,
                "activityStatus": "actual",
            },
            {"problems": [problem_id], "taskings": [tasking.id]},
            author=AUTHOR,
            handling="P",
            now=recorded,
            key=f"demo:{problem_id}:{role}",
        )
        activities[role] = made.id
    return {"tasking": tasking.id, **activities}
