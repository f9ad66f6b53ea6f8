"""The graph-wide questions on the command line: rank, groups, screen, places, search, paths, connect,
problem-links.

Each takes the API route's parameters under the same names (``--link-types`` for ``link_types``),
answers through the same product function, prints JSON, CSV or a page, and is written to the
audit log with its purpose and the people it released. ``--role`` asks as a role would, through
that role's cleared view (a researcher's answer is pseudonymised), so an answer made here can be
shared as that role would see it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable

from nimgraph.access.pseudonyms import Pseudonyms
from nimgraph.access.roles import FILTERED_NOTICE, Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.cli_common import CommandError, audit_command, command_settings, open_audit_log
from nimgraph.ontology import Core, Model, default_model
from nimgraph.private_files import write_private_bytes, write_private_text
from nimgraph.products import connections, finding
from nimgraph.products.answers import Answer
from nimgraph.products.common import NotVisible
from nimgraph.products.connections import MAX_HOPS, MAX_PATH_HOPS
from nimgraph.products.groupings import METHODS, groups
from nimgraph.products.places import places
from nimgraph.products.problem import linked_problems_answer
from nimgraph.products.rankings import DEFINITIONS, rank
from nimgraph.products.render import answer_html
from nimgraph.products.scope import Projection, Scope, expand_types
from nimgraph.products.screenings import INDICATORS, Links, screen
from nimgraph.store import open_store

Asker = Callable[[ClearedView, Model, argparse.Namespace, Callable[[str], None]], Answer]


def _progress(quiet: bool) -> Callable[[str], None]:
    started = time.monotonic()

    def say(step: str) -> None:
        if not quiet:
            print(f"nimgraph: {step} ({time.monotonic() - started:.1f} s)", file=sys.stderr, flush=True)

    return say


def _between(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``, the API's limits."""

    def number(text: str) -> int:
        if not re.fullmatch(r"-?[0-9]{1,12}", text) or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from {low} to {high}")
        return int(text)

    return number


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number above 0 and at most 100")
    return value


def _scope(args: argparse.Namespace) -> Scope:
    return Scope(
        within=tuple(args.within or ()),
        around=tuple(args.around or ()),
        hops=args.hops,
        area=args.area,
        problem=args.problem,
        since=args.since,
        until=args.until,
        max_entities=args.max_entities,
    )


def _projection(args: argparse.Namespace) -> Projection:
    return Projection(
        types=tuple(args.types or (Core.PERSON,)),
        link_types=tuple(args.link_types or ()),
        via=tuple(args.via or ()),
        max_connector_members=args.max_connector_members,
    )


def _ask_rank(view: ClearedView, model: Model, args: argparse.Namespace, say: Callable[[str], None]) -> Answer:
    return rank(
        view,
        model,
        args.measure,
        scope=_scope(args),
        projection=_projection(args),
        top=args.top,
        weighted=not args.unweighted,
        normalised=not args.raw,
        pivots=args.pivots,
        seed=args.seed,
        workers=args.workers,
        progress=say,
    )


def _ask_groups(view: ClearedView, model: Model, args: argparse.Namespace, say: Callable[[str], None]) -> Answer:
    return groups(
        view,
        model,
        args.method,
        scope=_scope(args),
        projection=_projection(args),
        min_size=args.min_size,
        top=args.top,
        resolution=args.resolution,
        seed=args.seed,
        progress=say,
    )


def _ask_screen(view: ClearedView, model: Model, args: argparse.Namespace, say: Callable[[str], None]) -> Answer:
    links = Links(
        association=tuple(args.association or ()),
        involvement=tuple(args.involvement or ()),
        family=tuple(args.family or ()),
        household=tuple(args.household or ()),
        residence=tuple(args.residence or ()),
    )
    return screen(
        view,
        model,
        args.indicator,
        scope=_scope(args),
        links=links,
        min_associates=args.min_associates,
        min_within_two_hops=args.min_within_two_hops,
        min_triangles=args.min_triangles,
        top=args.top,
        progress=say,
    )


