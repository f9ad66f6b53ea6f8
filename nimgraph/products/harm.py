"""The harm index: a weight per category, from a data table with its name, status, source and year.

The package ships an illustrative table (``nimgraph/data/harm_index.yaml``); a partnership names
its own with ``NIMGRAPH_HARM_INDEX``. Every assessment says which table it used and which
categories it found no weight for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from nimgraph.products.common import TableError, data_table

DEFAULT = "harm_index.yaml"


@dataclass(frozen=True)
class HarmIndex:
    name: str
    status: str
    source: str
    year: int | str
    unit: str
    default: float
    weights: dict[str, float]
    aliases: dict[str, str] = field(default_factory=dict)
    file: str = ""

    def weight(self, category: str) -> float | None:
        """The category's weight, matched without case and through aliases; None when unlisted.

        >>> index = HarmIndex("t", "test", "s", 2026, "u", 1.0, {"Robbery": 400.0}, {"robbery-x": "Robbery"})
        >>> index.weight("ROBBERY"), index.weight("robbery-x"), index.weight("Shoplifting")
        (400.0, 400.0, None)
        """
        return self._folded.get(category.strip().casefold())

    @cached_property
    def _folded(self) -> dict[str, float]:
        # a million incidents ask for their category's weight: one dict lookup each
        found = {alias: self.weights[name] for alias, name in self.aliases.items() if name in self.weights}
        found.update({name.casefold(): value for name, value in self.weights.items()})
        return found

    def weight_or_default(self, category: str) -> float:
        found = self.weight(category)
        return self.default if found is None else found

    def describe(self) -> dict:
        return {
            "name": self.name,
            "status": self.status,
            "source": self.source,
            "year": self.year,
            "unit": self.unit,
            "default_weight": self.default,
            "file": self.file,
        }


def load_harm_index(path: Path | str | None = None) -> HarmIndex:
    """The table at ``path``, or the shipped illustrative one; a malformed table is a ProductError."""
    text, where = data_table(path, DEFAULT, "NIMGRAPH_HARM_INDEX")
    try:
        data = yaml.safe_load(text)
        weights = {str(k): float(v) for k, v in (data.get("weights") or {}).items()}
        index = HarmIndex(
            name=str(data["name"]),
            status=str(data.get("status", "unstated")),
            source=str(data["source"]),
            year=data["year"],
            unit=str(data.get("unit", "relative harm of one event")),
            default=float(data.get("default", 1)),
            weights=weights,
            aliases={str(k).casefold(): str(v) for k, v in (data.get("aliases") or {}).items()},
            file=where,
        )
    except (yaml.YAMLError, AttributeError, KeyError, TypeError, ValueError) as err:
        raise TableError(
            f"the harm index {where} is not a table nimgraph can read ({type(err).__name__}: {err}); it needs name, "
            "source, year and weights (category: number), as nimgraph/data/harm_index.yaml has"
        ) from None
    if not weights or not all(math.isfinite(w) and w >= 0 for w in [*weights.values(), index.default]):
        raise TableError(f"the harm index {where} needs at least one weight, each a finite number of 0 or more")
    unknown = sorted(set(index.aliases.values()) - set(weights))
    if unknown:
        raise TableError(f"the harm index {where} has aliases for categories it gives no weight: {unknown}")
    return index
