"""What nimgraph calls an entity when a person reads it: one labelling rule, from the ontology.

Each class lists label patterns (``nim:labelPatterns``) naming properties in braces; the first
pattern whose properties all have values wins, trying the class's own patterns, then its
ancestors', then the ontology's. Only when none applies does the label fall back to the class's
name in words and a short id, so a hash is never shown where the data has something readable.
Products, pages, the API, exports and the workbench all label through :func:`label`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nimgraph.ontology import Model
    from nimgraph.records import Entity

__all__ = ["entity_label", "fill", "label", "pattern_properties", "short_id"]

_FORMATTER = string.Formatter()
_HASHED = re.compile(r"^[A-Za-z]+-([0-9a-f]{16,})$")


def pattern_properties(pattern: str) -> list[str]:
    """The property names a pattern needs.

    >>> pattern_properties("{addressLine}, {postcode}")
    ['addressLine', 'postcode']
    """
    return [field for _, field, _, _ in _FORMATTER.parse(pattern) if field]


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value if v not in (None, ""))
    return " ".join(str(value).split()) if value is not None else ""


def fill(pattern: str, properties: Mapping[str, Any]) -> str | None:
    """The pattern with the properties' values in it; None when any it names is missing or blank.

    >>> fill("{forename} {surname}", {"forename": "Dana", "surname": "Marlowe"})
    'Dana Marlowe'
    >>> fill("{forename} {surname}", {"forename": "Dana"}) is None
    True
    """
    parts = []
    for literal, field, _, _ in _FORMATTER.parse(pattern):
        parts.append(literal)
        if field:
            value = _text(properties.get(field))
            if not value:
                return None
            parts.append(value)
    return "".join(parts).strip() or None


def short_id(entity_id: str) -> str:
    """An id short enough to read: a hashed id's first eight hex digits; anything else as it is.

    >>> short_id("Phone-3b94c1d2e5f60718293a4b5c"), short_id("psn-1a2b3c"), short_id("CR-1001")
    ('3b94c1d2', 'psn-1a2b3c', 'CR-1001')
    """
    hashed = _HASHED.match(entity_id)
    return hashed.group(1)[:8] if hashed else entity_id


def label(model: Model, type_name: str, entity_id: str, properties: Mapping[str, Any]) -> str:
    """The readable label of an entity of ``type_name`` with ``properties``.

    >>> from nimgraph.ontology import default_model
    >>> model = default_model()
    >>> label(model, "Person", "Person-ab12", {"forename": "Dana", "surname": "Marlowe", "name": "Dana"})
    'Dana Marlowe'
    >>> label(model, "Address", "Address-ab12", {"addressLine": "4 Mill Lane", "postcode": "NS1 4AB"})
    '4 Mill Lane, NS1 4AB'
    >>> label(model, "Phone", "Phone-3b94c1d2e5f60718293a4b5c", {})
    'Phone 3b94c1d2'
    """
    for pattern in model.labelling(type_name):
        filled = fill(pattern, properties)
        if filled:
            return filled
    words = model.entities[type_name].label if type_name in model.entities else type_name or "Entity"
    return f"{words} {short_id(entity_id)}"


def entity_label(model: Model, entity: Entity) -> str:
    return label(model, entity.type, entity.id, entity.properties)
