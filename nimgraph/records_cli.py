"""``nimgraph record``: the partnership's own records from the command line, as the API writes them.

``new``, ``set``, ``link`` and ``unlink`` write (signed ``--author``, by default the operating-system
user); ``show`` and ``list`` read through a chosen role's cleared view, with a purpose. Every run is
audited, as the API's requests are.
"""

from __future__ import annotations

import argparse
import getpass
import json
from typing import Any

from nimgraph.access.pseudonyms import Pseudonyms
from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.cli_common import CommandError, audit_command, command_settings, open_audit_log
from nimgraph.labels import entity_label
from nimgraph.ontology import Model, default_model
from nimgraph.products.record_page import record_page, records_of
from nimgraph.store import open_store
from nimgraph.tasking.kinds import KINDS, kind_named
from nimgraph.tasking.writes import RecordError, add_links, create, remove_link, update


def _value(model: Model, name: str, text: str) -> Any:
    """Command-line text as the property's datatype wants it (the write checks it again)."""
    prop = model.properties.get(name)
    if prop is None or prop.datatype not in ("number", "integer", "boolean"):
        return text
    if prop.datatype == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise RecordError(f"{prop.label} must be true or false, not {text!r}")
    try:
        return int(text) if prop.datatype == "integer" else float(text)
    except ValueError:
        raise RecordError(
            f"{prop.label} must be a {'whole ' if prop.datatype == 'integer' else ''}number, not {text!r}"
        ) from None


def _pairs(items: list[str] | None, what: str) -> list[tuple[str, str]]:
    pairs = []
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise RecordError(f"{what} takes name=value, not {item!r}")
        pairs.append((name.strip(), value))
    return pairs


def _properties(model: Model, args: argparse.Namespace) -> dict[str, Any]:
    values: dict[str, Any] = {name: _value(model, name, text) for name, text in _pairs(args.set, "--set")}
    for name in getattr(args, "unset", None) or []:
        values[name] = None
    return values


def cmd_record(args: argparse.Namespace) -> int:

    settings = command_settings(args)
    model = default_model()
    reading = args.record_command in ("show", "list")
    if reading and len(args.purpose.strip()) < 3:
        raise CommandError("--purpose must say why you are reading it (at least 3 characters), for the audit log")
    log = open_audit_log(settings)
    store = open_store(settings.store, model, settings)
    try:
        try:
            if reading:
                return _read(args, store, model, settings, log)
            return _write(args, store, model, log)
        except (RecordError, KeyError) as err:
            # a refusal is logged as the API logs one: who, what was asked, and that it was refused
            asked = getattr(args, "id", None) or getattr(args, "kind", "")
            audit_command(
                log, f"RECORD-{args.record_command.upper()}-REFUSED", str(asked), getattr(args, "purpose", "")
            )
            raise CommandError(str(err.args[0] if isinstance(err, KeyError) else err)) from None
    finally:
        store.close()


def _write(args: argparse.Namespace, store, model: Model, log) -> int:

    author = args.author or getpass.getuser()
    command = args.record_command
    if command == "new":
        kind = kind_named(args.kind)
        links: dict[str, list[str]] = {}
        for field, target in _pairs(args.link, "--link"):
            links.setdefault(field, []).append(target)
        written = create(
            store,
            model,
            kind,
            _properties(model, args),
            links,
            author=author,
            handling=args.handling,
            type_name=args.type,
        )
        audit_command(log, "RECORD-NEW", f"{kind.name} by {author}", items=[written.id])
        print(written.id)
    elif command == "set":
        written = update(store, model, args.id, _properties(model, args), author=author, handling=args.handling)
        audit_command(log, "RECORD-SET", f"{args.id} by {author}", items=[args.id])
        print(f"{args.id}: changed ({written.record_id})")
    elif command == "link":
        made = add_links(store, model, args.id, args.field, args.targets, author=author, handling=args.handling)
        audit_command(log, "RECORD-LINK", f"{args.id} {args.field} by {author}", items=[args.id, *args.targets])
        print(f"{args.id}: {len(made)} link(s) under {args.field}")
    else:
        withdrawn = remove_link(store, model, args.id, args.field, args.target)
        audit_command(log, "RECORD-UNLINK", f"{args.id} {args.field} by {author}", items=[args.id, args.target])
        print(f"{args.id}: {withdrawn} record(s) of the link withdrawn" if withdrawn else f"{args.id}: no such link")
        return 0 if withdrawn else 1
    return 0


