"""Render products to self-contained HTML (the network drawing included) and to JSON."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from nimgraph.grading import HANDLING
from nimgraph.products.problem import ProblemProfile
from nimgraph.products.subject import SubjectProfile
from nimgraph.viz.network import vis_assets

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


def to_json(product: Product) -> str:
    return json.dumps(product.to_dict(), indent=2, default=str)


def write(product: Product, html_path: Path | str | None = None, json_path: Path | str | None = None) -> None:
    for path, text in ((html_path, to_html), (json_path, to_json)):
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text(product), encoding="utf-8")
