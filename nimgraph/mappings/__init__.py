"""Ready mapping specs for common partner files; see docs/mapping.md."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from nimgraph.ingest.readers import Source, open_source
from nimgraph.ingest.spec import MappingSpec, load_spec
from nimgraph.ontology import Model

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


def ready_plan(model: Model, folder: Path, files: Iterable[tuple[str, str]]) -> list[tuple[MappingSpec, Source]]:
    """Each ``(mapping name, file name)``: the file in ``folder`` opened with its ready mapping, in
    order, as ``nimgraph.ingest.engine.ingest_plan`` takes them."""
    specs = {name: load_spec(mapping_path(name), model) for name, _ in files}
    return [(specs[name], open_source(folder / filename, specs[name].read)) for name, filename in files]
