"""Ready mapping specs for common partner files; see docs/mapping.md."""

from __future__ import annotations

from pathlib import Path

MAPPINGS_DIR = Path(__file__).resolve().parent


def mapping_path(name: str) -> Path:
    """The path of a ready mapping by name, e.g. ``police_uk_street``."""
    path = MAPPINGS_DIR / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml")))
        raise FileNotFoundError(f"no ready mapping {name!r}; there are: {known}")
    return path
