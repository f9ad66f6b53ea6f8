"""Python's cycle collector held off while a bulk job builds millions of objects that form no cycles.

The collector makes a full pass over every tracked object each time their number has grown by a
quarter since the last pass, so a job that builds a million incidents (tuples, each tracked) makes
pass after pass over a heap that keeps growing, and finds nothing: an incident refers to strings and
shared tuples, never back. On a strategic assessment over 1M incidents that was half its time
(bench/RESULTS.md). Rows read in bulk cannot form cycles, so the collector waits until the job ends.

Pausing is process-wide, so it is counted: the first job in pauses the collector (if it was running),
and the last one out starts it again. Reference counting still frees everything that is not in a cycle.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_jobs = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold off the cycle collector for the duration; usable as a decorator.

    >>> import gc
    >>> with collector_paused():
    ...     with collector_paused():
    ...         pass
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    global _jobs, _was_enabled
    with _lock:
        if _jobs == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _jobs += 1
    try:
        yield
    finally:
        with _lock:
            _jobs -= 1
            if _jobs == 0 and _was_enabled:
                gc.enable()
