"""Render products to self-contained HTML (the network drawing included) and to JSON."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from nimgraph.grading import HANDLING, most_restrictive
from nimgraph.ontology import Model
from nimgraph.private_files import write_private_text
from nimgraph.products.answers import Answer
from nimgraph.products.problem import ProblemProfile
from nimgraph.products.subject import SubjectProfile
from nimgraph.viz.network import network_view, vis_assets

Product = SubjectProfile | ProblemProfile
TEMPLATES = {SubjectProfile: "subject_profile.html", ProblemProfile: "problem_profile.html"}


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("nimgraph", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def to_html(product: Product, notice: str | None = None) -> str:
    """The report as one self-contained page; ``notice`` is the fixed clearance notice, if any."""
    script, style = vis_assets()
    template = environment().get_template(TEMPLATES[type(product)])
    return template.render(
        product=product.to_dict(),
        notice=notice,
        view=product.network,
        handling=product.handling,
        handling_text=HANDLING[product.handling],
        vis_script=script,
        vis_style=style,
    )


QUESTION_TITLES = {
    "rank": "Ranking",
    "groups": "Groups",
    "screening": "Screening",
    "places": "Places",
    "search": "Search",
}


def answer_html(answer: Answer, model: Model, notice: str | None = None, max_nodes: int = 300) -> str:
    """A graph-wide answer as one self-contained page: its table, definitions, notes and the entities drawn."""
    graph = answer.graph
    assert graph is not None
    codes = {r["handling"] for _, d in graph.nodes(data=True) for r in d.get("provenance", [])}
    codes |= {r["handling"] for *_, d in graph.edges(data=True) for r in d.get("provenance", [])}
    handling = most_restrictive(codes) if codes else None
    script, style = vis_assets()
    data = answer.to_dict()
    flat = answer.lines()
    title = QUESTION_TITLES.get(answer.question, answer.question.title())
    detail = answer.parameters.get("measure") or answer.parameters.get("method") or answer.parameters.get("indicator")
    return (
        environment()
        .get_template("answer.html")
        .render(
            title=f"{title}: {detail}" if detail else title,
            answer=data,
            columns=answer.columns,
            rows=flat,
            notice=notice,
            view=network_view(graph, model, focus=[r["id"] for r in flat if "id" in r][:20], max_nodes=max_nodes),
            handling=handling,
            handling_text=HANDLING[handling] if handling else "",
            vis_script=script,
            vis_style=style,
        )
    )


def to_json(product: Product) -> str:
    return json.dumps(product.to_dict(), indent=2, default=str)


def write(product: Product, html_path: Path | str | None = None, json_path: Path | str | None = None) -> None:
    for path, text in ((html_path, to_html), (json_path, to_json)):
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            write_private_text(path, text(product))
