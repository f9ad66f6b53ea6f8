"""``nimgraph export anx|graphml|gexf``: a part of the graph, or all of it, for i2, Gephi and the like.

Each reads through a role's cleared view (``--role``, default analyst; a researcher's export is
pseudonymised), states the most restrictive handling code of what it holds, and is written to the
audit log with its purpose and the entities it holds. The selection flags are the API's
(``GET /exports/{format}``): ``--around`` with ``--hops``, ``--within``, ``--chart``, ``--problem``,
``--profile``, or none for the whole graph.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nimgraph.access.charts import Charts, owner
from nimgraph.access.pseudonyms import Pseudonyms
from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.cli_common import CommandError, audit_command, command_settings, open_audit_log
from nimgraph.exports.anx import IconTable
from nimgraph.ontology import default_model
from nimgraph.private_files import write_private_bytes
from nimgraph.products.common import NotVisible, ProductError
from nimgraph.products.exporting import GRAPH_FORMATS, Selection, export_graph
from nimgraph.store import open_store

MAX_HOPS = 4


def _hops(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_HOPS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {MAX_HOPS}")
    return int(text)


def _chart_ids(args: argparse.Namespace, settings, role: Role) -> tuple[str, ...]:
    charts = Charts(settings.access_db)
    try:
        saved = charts.get(owner(args.holder, clearance_for(role)), args.chart)
    finally:
        charts.close()
    if saved is None:
        raise CommandError(f"no chart {args.chart!r} saved by {args.holder!r} as {role}")
    return tuple(str(node["id"]) for node in saved.body.get("nodes", []))


def cmd_export_graph(args: argparse.Namespace) -> int:
    """An export, audited whether it is written or refused (a refusal names what was asked)."""
    try:
        return _export(args)
    except (CommandError, ProductError) as refused:
        settings = command_settings(args)
        asked = [*(args.around or []), *(args.within or []), args.chart, args.problem, args.profile]
        what = f"{args.export_command} as {args.role} refused: {refused}"
        audit_command(open_audit_log(settings), "EXPORT-REFUSED", what[:2000], args.purpose, [a for a in asked if a])
        raise


def _export(args: argparse.Namespace) -> int:
    settings = command_settings(args)
    model = default_model()
    role = Role(args.role)
    clearance = clearance_for(role)
    if args.chart and not args.holder:
        raise CommandError("--chart needs --holder: the key holder who saved it, as the audit log names them")
    icons = IconTable.load(args.icons or settings.i2_icons)
    unknown = icons.unknown_types(model)
    if unknown:
        print(f"note: the icon table names types the ontology lacks: {', '.join(unknown)}", file=sys.stderr)
    log = open_audit_log(settings)
    pseudonyms = Pseudonyms(settings.access_db, settings.secret("pseudonym_key")) if clearance.pseudonymised else None
    store = open_store(settings.store, model, settings)
    try:
        view = ClearedView(store, model, clearance, pseudonyms)
        within = tuple(args.within or ())
        if args.chart:  # what of the chart the role may see now; the rest is left out, as the workbench does
            within = tuple(i for i in _chart_ids(args, settings, role) if view.get(i) is not None)
            if not within:
                raise CommandError(f"nothing of chart {args.chart!r} is there for the {role} role now")
        selection = Selection(
            around=tuple(args.around or ()),
            hops=args.hops,
            within=within,
            problem=args.problem,
            profile=args.profile,
            link_types=tuple(args.link_type or ()),
        )
        try:
            made = export_graph(
                view, model, selection, args.export_command, icons=icons, say=lambda step: print(step, file=sys.stderr)
            )
        except NotVisible as missing:
            raise CommandError(f"no entity {missing.args[0]!r} that the {role} role may see") from None
        view.release_only(made.shown, before=set())
        released = sorted(view.released)
    finally:
        store.close()
        if pseudonyms is not None:
            pseudonyms.close()
    output = Path(args.output or made.filename)
    write_private_bytes(output, made.content)
    what = f"{args.export_command} as {role} to {output}: {made.description}; handling {made.handling}"
    audit_command(log, "EXPORT", what, args.purpose, released)
    print(
        f"Wrote {made.entities:,} entities and {made.links:,} links to {output} ({made.format.description}). "
        f"Handling code: {made.handling}; share it only as that code allows.",
        file=sys.stderr,
    )
    return 0


def add_commands(export_commands: argparse._SubParsersAction) -> None:
    for name, chosen in GRAPH_FORMATS.items():
        command = export_commands.add_parser(name, help=chosen.description)
        command.add_argument("--purpose", required=True, help="why you are exporting it, for the audit log")
        command.add_argument(
            "--role", default=Role.ANALYST.value, choices=[r.value for r in Role], help="export as this role sees it"
        )
        command.add_argument("--output", "-o", help=f"file to write (default: nimgraph-export{chosen.suffix})")
        chosen_part = command.add_argument_group("what to export (default: the whole graph)")
        chosen_part.add_argument("--around", action="append", metavar="ID", help="what lies near this (repeatable)")
        chosen_part.add_argument("--hops", type=_hops, default=2, help=f"with --around: how far (1-{MAX_HOPS}, 2)")
        chosen_part.add_argument("--within", action="append", metavar="ID", help="exactly these entities (repeatable)")
        chosen_part.add_argument("--chart", metavar="CHART_ID", help="a saved workbench chart's entities")
        chosen_part.add_argument("--holder", help="with --chart: the key holder who saved it")
        chosen_part.add_argument("--problem", metavar="ID", help="what a problem's scope reaches")
        chosen_part.add_argument("--profile", metavar="PERSON_ID", help="a subject profile's network")
        chosen_part.add_argument("--link-type", action="append", metavar="TYPE", help="only links of this type")
        if name == "anx":
            command.add_argument(
                "--icons", metavar="YAML", help="your own table of i2 icon types (see docs/exports.md)"
            )
        else:
            command.set_defaults(icons=None)
        command.set_defaults(run=cmd_export_graph)
