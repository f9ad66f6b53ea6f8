"""i2 Analyst's Notebook charts (ANX XML): entities with their icons, links with strength from the grade.

An ANX file is a ``Chart`` of ``ChartItem`` elements: an item is an entity (``End``/``Entity`` with
an icon type) or a link (``Link`` between two entities' ids, with an arrow and a strength). This
module writes one from the graph an export reads (:func:`nimgraph.analysis.build.to_networkx`,
after resolved records are contracted), and reads one back (:func:`read_anx`), so that a test can
show a chart round-trips to the same entities and links. ``anx.xsd`` beside it is the schema the
output is checked against, written from i2's published description of the format.

- **Entities**: the icon type comes from a table the user can change (``nimgraph/data/i2_icons.yaml``,
  or their own copy), looked up along the ontology's class hierarchy; the identity is nimgraph's id
  (a pseudonym in a pseudonymised view), so a chart imported twice merges; the label, every property
  as an attribute, and the first record's date as the item's date.
- **Links**: the arrow follows the link's direction (none for a symmetric link); the strength comes
  from the best record's 3x5x2 grade (:func:`strength`); the dates of the first and last records;
  the records behind the link as the source reference, and the best grade in i2's three grading
  collections (source evaluation, intelligence assessment, handling code).
- **Inferred links** (a possible match, a predicted association) are of their own link type,
  drawn red and dotted, and always tentative: never recorded evidence.
- The chart's summary carries the most restrictive handling code of what it holds.

>>> import networkx as nx
>>> from nimgraph.ontology import default_model
>>> graph = nx.MultiDiGraph()
>>> graph.add_node("p1", type="Person", label="Ann Lee", properties={"surname": "Lee"},
...                provenance=[{"source": "police", "record_id": "N1", "date": "2024-03-01", "grade": "1AP"}])
>>> graph.add_node("v1", type="Vehicle", label="AB12 CDE", properties={}, provenance=[])
>>> _ = graph.add_edge("p1", "v1", key="k1", type="usesVehicle", properties={},
...                provenance=[{"source": "police", "record_id": "N1", "date": "2024-03-01", "grade": "2CP"}])
>>> chart = read_anx(to_anx(graph, default_model(), handling="P"))
>>> chart.entities["p1"].icon, chart.entities["v1"].icon, chart.links[0].strength
('Person', 'Car', 'Unconfirmed')
>>> chart.handling, chart.links[0].end1, chart.links[0].arrow
('P', 'p1', 'ArrowOnHead')
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import networkx as nx
import yaml
from defusedxml import ElementTree as SafeET

from nimgraph.grading import HANDLING, INTELLIGENCE_ASSESSMENT, SOURCE_EVALUATION, GradeError, parse_grade
from nimgraph.ontology import Model

__all__ = ["SCHEMA", "AnxChart", "AnxEntity", "AnxLink", "IconTable", "read_anx", "strength", "to_anx"]

SCHEMA: Traversable = files("nimgraph.exports") / "anx.xsd"
DEFAULT_ICONS: Traversable = files("nimgraph") / "data" / "i2_icons.yaml"

CONFIRMED, UNCONFIRMED, TENTATIVE = "Confirmed", "Unconfirmed", "Tentative"
# i2's strengths, strongest first, each drawn as i2 draws them by convention
_STRENGTHS = {CONFIRMED: "DotStyleSolid", UNCONFIRMED: "DotStyleDashed", TENTATIVE: "DotStyleDotted"}
RECORDED, INFERRED = "Link", "Inferred"
_LINK_COLOURS = {RECORDED: "0", INFERRED: "255"}  # i2 colours are BGR integers: black, and red

# Attribute classes every item may carry, beside its ontology properties
ID, TYPE, RECORDS, FIRST, LAST, HANDLING_CODE = (
    "nimgraph id",
    "nimgraph type",
    "Records",
    "First recorded",
    "Last recorded",
    "Handling code",
)
_GRADE_ONE = [f"{code} {text}" for code, text in SOURCE_EVALUATION.items()]
_GRADE_TWO = [f"{code} {text}" for code, text in INTELLIGENCE_ASSESSMENT.items()]
_GRADE_THREE = [f"{code} {text}" for code, text in HANDLING.items()]


class IconTable:
    """Ontology entity types -> i2 icon types, from a YAML table (``default`` and ``entities``).

    >>> from nimgraph.ontology import default_model
    >>> icons = IconTable.load()
    >>> icons.icon_for(default_model(), "CrimeIncident"), icons.icon_for(default_model(), "Ward")
    ('Crime', 'Area')
    """

    def __init__(self, entities: Mapping[str, str], default: str) -> None:
        self.entities = dict(entities)
        self.default = default

    @classmethod
    def load(cls, path: Path | str | None = None) -> IconTable:
        source = Path(path) if path else DEFAULT_ICONS
        try:
            raw = yaml.safe_load(source.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise ValueError(f"cannot read the i2 icon table {path}: {error}") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("entities"), dict):
            raise ValueError(
                f"the i2 icon table {path or 'shipped'} must be a mapping with 'entities' (type: icon) and 'default'"
            )
        bad = [k for k, v in raw["entities"].items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise ValueError(f"the i2 icon table maps each entity type to an icon name (text); not: {bad[:5]}")
        return cls(raw["entities"], str(raw.get("default") or "Default"))

    def unknown_types(self, model: Model) -> list[str]:
        """Types the table names that the ontology does not: most likely misspelt."""
        return sorted(set(self.entities) - set(model.entities))

    def icon_for(self, model: Model, type_name: str) -> str:
        lineage = model.ancestors(type_name) if type_name in model.entities else (type_name,)
        return next((self.entities[t] for t in lineage if t in self.entities), self.default)


def strength(provenance: Iterable[Mapping[str, Any]], inferred: bool = False) -> str:
    """i2's link strength from the records' 3x5x2 grades: the best record decides.

    Confirmed: a reliable source (1) that knew it directly or with corroboration (A, B). Tentative:
    nothing better than "not known" or "suspected false" (D, E), only unreliable sources (3), or an
    inferred link. Unconfirmed: anything between.

    >>> strength([{"grade": "1BP"}]), strength([{"grade": "2AP"}]), strength([{"grade": "3AP"}, {"grade": "2DC"}])
    ('Confirmed', 'Unconfirmed', 'Tentative')
    >>> strength([{"grade": "1AP"}], inferred=True), strength([])
    ('Tentative', 'Tentative')
    """
    if inferred:
        return TENTATIVE
    best = TENTATIVE
    for record in provenance:
        try:
            grade = parse_grade(record.get("grade") or "")
        except GradeError:
            continue
        if grade.source == "1" and grade.assessment in "AB":
            return CONFIRMED
        if grade.source != "3" and grade.assessment in "ABC":
            best = UNCONFIRMED
    return best


def _best_grade(provenance: list[Mapping[str, Any]]) -> tuple[int, int, int] | None:
    """Indexes into the three grading collections: the most reliable record's source and assessment,
    and the most restrictive handling code among all the records."""
    grades = []
    for record in provenance:
        try:
            grades.append(parse_grade(record.get("grade") or ""))
        except GradeError:
            continue
    if not grades:
        return None
    best = max(grades, key=lambda g: g.reliability)
    handling = max(list(HANDLING).index(g.handling) for g in grades)
    return list(SOURCE_EVALUATION).index(best.source), list(INTELLIGENCE_ASSESSMENT).index(best.assessment), handling


def _dates(provenance: list[Mapping[str, Any]]) -> list[str]:
    return sorted(str(r["date"])[:10] for r in provenance if r.get("date"))


def _date_time(day: str) -> str:
    return f"{day}T00:00:00"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set)):
        return "; ".join(_text(v) for v in value)
    return str(value)


class _Attributes:
    """The chart's attribute classes: one per property label (and the fixed ones), typed as i2 types them."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.classes: dict[str, str] = {ID: "AttText", TYPE: "AttText", RECORDS: "AttNumber", HANDLING_CODE: "AttText"}
        self.classes |= {FIRST: "AttTime", LAST: "AttTime"}

    def name(self, prop: str) -> str:
        definition = self.model.properties.get(prop)
        return definition.label if definition else prop

    def add(self, item: ET.Element, values: dict[str, Any]) -> None:
        collection = ET.SubElement(item, "AttributeCollection")
        for name, value in values.items():
            if value is None or value == "" or value == []:
                continue
            if name not in self.classes:
                self.classes[name] = (
                    "AttNumber"
                    if isinstance(value, (int, float)) and not isinstance(value, bool)
                    else ("AttFlag" if isinstance(value, bool) else "AttText")
                )
            kind = self.classes[name]
            if kind == "AttNumber" and (isinstance(value, bool) or not isinstance(value, (int, float))):
                kind = "AttText"  # a class first seen as a number, here given as text: keep the text
                value = _text(value)
            shown = _date_time(value) if kind == "AttTime" else _text(value)
            ET.SubElement(collection, "Attribute", AttributeClass=name, Value=shown)

    def item_values(self, item_id: str, type_name: str, properties: dict, provenance: list) -> dict[str, Any]:
        dates = _dates(provenance)
        handling = sorted(
            {r["handling"] for r in provenance if r.get("handling") in HANDLING}, key=list(HANDLING).index
        )
        values: dict[str, Any] = {ID: item_id, TYPE: type_name, RECORDS: len(provenance)}
        values |= {FIRST: dates[0] if dates else None, LAST: dates[-1] if dates else None}
        values[HANDLING_CODE] = handling[-1] if handling else None
        for prop, value in sorted(properties.items()):
            values[self.name(prop)] = value
        return values