def _ask_places(view: ClearedView, model: Model, args: argparse.Namespace, say: Callable[[str], None]) -> Answer:
    return places(
        view,
        model,
        event_types=tuple(args.event_types or (Core.EVENT,)),
        where=finding.property_filters(model, args.where or []),
        level=args.level,
        area_types=tuple(args.area_types or (Core.AREA,)),
        scope=_scope(args),
        top=args.top,
        progress=say,
    )


def _ask_search(view: ClearedView, model: Model, args: argparse.Namespace, say: Callable[[str], None]) -> Answer:
    if args.linked_by and not args.linked_to:
        raise CommandError("--linked-by needs --linked-to: the entity the links must reach")
    say("searching")
    where = finding.property_filters(model, args.where or [])
    found = finding.find(
        view,
        model,
        type_name=args.type,
        text=args.q,
        where=where,
        linked_to=args.linked_to,
        linked_by=tuple(args.linked_by or ()),
        limit=args.limit,
        offset=args.offset,
    )
    asked = {"type": args.type, "q": args.q, "where": where, "linked_to": args.linked_to, "limit": args.limit}
    return finding.search_answer(found, model, {**asked, "linked_by": args.linked_by, "offset": args.offset})


def _follow(model: Model, names: list[str] | None) -> set[str] | None:
    return expand_types(model, tuple(names), "link") if names else None


def _ask_paths(view: ClearedView, model: Model, args: argparse.Namespace, say: Callable[[str], None]) -> Answer:
    source, target = (finding.resolve(view, model, reference).id for reference in (args.source, args.target))
    say(f"reading around both ends, {args.max_hops} links apart at most")
    network, found = connections.paths_between(
        view,
        source,
        target,
        _follow(model, args.link_types),
        max_hops=args.max_hops,
        limit=args.limit,
        direction=args.direction,
        max_entities=args.max_entities,
    )
    asked = {"from": source, "to": target, "max_hops": args.max_hops, "direction": args.direction}
    return connections.paths_answer(network, found, model, {**asked, "limit": args.limit})


def _ask_connect(view: ClearedView, model: Model, args: argparse.Namespace, say: Callable[[str], None]) -> Answer:
    ids = [finding.resolve(view, model, reference).id for reference in args.entities]
    say(f"reading around {len(ids)} entities")
    network, found = connections.connecting(
        view, ids, _follow(model, args.link_types), max_hops=args.max_hops, max_entities=args.max_entities
    )
    every = [path for paths in found.paths.values() for path in paths]
    asked = {"entities": ids, "max_hops": args.max_hops, "link_types": args.link_types or None}
    answer = connections.paths_answer(network, every, model, asked)
    label = {node: data.get("label", node) for node, data in network.graph.nodes(data=True)}
    answer.notes.extend(
        f"Joins {i['pairs']} pair(s): {label.get(i['id'], i['id'])} ({i['id']})" for i in found.intermediaries
    )
    answer.notes.extend(f"Not connected within {args.max_hops} links: {a} and {b}" for a, b in found.unconnected)
    return answer


def _ask_problem_links(view: ClearedView, model: Model, args: argparse.Namespace, say: Callable[[str], None]) -> Answer:
    say("reading the problem's scope")
    return linked_problems_answer(view, model, args.problem_id, max_entities=args.max_entities)


ASKERS: dict[str, Asker] = {
    "rank": _ask_rank,
    "groups": _ask_groups,
    "screen": _ask_screen,
    "places": _ask_places,
    "search": _ask_search,
    "paths": _ask_paths,
    "connect": _ask_connect,
    "problem-links": _ask_problem_links,
}


