"""neo4j-admin for the bulk first load: the database must be empty and the server stopped (Neo4j
Community imports only into a stopped database that does not exist yet); then the import, and the
server started again.

The command is ``NIMGRAPH_NEO4J_ADMIN`` (a path or a command line). The tests give it
``scripts/neo4j.sh admin``, which runs the same import tool from the Maven artifacts against the
throwaway server's data directory.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Callable

from nimgraph.exports.neo4j_bulk import ImportFiles
from nimgraph.store.errors import StoreConfigError, StoreError, StoreUnavailableError
from nimgraph.store.neo4j import Neo4jStore

TAIL = 25  # lines of neo4j-admin's output shown when it fails


class BulkImportError(StoreError):
    """The import could not run or did not finish; the message says why and how to fix it."""


def admin_command(setting: str) -> list[str]:
    """The neo4j-admin command line, checked to exist."""
    argv = shlex.split(setting)
    if not argv or shutil.which(argv[0]) is None:
        raise BulkImportError(
            f"neo4j-admin not found: NIMGRAPH_NEO4J_ADMIN is {setting!r}. Set it to the neo4j-admin of the "
            "Neo4j server that holds the database, e.g. /var/lib/neo4j/bin/neo4j-admin or "
            "$NEO4J_HOME/bin/neo4j-admin, and run this on that server's machine"
        )
    return argv


def check_stopped_and_empty(connect: Callable[[], Neo4jStore], uri: str, database: str) -> None:
    """Refuse unless the server at ``uri`` does not answer (stopped); if it answers, say why it must not."""
    try:
        store = connect()
    except StoreUnavailableError:
        return  # stopped, as the import needs; neo4j-admin itself refuses a database in use or already there
    except StoreConfigError as err:  # it answered, refusing the credentials: it is running
        raise BulkImportError(f"{err}. The bulk load needs the server stopped anyway: stop Neo4j first") from None
    try:
        nodes = store.node_count()
    finally:
        store.close()
    if nodes:
        raise BulkImportError(
            f"database {database!r} at {uri} is not empty ({nodes:,} nodes): a bulk load only fills an empty "
            "database. Add these files with nimgraph ingest instead, or load them into a new, empty database"
        )
    raise BulkImportError(
        f"Neo4j at {uri} is running: Neo4j Community imports only while the server is stopped. Stop it "
        "(neo4j stop, or neo4j-admin server stop) and run this again; it starts the server after the import"
    )


def run_import(admin: list[str], database: str, files: ImportFiles, say: Callable[[str], None]) -> None:
    """``neo4j-admin database import full`` of ``files`` into ``database``, its output passed to ``say``."""
    argv = [*admin, "database", "import", "full", database, *files.arguments()]  # the file lists take the rest
    tail: deque[str] = deque(maxlen=TAIL)
    try:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as err:
        raise BulkImportError(f"cannot run {admin[0]}: {err.strerror}; check NIMGRAPH_NEO4J_ADMIN") from None
    assert process.stdout is not None
    for line in process.stdout:
        say(line.rstrip("\n"))
        if not line.startswith(("\tat ", "    at ")):  # the lines that say something, not a Java stack
            tail.append(line.rstrip("\n"))
    if process.wait() == 0:
        return
    output = "\n".join(tail)
    lowered = output.lower()
    if "already exist" in lowered or "overwrite-destination" in lowered:
        fix = (
            f"database {database!r} already exists: neo4j-admin imports only into a database that does not "
            "exist yet. If it holds nothing you need (a new server started once), stop Neo4j and delete "
            f"data/databases/{database} and data/transactions/{database} under its home, then run this again; "
            "if it holds data, use nimgraph ingest instead"
        )
    elif "lock" in lowered or "in use" in lowered or "running" in lowered:
        fix = (
            f"database {database!r} is in use: Neo4j Community imports only while the server is stopped. "
            "Stop it and run this again"
        )
    else:
        fix = f"neo4j-admin database import full failed (exit {process.returncode}); see its report in {files.folder}"
    raise BulkImportError(f"{fix}\nneo4j-admin said:\n{output}")


def start_server(admin: list[str]) -> None:
    """``neo4j-admin server start``."""
    process = subprocess.Popen([*admin, "server", "start"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    said, _ = process.communicate()
    if process.returncode != 0:
        raise BulkImportError(
            f"the import finished, but neo4j-admin server start failed (exit {process.returncode}): "
            f"{said.strip()[-2000:]}\n"
            "Start Neo4j yourself, then run nimgraph neo4j init to create the constraints and indexes"
        )


def wait_for(connect: Callable[[], Neo4jStore], uri: str, seconds: float) -> Neo4jStore:
    """The store once the server answers, trying for up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return connect()
        except StoreUnavailableError:
            if time.monotonic() >= deadline:
                raise BulkImportError(
                    f"the import finished, but Neo4j at {uri} did not answer within {seconds:.0f} s of starting. "
                    "Once it answers, run nimgraph neo4j init to create the constraints and indexes"
                ) from None
            time.sleep(1)


__all__ = ["BulkImportError", "admin_command", "check_stopped_and_empty", "run_import", "start_server", "wait_for"]
