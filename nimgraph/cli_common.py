"""What every ``nimgraph`` command shares: its settings, its audit entry and the error that ends it.

Its own module because cli.py registers the command modules (assess_cli, questions_cli, ...) and they need
these: living in cli.py, they made each command module and cli.py import one another.
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from nimgraph.access.audit import AuditEntry, AuditLog
from nimgraph.config import Settings, get_settings


class CommandError(Exception):
    """A command cannot run as asked; the message says what to change."""


def command_settings(args: argparse.Namespace) -> Settings:
    """The settings, with the store and work directory the command line names instead of theirs."""
    overrides = {}
    if getattr(args, "store", None):
        overrides["store"] = args.store
    if getattr(args, "work_dir", None):
        overrides["work_dir"] = Path(args.work_dir)
    return get_settings().model_copy(update=overrides)


def open_audit_log(settings: Settings) -> AuditLog:
    """The API's audit log, opened before the command touches any data, so an unlogged run never starts.

    The command line reaches the store directly, so its ingests, profiles and exports are logged
    in the same keyed chain as the API's reads (DPA 2018 s62), under the operating-system user.
    """
    key = settings.secret("audit_key")
    if not key:
        raise CommandError(
            "this command is written to the audit log, which needs NIMGRAPH_AUDIT_KEY: set it in the "
            "environment or .env (or NIMGRAPH_ENV=development to have one generated)"
        )
    return AuditLog(settings.access_db, key, settings.audit_anchor)


def audit_command(log: AuditLog, action: str, what: str, purpose: str = "", items: list[str] | None = None) -> None:
    """One entry for the command, under the operating-system user; the log is closed after it."""
    try:
        log.append(AuditEntry(f"cli:{getpass.getuser()}", "cli", purpose, action, what, 0, sorted(items or [])))
    finally:
        log.close()
