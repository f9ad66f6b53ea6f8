"""``nimgraph assess strategic|tactical``: the assessments from the command line, as a role would see them.

The same products as ``GET /assessments/...``, through the same cleared view; each run is audited
with its purpose and the people the product names.
"""

from __future__ import annotations

import argparse
import sys

from nimgraph.access.pseudonyms import Pseudonyms
from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.cli_common import CommandError, audit_command, command_settings, open_audit_log
from nimgraph.ontology import default_model
from nimgraph.private_files import write_private_bytes, write_private_text
from nimgraph.products.assessing import AssessmentSettings
from nimgraph.products.common import NotVisible, ProductError
from nimgraph.store import open_store


def assessment_settings(settings) -> AssessmentSettings:
    return AssessmentSettings.load(
        settings.harm_index,
        settings.priority_matrix,
        tile_url=settings.map_tile_url,
        tile_attribution=settings.map_tile_attribution,
        sections_file=settings.assessment_sections,
    )


def cmd_assess(args: argparse.Namespace) -> int:
    from nimgraph.products import assessment_output
    from nimgraph.products.strategic import build_strategic_assessment
    from nimgraph.products.tactical import build_tactical_assessment

    settings = command_settings(args)
    if len(args.purpose.strip()) < 3:
        raise CommandError("--purpose must say why you are reading it (at least 3 characters), for the audit log")
    model = default_model()
    role = Role(args.role)
    clearance = clearance_for(role)
    log = open_audit_log(settings)
    what = (
        f"{args.kind} assessment as {role}: area={args.area} until={args.until} "
        + (f"months={args.months}" if args.kind == "strategic" else f"days={args.days}")
        + f" format={args.format}"
    )
    tables = assessment_settings(settings)
    pseudonyms = Pseudonyms(settings.access_db, settings.secret("pseudonym_key")) if clearance.pseudonymised else None
    say = (lambda step: None) if args.quiet else (lambda step: print(f"... {step}", file=sys.stderr, flush=True))
    store = open_store(settings.store, model, settings)
    try:
        view = ClearedView(store, model, clearance, pseudonyms)
        try:
            if args.kind == "strategic":
                product = build_strategic_assessment(
                    view, model, tables, area=args.area, until=args.until, months=args.months, progress=say
                )
            else:
                product = build_tactical_assessment(
                    view, model, tables, area=args.area, until=args.until, days=args.days, progress=say
                )
        except (NotVisible, ProductError) as err:
            # a refusal is logged as the API logs one: who, what was asked, and that it was refused
            audit_command(log, f"ASSESS-{args.kind.upper()}-REFUSED", what, args.purpose)
            if isinstance(err, NotVisible):
                raise CommandError(f"no area {err.args[0]!r} that the {role} role may see") from None
            raise CommandError(str(err)) from None
        view.release_only(product.shown, before=set())
        released = sorted(view.released)
    finally:
        store.close()
        if pseudonyms is not None:
            pseudonyms.close()
    if args.format == "xlsx":
        if not args.output:
            raise CommandError("an xlsx workbook needs --output FILE.xlsx")
        write_private_bytes(args.output, assessment_output.to_xlsx(product))
    else:
        if args.format == "html":
            text = assessment_output.to_html(product, tile_url=tables.tile_url, attribution=tables.tile_attribution)
        else:
            import json

            text = json.dumps(product.to_dict(), indent=2, default=str) + "\n"
        if args.output:
            write_private_text(args.output, text)
        else:
            sys.stdout.write(text)
    if args.output:
        print(f"Wrote {args.output}", file=sys.stderr)
    audit_command(log, f"ASSESS-{args.kind.upper()}", what, args.purpose, released)
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    assess = commands.add_parser("assess", help="the strategic or tactical assessment (html, json or xlsx)")
    assess.add_argument("kind", choices=["strategic", "tactical"])
    assess.add_argument("--purpose", required=True, help="why you are reading it, for the audit log")
    assess.add_argument(
        "--role", default=Role.ANALYST.value, choices=[r.value for r in Role], help="build it as this role would see it"
    )
    assess.add_argument("--area", metavar="ID", help="an area's id (default: everything the role may see)")
    assess.add_argument(
        "--until", metavar="YYYY-MM-DD", help="the period's last day (default: the latest incident the role may see)"
    )
    assess.add_argument("--months", type=int, default=12, help="strategic: whole months in the period (default 12)")
    assess.add_argument("--days", type=int, default=14, help="tactical: days in the period (default 14)")
    assess.add_argument("--format", default="html", choices=["html", "json", "xlsx"])
    assess.add_argument("--output", "-o", help="file to write (default: standard output; xlsx needs one)")
    assess.add_argument("--quiet", "-q", action="store_true", help="no progress on standard error")
    assess.set_defaults(run=cmd_assess)