def _item(collection: ET.Element, label: str, provenance: list[Mapping[str, Any]]) -> ET.Element:
    dates = _dates(provenance)
    attrs = {"Label": label, "DateSet": "true" if dates else "false"}
    if dates:
        attrs |= {"DateTime": _date_time(dates[0]), "TimeSet": "false"}
    references = [f"{r.get('source')} {r.get('record_id')} ({r.get('grade')})" for r in provenance]
    if references:
        attrs["SourceReference"] = "; ".join(references)
        attrs["SourceType"] = ", ".join(sorted({str(r.get("source")) for r in provenance}))
    grade = _best_grade(list(provenance))
    if grade:
        attrs |= {"GradeOneIndex": str(grade[0]), "GradeTwoIndex": str(grade[1]), "GradeThreeIndex": str(grade[2])}
    return ET.SubElement(collection, "ChartItem", attrs)


def to_anx(
    graph: nx.MultiDiGraph,
    model: Model,
    *,
    handling: str,
    icons: IconTable | None = None,
    description: str = "",
    exported: datetime | None = None,
) -> str:
    """The graph as an ANX chart (UTF-8 XML text). ``handling`` is the most restrictive code it holds."""
    icons = icons or IconTable.load()
    attributes = _Attributes(model)
    chart = ET.Element("Chart", IdReferenceLinking="false", Rigorous="true")
    summary = ET.SubElement(chart, "Summary")
    properties = ET.SubElement(summary, "CustomPropertyCollection")
    when = (exported or datetime.now(UTC)).replace(microsecond=0).isoformat()
    for name, value in (("Handling code", handling), ("Exported", when), ("Scope", description)):
        ET.SubElement(properties, "CustomProperty", Name=name, Type="String", Value=value)
    for tag, texts in (("GradeOne", _GRADE_ONE), ("GradeTwo", _GRADE_TWO), ("GradeThree", _GRADE_THREE)):
        strings = ET.SubElement(ET.SubElement(chart, tag), "StringCollection")
        for text in texts:
            ET.SubElement(strings, "String", Text=text)
    strengths = ET.SubElement(chart, "StrengthCollection")
    for number, (name, dots) in enumerate(_STRENGTHS.items(), start=1):
        ET.SubElement(strengths, "Strength", Id=str(number), Name=name, DotStyle=dots)
    class_collection = ET.SubElement(chart, "AttributeClassCollection")  # filled once every item is written
    link_types = ET.SubElement(chart, "LinkTypeCollection")
    for name, colour in _LINK_COLOURS.items():
        ET.SubElement(link_types, "LinkType", Name=name, Colour=colour)
    entity_types = ET.SubElement(chart, "EntityTypeCollection")
    items = ET.SubElement(chart, "ChartItemCollection")

    used_icons: set[str] = set()
    for node in sorted(graph.nodes):
        data = graph.nodes[node]
        icon = icons.icon_for(model, data.get("type", ""))
        used_icons.add(icon)
        provenance = list(data.get("provenance") or [])
        item = _item(items, str(data.get("label") or node), provenance)
        entity = ET.SubElement(ET.SubElement(item, "End"), "Entity", EntityId=str(node), Identity=str(node))
        entity.set("LabelIsIdentity", "false")
        ET.SubElement(ET.SubElement(entity, "Icon"), "IconStyle", Type=icon)
        values = attributes.item_values(str(node), data.get("type", ""), dict(data.get("properties") or {}), provenance)
        attributes.add(item, values)
    for source, target, key in sorted(graph.edges(keys=True), key=lambda e: str(e[2])):
        data = graph.edges[source, target, key]
        link_type = model.links.get(data.get("type", ""))
        inferred = bool(link_type and link_type.inferred)
        provenance = list(data.get("provenance") or [])
        label = link_type.label if link_type else str(data.get("type"))
        item = _item(items, label, provenance)
        link = ET.SubElement(item, "Link", End1Id=str(source), End2Id=str(target))
        style = {
            "ArrowStyle": "ArrowNone" if link_type and link_type.symmetric else "ArrowOnHead",
            "Type": INFERRED if inferred else RECORDED,
            "Strength": strength(provenance, inferred),
            "LineColour": _LINK_COLOURS[INFERRED if inferred else RECORDED],
            "LineWidth": "1",
        }
        ET.SubElement(link, "LinkStyle", style)
        values = attributes.item_values(str(key), data.get("type", ""), dict(data.get("properties") or {}), provenance)
        attributes.add(item, values)
    for name, kind in attributes.classes.items():
        ET.SubElement(class_collection, "AttributeClass", Name=name, Type=kind, ShowValue="false", Visible="true")
    for icon in sorted(used_icons):
        ET.SubElement(entity_types, "EntityType", Name=icon, IconFile=icon)
    ET.indent(chart)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(chart, encoding="unicode") + "\n"


