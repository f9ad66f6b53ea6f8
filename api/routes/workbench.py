"""The analyst's workbench: one page that charts the graph through the API, as the caller may see it.

The page holds no data. Its script asks the API for everything (search, networks, paths, the
graph-wide questions, saved charts) with the key the browser already sent and the purpose the
analyst states on the page, so roles, handling codes, pseudonyms and the audit log apply exactly
as to any other client. vis-network's script and style come from the pyvis package and the
workbench's own from ``nimgraph/workbench/``; everything is inlined, so the page fetches nothing
but the API and works offline.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api import browser
from api.auth import Reader
from api.deps import ModelDep, SettingsDep
from api.notice import clearance_notice
from api.routes.charts import MAX_CHART_NODES
from api.routes.resolution import RESOLVING
from nimgraph.grading import HANDLING, HANDLING_ORDER
from nimgraph.ontology import Core, Model
from nimgraph.products.render import environment
from nimgraph.viz.network import Styles, vis_assets  # the reports' styles, so a chart looks like a report

router = APIRouter(tags=["pages"])

MAX_WITHIN = 300  # entity ids a question on the chart may name (the question routes' own limit)


# The page's scripts, in load order: the parts first, then the core that puts them together.
SCRIPTS = ("client.js", "timeline.js", "geography.js", "answers.js", "matches.js", "workbench.js")


@cache
def workbench_assets() -> tuple[tuple[Markup, ...], Markup]:
    """The workbench's scripts and style, from the package's data."""
    base = files("nimgraph").joinpath("workbench")
    scripts = tuple(
        Markup(base.joinpath(name).read_text(encoding="utf-8").replace("</script", "<\\/script")) for name in SCRIPTS
    )
    style = base.joinpath("workbench.css").read_text(encoding="utf-8")
    return scripts, Markup(style.replace("</style", "<\\/style"))


def vocabulary(model: Model) -> dict[str, list[dict]]:
    """Entity and link types as the page needs them: drawn as the reports draw them (viz/network.py)."""
    styles = Styles(model)
    events = model.descendants(Core.EVENT)
    types = []
    for name in sorted(model.entities):
        category, colour, shape = styles.node(name)
        mappable = model.entities[name].mappable
        types.append(
            {
                "name": name,
                "category": category,
                "colour": colour,
                "shape": shape,
                "event": name in events,
                "mappable": mappable,
            }
        )
    links = [
        {
            "name": name,
            "label": model.links[name].label,
            "kind": styles.kind(name),
            "inferred": model.links[name].inferred,
        }
        for name in sorted(model.links)
    ]
    return {"types": types, "links": links}


@router.get("/workbench", response_class=HTMLResponse, include_in_schema=False)
def workbench(
    request: Request,
    caller: Reader,
    settings: SettingsDep,
    model: ModelDep,
    purpose: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """The page; it reads nothing itself, so it needs a key but no purpose."""
    vis_script, vis_style = vis_assets()
    scripts, style = workbench_assets()
    config = {
        "caller": {
            "name": caller.name,
            "role": caller.role.value,
            "handling": [code for code in HANDLING_ORDER if caller.clearance.sees(code)],
            "pseudonymised": caller.clearance.pseudonymised,
        },
        "handlingText": HANDLING,
        **vocabulary(model),
        "maxWithin": MAX_WITHIN,
        # whether the review queue offers decisions: the API refuses them to anyone else regardless
        "canResolve": RESOLVING.allows(caller),
        "maxChartNodes": MAX_CHART_NODES,
        # A browser on Basic credentials without fetch metadata proves its writes are ours with this.
        "csrf": browser.issue_token(request, caller) if browser.uses_basic(request) else "",
    }
    page = (
        environment()
        .get_template("workbench.html")
        .render(
            caller=caller,
            purpose=(purpose or "").strip(),
            notice=clearance_notice(caller.clearance, settings).notice,
            config=config,
            vis_script=vis_script,
            vis_style=vis_style,
            scripts=scripts,
            style=style,
        )
    )
    return HTMLResponse(page)