def cmd_question(args: argparse.Namespace) -> int:
    if args.format == "xlsx" and not args.output:
        raise CommandError("--format xlsx writes a workbook: give the file with --output")
    settings = command_settings(args)
    model = default_model()
    role = Role(args.role)
    clearance = clearance_for(role)
    log = open_audit_log(settings)
    pseudonyms = Pseudonyms(settings.access_db, settings.secret("pseudonym_key")) if clearance.pseudonymised else None
    if getattr(args, "workers", None) is None:
        args.workers = settings.analysis_workers
    store = open_store(settings.store, model, settings)
    try:
        view = ClearedView(store, model, clearance, pseudonyms)
        try:
            answer = ASKERS[args.command](view, model, args, _progress(args.quiet))
        except NotVisible as missing:
            raise CommandError(f"no entity {missing.args[0]!r} that the {role} role may see") from None
        except ValueError as err:
            raise CommandError(str(err)) from None
        view.release_only(answer.shown(), before=set())  # whom the answer shows, not all it read
        released = sorted(view.released)
    finally:
        store.close()
        if pseudonyms is not None:
            pseudonyms.close()
    # the API's notice, as an answer made for a role may be passed on to someone holding it
    notice = FILTERED_NOTICE if clearance.filtered and settings.clearance_notice else None
    if args.format == "xlsx":
        write_private_bytes(args.output, answer.to_xlsx())
        print(f"Wrote {args.output}", file=sys.stderr)
        text = None
    elif args.format == "csv":
        text = answer.to_csv()
    elif args.format == "html":
        text = answer_html(answer, model, notice, max_nodes=settings.viz_max_nodes)
    else:
        shown = {**answer.to_dict(), "clearance": {"filtered": clearance.filtered, "notice": notice}}
        text = json.dumps(shown, indent=2, default=str) + "\n"
    if text is not None and args.output:
        write_private_text(args.output, text)
        print(f"Wrote {args.output}", file=sys.stderr)
    elif text is not None:
        sys.stdout.write(text)
    what = f"{args.command} as {role}: {answer.parameters}"
    audit_command(log, f"QUESTION-{args.command.upper()}", what[:2000], args.purpose, released)
    return 0


def _common(command: argparse.ArgumentParser, scoped: bool = True) -> None:
    command.add_argument("--purpose", required=True, help="why you are asking, for the audit log")
    command.add_argument(
        "--role", default=Role.ANALYST.value, choices=[r.value for r in Role], help="ask as this role would see it"
    )
    command.add_argument("--format", default="json", choices=["json", "csv", "xlsx", "html"])
    command.add_argument("--output", "-o", help="file to write (default: standard output)")
    command.add_argument("--quiet", "-q", action="store_true", help="no progress on standard error")
    if not scoped:
        return
    scope = command.add_argument_group("scope (default: the whole graph)")
    scope.add_argument("--within", action="append", metavar="ID", help="only these entities (repeatable)")
    scope.add_argument("--around", action="append", metavar="ID", help="only what lies near these (repeatable)")
    scope.add_argument("--hops", type=_between(1, MAX_HOPS), default=2, help="with --around: how far (default 2)")
    scope.add_argument("--area", metavar="ID", help="only an area's places and the events there")
    scope.add_argument("--problem", metavar="ID", help="only what a problem's scope reaches")
    scope.add_argument("--since", metavar="YYYY-MM-DD", help="only links a record dated on or after it supports")
    scope.add_argument("--until", metavar="YYYY-MM-DD", help="only links a record dated on or before it supports")
    scope.add_argument(
        "--max-entities", type=_between(10, 200_000), default=20_000, help="a scoped read's cap (default 20,000)"
    )