@dataclass
class AnxEntity:
    identity: str
    icon: str
    label: str
    date: str | None
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class AnxLink:
    end1: str
    end2: str
    label: str
    arrow: str
    link_type: str  # Link, or Inferred
    strength: str
    date: str | None
    source_reference: str | None
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class AnxChart:
    entities: dict[str, AnxEntity]
    links: list[AnxLink]
    handling: str | None


def read_anx(text: str | bytes) -> AnxChart:
    """Read a chart back: its entities by identity, its links, its handling code. Parsed safely
    (no entity expansion, no external references)."""
    root = SafeET.fromstring(text)
    handling = next(
        (p.get("Value") for p in root.iter("CustomProperty") if p.get("Name") == "Handling code"),
        None,
    )
    entities: dict[str, AnxEntity] = {}
    links: list[AnxLink] = []
    for item in root.iter("ChartItem"):
        attributes = {a.get("AttributeClass", ""): a.get("Value", "") for a in item.iter("Attribute")}
        date = item.get("DateTime") if item.get("DateSet") == "true" else None
        entity = item.find("End/Entity")
        link = item.find("Link")
        if entity is not None:
            style = entity.find("Icon/IconStyle")
            identity = entity.get("Identity", "")
            icon = style.get("Type", "") if style is not None else ""
            entities[identity] = AnxEntity(identity, icon, item.get("Label", ""), date, attributes)
        elif link is not None:
            style = link.find("LinkStyle")
            get = style.get if style is not None else (lambda _name, default="": default)
            links.append(
                AnxLink(
                    end1=link.get("End1Id", ""),
                    end2=link.get("End2Id", ""),
                    label=item.get("Label", ""),
                    arrow=get("ArrowStyle", ""),
                    link_type=get("Type", ""),
                    strength=get("Strength", ""),
                    date=date,
                    source_reference=item.get("SourceReference"),
                    attributes=attributes,
                )
            )
    return AnxChart(entities, links, handling)
