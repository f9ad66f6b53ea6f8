"""The record ids a file has given so far, to tell a row that repeats an earlier row's record id.

A file of millions of records would hold millions of id strings (about 170 bytes each with their
dict entry) for as long as it is read, so the ids seen are kept as 128-bit hashes with the row that
first gave them: 24 bytes each, in sorted runs that are searched a block of rows at a time. Two
different ids share a hash with a chance of about n² / 2¹²⁹ (under 10⁻²⁴ for ten million records),
and within a block the ids themselves are compared.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

_KEY = np.dtype("S16")  # a hash pair as 16 bytes: one sortable, searchable value


def _hashes(record_ids: Sequence[str]) -> NDArray[np.bytes_]:
    """Each id's 128 bits: Python's string hash of the id, and of the id behind a NUL (a second,
    independent SipHash; both keyed by this process's hash seed, which is all a file's run needs)."""
    pairs = np.empty((len(record_ids), 2), dtype=np.int64)
    pairs[:, 0] = [hash(r) for r in record_ids]
    pairs[:, 1] = [hash("\0" + r) for r in record_ids]
    return pairs.view(_KEY).ravel()


class RecordIds:
    """The first row of each record id, asked a block of rows at a time.

    >>> seen = RecordIds()
    >>> seen.first_rows([2, 3, 4], ["a", "b", "a"])
    [None, None, 2]
    >>> seen.first_rows([5, 6], ["b", "c"])
    [3, None]
    >>> seen.first_rows([7], ["c"]), len(seen)
    ([6], 3)
    """

    def __init__(self) -> None:
        # Runs of (hash, first row), each sorted by hash; a run is merged into the one before it once
        # as large, so there are about log2(n) runs to search.
        self._runs: list[tuple[NDArray[np.bytes_], NDArray[np.int64]]] = []

    def __len__(self) -> int:
        return sum(len(keys) for keys, _rows in self._runs)

    def first_rows(self, rows: Sequence[int], record_ids: Sequence[str]) -> list[int | None]:
        """For each row in order, the earlier row that first gave its record id, or None if it is the first."""
        found: list[int | None] = [None] * len(rows)
        if not rows:
            return found
        hashes = _hashes(record_ids)
        for keys, first in self._runs:
            at = np.searchsorted(keys, hashes).clip(max=len(keys) - 1)
            for i in np.flatnonzero(keys[at] == hashes).tolist():
                found[i] = int(first[at[i]])
        new: dict[str, int] = {}  # within the block, by the ids themselves
        fresh: list[int] = []
        for i, (row, record_id) in enumerate(zip(rows, record_ids, strict=True)):
            if found[i] is not None:
                continue
            earlier = new.setdefault(record_id, row)
            if earlier != row:
                found[i] = earlier
            else:
                fresh.append(i)
        if fresh:
            self._add(hashes[fresh], np.asarray(rows, dtype=np.int64)[fresh])
        return found

    def _add(self, keys: NDArray[np.bytes_], rows: NDArray[np.int64]) -> None:
        order = np.argsort(keys, kind="stable")
        self._runs.append((keys[order], rows[order]))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= len(self._runs[-1][0]):
            (keys_a, rows_a), (keys_b, rows_b) = self._runs.pop(-2), self._runs.pop()
            keys, rows = np.concatenate([keys_a, keys_b]), np.concatenate([rows_a, rows_b])
            order = np.argsort(keys, kind="stable")
            self._runs.append((keys[order], rows[order]))
