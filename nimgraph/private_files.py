"""Files that hold partnership data, readable and writable by their owner alone (mode 0600).

A product, an export, a rejects file or a store holds personal data. Made with the process's
umask, as ``open`` and ``sqlite3.connect`` make files, each would commonly be readable by every
user of the machine. Writing goes through here instead: a new file is made owner-only, and an
output that was there before is replaced by a new owner-only file. SQLite makes a
database's write-ahead log and shared-memory files with the database file's own mode, so a store
made here keeps those private too.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO, Any

PRIVATE = 0o600


def open_private(path: Path | str, mode: str = "w", **options: Any) -> IO[Any]:
    """``open(path, mode, **options)`` for writing from the start (``"w"`` or ``"wb"``), the file owner-only.

    A regular file already at ``path`` (or where a symbolic link there points) is removed and made
    anew rather than cut down and rewritten: a reader who held the old one open reads only what it
    held, and a file this user may not remove is refused before anything in it is lost. What is
    not a regular file (a terminal, a pipe, ``/dev/null``) is written as it is, its mode untouched.

    >>> import tempfile, stat
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "product.html").write_text("made before, with the umask's mode")
    34
    >>> (folder / "product.html").chmod(0o644)
    >>> with open_private(folder / "product.html", encoding="utf-8") as out:
    ...     _ = out.write("<p>profile</p>")
    >>> oct(stat.S_IMODE((folder / "product.html").stat().st_mode)), (folder / "product.html").read_text()
    ('0o600', '<p>profile</p>')
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"open_private writes a file from the start ('w' or 'wb'), not {mode!r}")
    try:
        held = os.stat(path)
    except FileNotFoundError:
        held = None
    if held is not None and not stat.S_ISREG(held.st_mode):
        return open(path, mode, **options)
    target = os.path.realpath(path)  # a link stays, and what it points to is made anew
    if held is not None:
        os.unlink(target)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), PRIVATE)
    try:
        return os.fdopen(descriptor, mode, **options)
    except BaseException:
        os.close(descriptor)
        raise


def write_private_text(path: Path | str, text: str) -> None:
    """``Path(path).write_text(text, encoding="utf-8")``, the file owner-only."""
    with open_private(path, "w", encoding="utf-8") as out:
        out.write(text)


def write_private_bytes(path: Path | str, data: bytes) -> None:
    """``Path(path).write_bytes(data)``, the file owner-only."""
    with open_private(path, "wb") as out:
        out.write(data)


def create_private(path: Path | str) -> None:
    """Make ``path`` an empty owner-only file if nothing is there, for SQLite to open as a new database.

    A file already there is left as it is: its owner chose its mode. SQLite's own names for a
    database in memory (``:memory:``, ``file:`` URIs) are not files, and are left to SQLite.

    >>> import tempfile, stat
    >>> store = Path(tempfile.mkdtemp()) / "graph.db"
    >>> create_private(store)
    >>> oct(stat.S_IMODE(store.stat().st_mode)), store.stat().st_size
    ('0o600', 0)
    """
    if str(path) == ":memory:" or str(path).startswith("file:"):
        return
    with contextlib.suppress(FileExistsError):  # a link to nowhere: its target is made, owner-only
        os.close(os.open(os.path.realpath(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