def _projected(command: argparse.ArgumentParser) -> None:
    projection = command.add_argument_group("projection (default: people joined by any link)")
    projection.add_argument("--types", action="append", metavar="TYPE", help="entity types the nodes are")
    projection.add_argument("--link-types", action="append", metavar="LINK", help="link types that join them")
    projection.add_argument("--via", action="append", metavar="TYPE", help="entity types that join what shares one")
    projection.add_argument("--max-connector-members", type=_between(2, 10_000), default=200)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the question commands to ``nimgraph``'s subcommands."""
    ranked = commands.add_parser("rank", help="who is most central: one measure, top N with ties")
    ranked.add_argument("measure", choices=list(DEFINITIONS))
    ranked.add_argument("--top", type=_between(1, 1000), default=20)
    ranked.add_argument("--unweighted", action="store_true", help="ignore the ontology's association weights")
    ranked.add_argument("--raw", action="store_true", help="betweenness as path counts, not normalised 0 to 1")
    ranked.add_argument(
        "--pivots", type=_between(10, 100_000), help="betweenness above 2,000 nodes: pivots sampled (500)"
    )
    ranked.add_argument("--seed", type=_between(0, 2**31 - 1), default=0)
    ranked.add_argument("--workers", type=_between(1, 64), help="processes for a large betweenness estimate")
    _common(ranked)
    _projected(ranked)

    grouped = commands.add_parser("groups", help="connected components and communities, with their members")
    grouped.add_argument("--method", default="components", choices=list(METHODS))
    grouped.add_argument("--min-size", type=_between(1, 100_000), default=2)
    grouped.add_argument("--top", type=_between(1, 1000), default=20)
    grouped.add_argument("--resolution", type=_positive_number, default=1.0)
    grouped.add_argument("--seed", type=_between(0, 2**31 - 1), default=0)
    _common(grouped)
    _projected(grouped)

    screened = commands.add_parser("screen", help="who is at risk through association (for review)")
    screened.add_argument("indicator", choices=list(INDICATORS))
    for role in ("association", "involvement", "family", "household", "residence"):
        screened.add_argument(f"--{role}", action="append", metavar="LINK", help=f"{role} link types")
    screened.add_argument("--min-associates", type=_between(1, 1000), default=2)
    screened.add_argument("--min-within-two-hops", type=_between(1, 1000))
    screened.add_argument("--min-triangles", type=_between(1, 100_000), default=1)
    screened.add_argument("--top", type=_between(1, 1000), default=50)
    _common(screened)

    placed = commands.add_parser("places", help="locations or areas ranked by events of a kind")
    placed.add_argument("--event-types", action="append", metavar="TYPE", help="event types counted (default Event)")
    placed.add_argument("--where", action="append", metavar="NAME:VALUE", help="event property equals value")
    placed.add_argument("--level", default="location", choices=["location", "area"])
    placed.add_argument("--area-types", action="append", metavar="TYPE", help="with --level area: which areas")
    placed.add_argument("--top", type=_between(1, 1000), default=20)
    _common(placed)

    searched = commands.add_parser("search", help="find entities by text, type, property values and links")
    searched.add_argument("q", nargs="?", help="text in any property, or an exact id")
    searched.add_argument("--type")
    searched.add_argument("--where", action="append", metavar="NAME:VALUE", help="property equals value")
    searched.add_argument("--linked-to", metavar="ID", help="only entities linked to this one")
    searched.add_argument("--linked-by", action="append", metavar="LINK", help="with --linked-to: these link types")
    searched.add_argument("--limit", type=_between(1, 500), default=50)
    searched.add_argument("--offset", type=_between(0, 10_000_000), default=0)
    _common(searched, scoped=False)

    pathed = commands.add_parser("paths", help="all shortest paths between two entities, by id or label")
    pathed.add_argument("source", metavar="FROM")
    pathed.add_argument("target", metavar="TO")
    pathed.add_argument("--max-hops", type=_between(1, MAX_PATH_HOPS), default=4)
    pathed.add_argument("--link-types", action="append", metavar="LINK")
    pathed.add_argument("--direction", default="both", choices=["both", "out", "in"])
    pathed.add_argument("--limit", type=_between(1, 100), default=10)
    pathed.add_argument("--max-entities", type=_between(10, 20_000), default=5000)
    _common(pathed, scoped=False)

    connected = commands.add_parser("connect", help="the network connecting several entities, by id or label")
    connected.add_argument("entities", nargs="+", metavar="ENTITY")
    connected.add_argument("--max-hops", type=_between(1, MAX_PATH_HOPS), default=4)
    connected.add_argument("--link-types", action="append", metavar="LINK")
    connected.add_argument("--max-entities", type=_between(10, 20_000), default=5000)
    _common(connected, scoped=False)

    linked = commands.add_parser("problem-links", help="what links a problem to others: shared people, places, events")
    linked.add_argument("problem_id", metavar="PROBLEM_ID")
    linked.add_argument("--max-entities", type=_between(10, 200_000), default=50_000)
    _common(linked, scoped=False)

    for command in (ranked, grouped, screened, placed, searched, pathed, connected, linked):
        command.set_defaults(run=cmd_question)
