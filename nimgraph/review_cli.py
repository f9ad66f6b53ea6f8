"""``nimgraph review``, ``nimgraph tasking-pack`` and ``nimgraph problem-page``: the loop's views from the
command line, the same products as the API's, as a chosen role would see them, each run audited."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from nimgraph.access.pseudonyms import Pseudonyms
from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.cli_common import CommandError, audit_command, command_settings, open_audit_log
from nimgraph.exports.tables import product_workbook
from nimgraph.ontology import default_model
from nimgraph.private_files import write_private_bytes, write_private_text
from nimgraph.products.common import ProductError
from nimgraph.products.operational_review import ReviewError, build_review, question_from, review_html
from nimgraph.products.tasking_pack import (
    build_problem_page,
    build_tasking_pack,
    problem_page_html,
    tasking_pack_html,
)
from nimgraph.store import open_store
from nimgraph.tasking.writes import RecordError


def _view(settings, store, model, role_name: str) -> ClearedView:
    clearance = clearance_for(Role(role_name))
    pseudonyms = Pseudonyms(settings.access_db, settings.secret("pseudonym_key")) if clearance.pseudonymised else None
    return ClearedView(store, model, clearance, pseudonyms)


def _emit(text: str, output: str | None) -> None:
    if output:
        write_private_text(output, text)
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _question(path: str):
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ReviewError(f"{path} is not JSON: {err.msg} at line {err.lineno}") from None
    return question_from(data)


def cmd_views(args: argparse.Namespace) -> int:

    settings = command_settings(args)
    model = default_model()
    command = args.command if args.command != "review" else f"review-{args.review_command}"
    purpose = getattr(args, "purpose", None)
    if purpose is not None and len(purpose.strip()) < 3:
        raise CommandError("--purpose must say why you are reading it (at least 3 characters), for the audit log")
    log = open_audit_log(settings)
    store = open_store(settings.store, model, settings)
    action = command.upper()
    try:
        try:
            if command == "review-save":
                from nimgraph.tasking.reviews import save_review

                question, reviewed = _question(args.question)
                author = args.author or getpass.getuser()
                written, _, code = save_review(
                    store, model, question, reviewed=reviewed, author=author, title=args.title,
                    conclusion=args.conclusion, lessons=args.lessons, handling=args.handling,
                )  # fmt: skip
                audit_command(
                    log, action, f"{args.title} by {author}", items=[written.id, *([reviewed] if reviewed else [])]
                )
                print(f"{written.id} (stored under handling code {code})")
                return 0
            if args.format == "xlsx" and not args.output:
                raise CommandError("an xlsx workbook needs --output FILE.xlsx")
            view = _view(settings, store, model, args.role)
            if command == "review-measure":
                question, reviewed = _question(args.question)
                review = build_review(view, model, question, reviewed=reviewed)
                data, page_of = json.loads(review.to_json()), lambda: review_html(review)
            elif command == "tasking-pack":
                pack = build_tasking_pack(view, model, as_of=args.as_of, days=args.days)
                data, page_of = pack.to_dict(), lambda: tasking_pack_html(pack)
            else:
                page = build_problem_page(view, model, args.id)
                if page is None:
                    raise ProductError(f"no problem {args.id!r} that the {args.role} role may see")
                data, page_of = page.to_dict(), lambda: problem_page_html(page)
            audit_command(log, action, f"as {args.role} format={args.format}", purpose or "", sorted(view.released))
            if args.format == "xlsx":
                write_private_bytes(args.output, product_workbook(data))
                print(f"wrote {args.output} (its tables, a sheet each)", file=sys.stderr)
            else:
                _emit(page_of() if args.format == "html" else json.dumps(data, indent=2), args.output)
            return 0
        except (ReviewError, RecordError, ProductError) as err:
            # a refusal is logged as the API logs one: who, what was asked, and that it was refused
            audit_command(
                log, f"{action}-REFUSED", getattr(args, "question", None) or getattr(args, "id", ""), purpose or ""
            )
            raise CommandError(str(err)) from None
    finally:
        store.close()


def add_commands(commands: argparse._SubParsersAction) -> None:
    roles = [r.value for r in Role]

    def reader(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--purpose", required=True, help="why you are reading it, for the audit log")
        parser.add_argument("--role", choices=roles, default=Role.ANALYST.value, help="as this role would see it")
        parser.add_argument("--format", choices=["json", "html", "xlsx"], default="html")
        parser.add_argument("--output", "-o", help="file to write (default: standard output; xlsx needs one)")
        parser.set_defaults(run=cmd_views)

    review = commands.add_parser("review", help="operational review: did it work? (WDQ, WDD, TNE, Poisson)")
    review_commands = review.add_subparsers(dest="review_command", required=True)
    measure = review_commands.add_parser("measure", help="measure an intervention from a question file (JSON)")
    measure.add_argument("question", help="JSON: target, buffer, control, before, after, categories (docs/tasking.md)")
    reader(measure)
    save = review_commands.add_parser("save", help="measure and store a review against what it reviews")
    save.add_argument("question", help="JSON as for measure, with 'reviewed': the id of what it reviews")
    save.add_argument("--title", required=True)
    save.add_argument("--conclusion")
    save.add_argument("--lessons")
    save.add_argument("--handling", choices=["P", "C"], default="P", help="raised to C when the evidence is C")
    save.add_argument("--author", help="who concludes (default: your user name)")
    save.set_defaults(run=cmd_views)

    pack = commands.add_parser("tasking-pack", help="the pack for a tasking and co-ordination meeting")
    pack.add_argument("--as-of", metavar="YYYY-MM-DD", help="the meeting's day (default today)")
    pack.add_argument("--days", type=int, default=28, help="days of activity before it (default 28)")
    reader(pack)
    page = commands.add_parser("problem-page", help="a problem's page: activities over its incident trend, taskings")
    page.add_argument("id")
    reader(page)
