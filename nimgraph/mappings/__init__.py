"""Ready mapping specs for common partner files; see docs/mapping.md."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

MAPPINGS_DIR: Traversable = files(__name__)


def mapping_path(name: str) -> Traversable:
    """The path of a ready mapping by name, e.g. ``police_uk_street``."""
    path = MAPPINGS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(
            sorted(p.name.removesuffix(".yaml") for p in MAPPINGS_DIR.iterdir() if p.name.endswith(".yaml"))
        )
        raise FileNotFoundError(f"no ready mapping {name!r}; there are: {known}")
    return path