def _read(args: argparse.Namespace, store, model: Model, settings, log) -> int:

    role = Role(args.role)
    clearance = clearance_for(role)
    pseudonyms = Pseudonyms(settings.access_db, settings.secret("pseudonym_key")) if clearance.pseudonymised else None
    view = ClearedView(store, model, clearance, pseudonyms)
    if args.record_command == "list":
        kind = kind_named(args.kind)
        found = records_of(view, kind, args.text, limit=args.limit)
        audit_command(log, "RECORD-LIST", f"{kind.plural} as {role}", args.purpose, sorted(view.released))
        for entity in found:
            print(f"{entity.id}  {entity_label(model, entity)}")
        return 0
    page = record_page(view, model, args.id)
    audit_command(log, "RECORD-SHOW", f"{args.id} as {role}", args.purpose, sorted(view.released))
    if page is None:
        raise CommandError(f"no priority, meeting, tasking, problem, activity, outcome or review {args.id!r} to show")
    if args.json:
        print(json.dumps(page.as_dict(), indent=2, default=str))
        return 0
    print(f"{page.label}  ({page.kind}, {page.id})")
    for name, value in sorted(page.properties.items()):
        print(f"  {name}: {value}")
    for link in page.links:
        print(f"  {'->' if link.outward else '<-'} {link.role}: {link.label} ({link.id})")
    print("  history:")
    for revision in page.history:
        print(f"    {revision.at}  {revision.author or revision.source}  {revision.handling}  {revision.said}")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    kinds = [kind.name for kind in KINDS]
    record = commands.add_parser("record", help="the partnership's own records: priorities, taskings, activities...")
    record_commands = record.add_subparsers(dest="record_command", required=True)

    def writer(name: str, text: str) -> argparse.ArgumentParser:
        command = record_commands.add_parser(name, help=text)
        command.add_argument("--author", help="who is making the change (default: your user name)")
        command.add_argument(
            "--handling", choices=["P", "C"], help="this change's handling code (default: as strict as the record)"
        )
        command.set_defaults(run=cmd_record)
        return command

    new = writer("new", "write a new record of a kind")
    new.add_argument("kind", choices=kinds)
    new.add_argument("--set", action="append", metavar="NAME=VALUE", help="a property value (repeat)")
    new.add_argument("--link", action="append", metavar="FIELD=ID", help="a link, e.g. problems=Problem-... (repeat)")
    new.add_argument("--type", help="a subtype the kind allows (Project for a problem)")
    change = writer("set", "change values of a record (a new record, signed; the old values stay in its history)")
    change.add_argument("id")
    change.add_argument("--set", action="append", metavar="NAME=VALUE", help="a new value (repeat)")
    change.add_argument("--unset", action="append", metavar="NAME", help="remove a value (repeat)")
    link = writer("link", "link a record to more records under one of its kind's fields")
    link.add_argument("id")
    link.add_argument("field")
    link.add_argument("targets", nargs="+")
    unlink = record_commands.add_parser("unlink", help="withdraw the partnership's records of one link")
    unlink.add_argument("id")
    unlink.add_argument("field")
    unlink.add_argument("target")
    unlink.set_defaults(run=cmd_record)

    for name, text in (("show", "a record with its links and history"), ("list", "the records of a kind")):
        reader = record_commands.add_parser(name, help=text)
        reader.add_argument("--purpose", required=True, help="why you are reading it, for the audit log")
        reader.add_argument("--role", choices=[r.value for r in Role], default=Role.ANALYST.value)
        reader.set_defaults(run=cmd_record)
        if name == "show":
            reader.add_argument("id")
            reader.add_argument("--json", action="store_true", help="the record as JSON")
        else:
            reader.add_argument("kind", choices=kinds)
            reader.add_argument("--text", help="text in the record")
            reader.add_argument("--limit", type=int, default=50)
