"""A store that keeps the batches an ingest would write and writes nothing: mapping timed alone."""

from __future__ import annotations

from collections.abc import Callable

from nimgraph.ids import IdKey
from nimgraph.records import Batch
from nimgraph.store.base import EachWriteCommits


class Capture:
    """Stands in for a GraphStore's ``stage`` so a replay can write the same batches later."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self._ids = IdKey.generate()

    def id_key(self) -> IdKey:
        return self._ids

    def prepare(self) -> list[str]:
        return []

    def register_source(self, name: str, properties: dict[str, str]) -> None:
        pass  # one row per source: nothing to time

    def encoder(self) -> Callable[[Batch], Batch]:
        return self._keep

    def write_group(self) -> EachWriteCommits:
        return EachWriteCommits(lambda _batch: None)  # type: ignore[arg-type,return-value]

    def stage(self, batch: Batch) -> Callable[[], None]:
        self._keep(batch)
        return lambda: None

    def _keep(self, batch: Batch) -> Batch:
        self.batches.append(batch)
        return batch
