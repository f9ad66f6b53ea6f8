"""``nimgraph resolve``: record linkage from the command line. ``run`` proposes (an analyst's job, on the
whole store), ``queue`` lists proposals as a role would see them, highest first, with both sides and
the reasons, ``show`` puts one proposal's records side by side with each comparison's weight, and
``accept``, ``reject`` and ``undo`` decide, signed. Every run, read and refusal is audited."""

from __future__ import annotations

import argparse
import getpass
import json

from nimgraph.access.pseudonyms import Pseudonyms
from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.cli_common import CommandError, audit_command, command_settings, open_audit_log
from nimgraph.labels import entity_label
from nimgraph.ontology import default_model
from nimgraph.resolution.linkage import LinkageError
from nimgraph.store import open_store


def cmd_resolve(args: argparse.Namespace) -> int:
    from nimgraph.products.match_review import match_review, side_by_side
    from nimgraph.resolution.proposals import decide, proposals, run_linkage

    settings = command_settings(args)
    model = default_model()
    command = args.resolve_command
    if command in ("queue", "show") and len(args.purpose.strip()) < 3:
        raise CommandError("--purpose must say why you are reading it (at least 3 characters), for the audit log")
    log = open_audit_log(settings)
    store = open_store(settings.store, model, settings)
    action = f"RESOLVE-{command.upper()}"
    try:
        try:
            if command == "run":
                report = run_linkage(store, model, models_dir=settings.work_dir / "resolution" / "models", say=print)
                audit_command(log, action, f"model {report.model_id}", items=[f"proposals:{report.proposed}"])
                print(
                    f"model {report.model_id}: {report.people:,} people, {report.proposed:,} pairs proposed "
                    f"({report.new:,} new; {report.kept_decisions:,} already decided, decisions kept)"
                )
                return 0
            if command in ("queue", "show"):
                clearance = clearance_for(Role(args.role))
                key = settings.secret("pseudonym_key")
                pseudonyms = Pseudonyms(settings.access_db, key) if clearance.pseudonymised else None
                view = ClearedView(store, model, clearance, pseudonyms)
            if command == "show":
                page = match_review(view, model, args.proposal)
                if page is None:  # refused as one that does not exist, and logged as a refusal
                    raise LinkageError(f"no proposal {args.proposal!r} that the {args.role} role may see")
                view.release_only({page["left"]["id"], page["right"]["id"]}, before=set())
                audit_command(log, action, f"{args.proposal} as {args.role}", args.purpose, sorted(view.released))
                print(side_by_side(page))
                return 0
            if command == "queue":
                found = proposals(view, status=args.status, limit=args.limit)
                shown = []
                for proposal in found:
                    sides = [view.get(i) for i in (proposal.left, proposal.right)]
                    labels = [entity_label(model, s) if s else "?" for s in sides]
                    shown.extend(i for i in (proposal.left, proposal.right))
                    reasons = ", ".join(f"{k} {v:+.1f}" for k, v in sorted(proposal.contributions.items()))
                    print(
                        f"{proposal.id}  {proposal.match_probability:.3f}  {proposal.status}  "
                        f"{labels[0]} ({proposal.left})  ~  {labels[1]} ({proposal.right})  [{reasons}]"
                    )
                view.release_only(shown, before=set())
                audit_command(log, action, f"as {args.role}", args.purpose, sorted(view.released))
                return 0
            author = args.analyst or getpass.getuser()
            status = decide(store, model, args.proposal, command, analyst=author)
            audit_command(log, action, f"{args.proposal} by {author}", items=[args.proposal])
            print(json.dumps({"proposal": args.proposal, "status": status, "by": author}))
            return 0
        except LinkageError as err:
            audit_command(
                log, f"{action}-REFUSED", getattr(args, "proposal", "") or command, getattr(args, "purpose", "")
            )
            raise CommandError(str(err)) from None
    finally:
        store.close()


def add_commands(commands: argparse._SubParsersAction) -> None:
    resolve = commands.add_parser("resolve", help="entity resolution: propose, review and decide matches")
    sub = resolve.add_subparsers(dest="resolve_command", required=True)
    sub.add_parser("run", help="train on the store's people and propose pairs (nothing is merged)").set_defaults(
        run=cmd_resolve
    )
    queue = sub.add_parser("queue", help="the proposals, highest first, as a role would see them")
    queue.add_argument("--purpose", required=True, help="why you are reading them, for the audit log")
    queue.add_argument("--role", choices=[r.value for r in Role], default=Role.ANALYST.value)
    queue.add_argument("--status", choices=["Proposed", "Accepted", "Rejected"], default="Proposed")
    queue.add_argument("--limit", type=int, default=50)
    queue.set_defaults(run=cmd_resolve)
    show = sub.add_parser("show", help="one proposal: both records side by side, and each comparison's weight")
    show.add_argument("proposal", help="the proposal's id, from resolve queue")
    show.add_argument("--purpose", required=True, help="why you are reading it, for the audit log")
    show.add_argument("--role", choices=[r.value for r in Role], default=Role.ANALYST.value)
    show.set_defaults(run=cmd_resolve)
    for name, text in (
        ("accept", "accept a proposal: the pair joins a resolved cluster"),
        ("reject", "reject a proposal: it is not proposed again"),
        ("undo", "undo the last decision on a proposal"),
    ):
        decision = sub.add_parser(name, help=text)
        decision.add_argument("proposal", help="the proposal's id, from resolve queue")
        decision.add_argument("--analyst", help="who decides (default: your user name)")
        decision.set_defaults(run=cmd_resolve)
