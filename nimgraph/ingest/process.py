"""Run one piece of an ingest in a process of its own, and hear what it sends as it goes.

Mapping a file and writing it are both mostly Python; on threads the GIL runs them one at a
time. In a second process the mapping runs on the other core while this one writes, and the
pipe between them holds little, so a mapping that gets ahead waits for the writer (memory stays
bounded). The child is spawned, not forked: a server's threads and open connections are not copied
into it.
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
import queue
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

Result = TypeVar("Result")
Send = Callable[[Any], None]

_SENT, _DONE, _FAILED = "sent", "done", "failed"


class ProcessError(RuntimeError):
    """The child process ended without saying why (killed, or out of memory)."""


class InProcess(Generic[Result]):
    """A spawned process for one ``work(send, *args)``, made before its ``args`` are known.

    Made ahead of time (while an ingest writes the file before), its spawn and the imports ``work``
    needs overlap what runs now, and it touches nothing until ``start`` gives it its ``args``.
    ``collect`` then makes each ``send(x)`` there a ``take(x)`` here, in order, and returns what
    ``work`` returned or raises what it raised; if ``take`` raises (a write failed, the caller gave
    up), the process is stopped before the error goes on. ``stop`` ends it, whether or not it was
    given work, and may be called more than once. ``work`` is a module-level function, and it and
    the ``args`` must pickle.
    """

    def __init__(self, work: Callable[..., Result]) -> None:
        context = multiprocessing.get_context("spawn")
        self.receiving, sending = context.Pipe(duplex=False)
        given, self.giving = context.Pipe(duplex=False)
        self.child = context.Process(target=_run, args=(sending, given, work), name="nimgraph-map", daemon=True)
        self.child.start()
        sending.close()  # only the child holds the sending end now: its exit is our EOF
        given.close()

    def start(self, args: tuple) -> None:
        """Give the process its work's ``args``: it begins at once."""
        self.giving.send(args)

    def collect(self, take: Callable[[Any], None]) -> Result:
        """Take each message as it comes, in order; return the work's result, or raise its error."""
        try:
            while True:
                try:
                    kind, payload = self.receiving.recv()
                except (EOFError, OSError):  # OSError: it ended partway through a message
                    self.child.join()
                    raise ProcessError(
                        f"the mapping process stopped without finishing (exit code {self.child.exitcode}): "
                        "if the machine ran short of memory, try a smaller batch size"
                    ) from None
                if kind == _SENT:
                    take(payload)
                elif kind == _DONE:
                    return payload
                else:
                    raise payload
        finally:
            self.stop()

    def stop(self) -> None:
        """End the process (at once, if it is still working) and close our ends of its pipes."""
        self.giving.close()
        self.receiving.close()
        if self.child.is_alive():
            self.child.terminate()
        self.child.join()


# Mapping makes a few short-lived dicts and tuples per row and no reference cycles, so the cyclic
# collector's default (a pass every 700 allocations, scanning ever more survivors) only costs time:
# about a fifth of a street-crime file's mapping on one core.
CHILD_GC_THRESHOLDS = (100_000, 50, 100)


def _run(sending: Connection, given: Connection, work: Callable[..., Any]) -> None:
    try:
        args = given.recv()
    except EOFError:  # stopped before it was given work
        return
    given.close()
    gc.freeze()  # what the imports and the work's arguments made lives as long as the work: no pass need look
    gc.set_threshold(*CHILD_GC_THRESHOLDS)
    outbox = _Outbox(sending)
    try:
        outcome = (_DONE, work(outbox.send, *args))
    except BaseException as err:  # whatever stopped the work is the caller's to see
        outcome = (_FAILED, _portable(err))
    try:
        outbox.put(outcome)
    except (pickle.PicklingError, AttributeError, TypeError) as err:  # what the work returned cannot travel
        outbox.put((_FAILED, RuntimeError(f"the mapping process could not send back its outcome: {err}")))
    finally:
        outbox.close()


class _Outbox:
    """The child's end: messages pickled here, written to the pipe by a thread of their own.

    The pipe holds less than one batch, so a plain send would stop the work until the caller has
    taken the batch before; with ``DEPTH`` messages waiting here, the work goes on meanwhile (and
    no further: memory stays bounded). Writing to the pipe lets go of the GIL.
    """

    DEPTH = 2

    def __init__(self, sending: Connection) -> None:
        self.sending = sending
        self.waiting: queue.Queue[bytes | None] = queue.Queue(maxsize=self.DEPTH)
        self.broken = False
        self.thread = threading.Thread(target=self._write, name="nimgraph-map-send", daemon=True)
        self.thread.start()

    def send(self, payload: Any) -> None:
        self.put((_SENT, payload))

    def put(self, message: tuple[str, Any]) -> None:
        if self.broken:
            raise BrokenPipeError("the ingest that started this mapping process has stopped listening")
        self.waiting.put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def _write(self) -> None:
        while (message := self.waiting.get()) is not None:
            if not self.broken:
                try:
                    self.sending.send_bytes(message)
                except OSError:  # the caller has gone: take the rest, so the work is never stuck putting
                    self.broken = True

    def close(self) -> None:
        self.waiting.put(None)
        self.thread.join()
        self.sending.close()


def _portable(err: BaseException) -> BaseException:
    """``err`` if it survives the pipe, else a RuntimeError with its words (an exception whose
    arguments do not match its constructor does not unpickle).

    >>> _portable(ValueError("bad row")).args
    ('bad row',)
    >>> class Awkward(Exception):
    ...     def __init__(self, a, b):
    ...         super().__init__(f"{a} and {b}")
    >>> _portable(Awkward(1, 2))
    RuntimeError('Awkward: 1 and 2')
    """
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:  # any failure to travel gets the same plain stand-in
        return RuntimeError(f"{type(err).__name__}: {err}")
    return err
