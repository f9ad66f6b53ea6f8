"""The ``nimgraph`` command: flags become arguments to the library, nothing more."""

from __future__ import annotations

import argparse
import copy
import getpass
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TextIO

from pydantic import ValidationError
from pydantic_settings import SettingsError
from tqdm import tqdm

from nimgraph import assess_cli, export_cli, questions_cli, records_cli, resolve_cli, review_cli
from nimgraph.access.audit import AuditEntry, AuditLog
from nimgraph.access.keys import DEVELOPMENT_KEYS, ApiKeysError
from nimgraph.access.pseudonyms import Pseudonyms
from nimgraph.access.roles import Role, clearance_for
from nimgraph.access.view import ClearedView
from nimgraph.cli_common import CommandError, audit_command, command_settings, open_audit_log
from nimgraph.config import Settings
from nimgraph.inferences import InferenceError
from nimgraph.ingest.engine import IngestReport, ingest_files, open_sources
from nimgraph.ingest.readers import FileError, Source, known_formats
from nimgraph.ingest.spec import MappingSpec, SpecError, load_spec
from nimgraph.ontology import UnknownTypeError, default_model
from nimgraph.printable import printable
from nimgraph.private_files import write_private_bytes, write_private_text
from nimgraph.products.common import ProductError
from nimgraph.products.exporting import Selection, selected_subgraph
from nimgraph.store import StoreConfigError, StoreError, is_neo4j, open_store

MIN_DEMO_INCIDENTS = 300  # below about 200 the background has too few people for its intelligence reports


_bars: list[tqdm] = []  # the progress bars on screen


def _progress_bar(label: str, total: int) -> Callable[[int], None]:
    """A bar of rows on standard error, cleared from its line when it fills, when the next bar starts, or when
    anything else is written to standard output or error (see :class:`_BarsGiveWay`)."""
    _end_progress()  # one at a time: the last file's bar goes when the next file's starts
    sys.stdout.flush()  # what was printed before the bar reaches a shared terminal or pipe first
    stream = sys.stderr.stream if isinstance(sys.stderr, _BarsGiveWay) else sys.stderr
    bar = tqdm(total=total, desc=label, unit="row", leave=False, file=stream, dynamic_ncols=True)
    _bars.append(bar)

    def advance(n: int) -> None:
        bar.update(n)
        if bar.n >= bar.total:  # the total is an upper bound (lines, not records): it may never be reached
            _end_progress()

    return advance


def _end_progress() -> None:
    """Close the bars on screen; each clears its line (leave=False), so what follows starts a fresh one."""
    while _bars:
        _bars.pop().close()


class _BarsGiveWay:
    """Standard output or error, on which any progress bar is closed, and its line cleared, before text is written:
    summaries, log records, warnings and errors start a line of their own, never the end of the bar's.

    >>> import io
    >>> out = _BarsGiveWay(io.StringIO())
    >>> advance = _progress_bar("asb.csv", 10)
    >>> advance(3)
    >>> out.write("asb.csv: 3 of 10 rows loaded\\n"), _bars, out.stream.getvalue()
    (29, [], 'asb.csv: 3 of 10 rows loaded\\n')
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        if text and _bars:
            _end_progress()
        return self.stream.write(text)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding: the stream's own
        return getattr(self.stream, name)


@contextmanager
def _bars_give_way() -> Iterator[None]:
    """While a command runs, writing to standard output or error closes any progress bar first; when it ends,
    however it ends, the bars are closed."""
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _BarsGiveWay(sys.stdout), _BarsGiveWay(sys.stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = streams
        _end_progress()


def cmd_demo(args: argparse.Namespace) -> int:
    from nimgraph.demo import run_demo

    # The demo serves made-up data with the well-known dev-* keys: development, whatever the environment says.
    settings = command_settings(args).model_copy(update={"env": "development"})
    model = default_model()
    store = open_store(settings.store, model, settings)
    try:
        result = run_demo(
            store,
            model,
            settings.work_dir,
            seed=args.seed,
            incidents=args.incidents,
            batch_size=settings.batch_size,
            progress_factory=_progress_bar,
        )
    finally:
        store.close()
    base = f"http://{settings.host}:{settings.port}"
    print(f"\nStore: {settings.store}")
    for kind, path in result.reports.items():
        product = "assessment" if kind in ("strategic", "tactical") else "profile"
        print(f"{kind.title()} {product}: {path}  ->  {base}/reports/{path.name}")
    if args.no_serve:
        return 0
    print(f"\nServing the API and reports at {base}/ (API docs at {base}/docs). Ctrl-C stops it.")
    if settings.development and not settings.api_keys:
        print(
            "Development keys (any user name, the key as password in a browser; X-API-Key for the API): "
            + ", ".join(f"{key} ({holder['role']})" for key, holder in DEVELOPMENT_KEYS.items())
        )
    return _serve(settings)


def _ingest_reporter(
    spec: MappingSpec, sources: list[Source], log: AuditLog | None, failing: list[str]
) -> Callable[[IngestReport], None]:
    """What an ingest says of each file as it ends: its summary printed, what --strict fails on added
    to ``failing``, and an INGEST entry in the audit log."""
    paths = {source.path.name: source.path.resolve() for source in sources}

    def reported(report: IngestReport) -> None:
        print("\n".join(printable(line) for line in report.summary().splitlines()))  # rejects quote the file
        failing.extend(
            f"{report.file}: {n} {what}"
            for n, what in (
                (report.rows_rejected, "row(s) rejected"),
                (report.rows_unmatched, "row(s) with a reference that found nothing"),
                (report.unconfirmed_dates, "ambiguous date(s) read in an order the spec does not state"),
            )
            if n
        )
        if log is not None:
            entry = AuditEntry(
                f"cli:{getpass.getuser()}", "cli", "", "INGEST", f"{spec.source} {paths[report.file]}", 0,
                [f"rows:{report.rows_loaded}"],
            )  # fmt: skip
            log.append(entry)

    return reported


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = command_settings(args)
    model = default_model()
    spec = load_spec(args.spec, model)
    # every file's header and mapping, before the first is loaded: a bad second file must not leave half a load
    sources = open_sources(spec, model, [Path(name) for name in args.files])
    log = None if args.dry_run else open_audit_log(settings)
    store = None if args.dry_run else open_store(settings.store, model, settings)
    failing: list[str] = []  # what --strict fails on
    reported = _ingest_reporter(spec, sources, log, failing)
    rejects_dir = Path(args.rejects_dir or settings.work_dir / "rejects")
    try:
        ingest_files(
            store,
            model,
            spec,
            sources,
            rejects_dir=rejects_dir,
            batch_size=args.batch_size or settings.batch_size,
            progress_factory=_progress_bar,
            on_report=reported,
        )
    finally:
        if store is not None:
            store.close()
        if log is not None:
            log.close()
    if failing and args.strict:
        print("--strict: " + "; ".join(failing), file=sys.stderr)
        return 1
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    from nimgraph.products import render
    from nimgraph.products.problem import build_problem_profile
    from nimgraph.products.subject import build_subject_profile

    settings = command_settings(args)
    model = default_model()
    log = open_audit_log(settings)
    store = open_store(settings.store, model, settings)
    try:
        build = build_subject_profile if args.kind == "subject" else build_problem_profile
        product = build(store, model, args.id)
    finally:
        store.close()
    audit_command(log, "PROFILE", f"{args.kind} {args.id}", args.purpose, [args.id])
    if args.html:
        render.write(product, html_path=args.html)
        print(f"Wrote {args.html}", file=sys.stderr)
    if args.json:
        render.write(product, json_path=args.json)
        print(f"Wrote {args.json}", file=sys.stderr)
    if args.xlsx:
        from nimgraph.exports.tables import product_workbook

        write_private_bytes(args.xlsx, product_workbook(product.to_dict()))
        print(f"Wrote {args.xlsx} (its tables, a sheet each)", file=sys.stderr)
    if not args.html and not args.json and not args.xlsx:
        print(render.to_json(product))
    return 0


def _neo4j_settings(args: argparse.Namespace) -> Settings:
    """The settings of a ``nimgraph neo4j ...`` command, which needs a Neo4j store."""
    settings = command_settings(args)
    if not is_neo4j(settings.store):
        raise StoreConfigError(
            f"nimgraph neo4j {args.neo4j_command} needs a Neo4j store; {settings.store!r} is a file. "
            "Pass --store neo4j://host:7687 or set NIMGRAPH_STORE"
        )
    return settings


def cmd_neo4j_init(args: argparse.Namespace) -> int:
    from nimgraph.store.schema import schema_items

    settings = _neo4j_settings(args)
    model = default_model()
    store = open_store(settings.store, model, settings)
    try:
        created = store.prepare()
    finally:
        store.close()
    for item in created:
        print(f"created {item}")
    print(f"{len(created)} created; {len(schema_items(model)) - len(created)} already present")
    return 0


def cmd_neo4j_load(args: argparse.Namespace) -> int:
    """Map partner files through their specs, write them as bulk-import CSV, import them into an empty,
    stopped Neo4j with neo4j-admin, start it and apply the schema."""
    from nimgraph.exports.neo4j_bulk import write_import_files
    from nimgraph.ingest.bulk import BulkLoadError, FirstLoad
    from nimgraph.store import neo4j_admin

    settings = _neo4j_settings(args)
    model = default_model()
    plan = []  # every spec and file opened and checked before anything is mapped
    for group in args.bulk:
        if len(group) < 2:
            raise CommandError(f"--bulk {group[0]}: name the spec, then at least one file it maps")
        spec = load_spec(group[0], model)
        plan.append((spec, open_sources(spec, model, [Path(name) for name in group[1:]])))
    admin = neo4j_admin.admin_command(settings.neo4j_admin)

    def connect() -> Any:
        return open_store(settings.store, model, settings)

    neo4j_admin.check_stopped_and_empty(connect, settings.store, settings.neo4j_database)
    log = open_audit_log(settings)
    load = FirstLoad(model, id_key=settings.id_key.get_secret_value())
    rejects_dir = Path(args.rejects_dir or settings.work_dir / "rejects")
    try:
        for spec, sources in plan:
            reported = _ingest_reporter(spec, sources, log, [])
            ingest_files(
                load,
                model,
                spec,
                sources,
                rejects_dir=rejects_dir,
                batch_size=args.batch_size or settings.batch_size,
                progress_factory=_progress_bar,
                on_report=reported,
            )
    except BulkLoadError as err:
        raise CommandError(f"nothing was imported: {err}") from None
    finally:
        log.close()
    folder = Path(args.import_dir or settings.work_dir / "neo4j-import")
    try:
        files = write_import_files(load.graph, model, folder)
    except ValueError as err:
        raise CommandError(f"nothing was imported: cannot write the import files: {err}") from None
    print(f"Wrote {files.node_count:,} nodes and {files.relationship_count:,} relationships as CSV in {folder}")
    neo4j_admin.run_import(admin, settings.neo4j_database, files, lambda line: print(line, file=sys.stderr))
    print(f"Imported into database {settings.neo4j_database!r}")
    if args.no_start:
        print("Start Neo4j, then run nimgraph neo4j init to create the constraints and indexes")
        return 0
    neo4j_admin.start_server(admin)
    store = neo4j_admin.wait_for(connect, settings.store, args.wait)
    try:
        created = store.prepare()
        counts = store.counts()
    finally:
        store.close()
    print(f"Neo4j is up at {settings.store}; created {len(created)} constraints and indexes")
    entities, links = sum(counts["entities"].values()), sum(counts["links"].values())
    print(f"The graph holds {entities:,} entities and {links:,} links")
    return 0


def cmd_retract(args: argparse.Namespace) -> int:
    if not args.yes:
        raise StoreConfigError(
            f"retracting {args.source!r} deletes every record of that source, and whatever only it asserted; "
            "run again with --yes to go ahead"
        )
    settings = command_settings(args)
    log = open_audit_log(settings)
    store = open_store(settings.store, default_model(), settings)
    try:
        removed = store.retract(args.source)
    finally:
        store.close()
    audit_command(log, "RETRACT", args.source, items=[f"records:{removed['records']}"])
    print(
        f"{args.source}: {removed['records']} records, {removed['entities']} entities and "
        f"{removed['links']} links removed"
    )
    return 0


def cmd_infer(args: argparse.Namespace) -> int:
    from nimgraph import inferences

    settings = command_settings(args)
    model = default_model()
    log = open_audit_log(settings)
    store = open_store(settings.store, model, settings)
    try:
        if args.infer_command == "undo":
            removed = inferences.undo(store, args.inference)
            audit_command(log, "INFER-UNDO", args.inference, items=[args.inference] if removed else [])
            print(f"{args.inference}: {'undone' if removed else 'no such accepted inference'}")
            return 0 if removed else 1
        found = inferences.suggest(store, model, args.person, method=args.method, top=args.top)
        if args.infer_command == "suggest":
            audit_command(log, "INFER-SUGGEST", args.person, items=[args.person, *(i.id for i in found)])
            for inference in found:
                other = inference.target if inference.source == args.person else inference.source
                print(
                    f"{inference.id}  {other}  {inference.method} {inference.score:.3f}  "
                    f"shared: {', '.join(inference.evidence)}"
                )
            if not found:
                print("no predicted associations")
            return 0
        chosen = [i for i in found if {i.source, i.target} == {args.person, args.other}]
        if not chosen:
            raise inferences.InferenceError(
                f"{args.other!r} is not among the top {args.top} {args.method} predictions for {args.person!r}; "
                "see `nimgraph infer suggest`"
            )
        link = inferences.accept(store, model, chosen[0], analyst=args.analyst)
        audit_command(log, "INFER-ACCEPT", f"{args.person} {args.other} by {args.analyst}", items=[link.id])
        print(f"accepted {link.id}: {link.source} {link.type} {link.target} (handling {link.provenance[0].handling})")
        return 0
    finally:
        store.close()


def cmd_ontology_docs(args: argparse.Namespace) -> int:
    from nimgraph import ontology_docs

    directory = Path(args.output) if args.output else ontology_docs.DOCS_DIR
    changed = ontology_docs.write(default_model(), directory)
    for path in changed:
        print(f"wrote {path}")
    print(f"{len(changed)} page(s) changed in {directory}")
    return 0


def cmd_migrate_ids(args: argparse.Namespace) -> int:
    settings = command_settings(args)
    log = open_audit_log(settings)
    store = open_store(settings.store, default_model(), settings)
    try:
        rewritten = store.migrate_ids()
    finally:
        store.close()
    audit_command(log, "MIGRATE-IDS", settings.store, items=[f"entities:{rewritten}"])
    print(f"Rewrote {rewritten:,} entity ids under the store's key" if rewritten else "The ids are keyed already")
    return 0


def cmd_store_upgrade(args: argparse.Namespace) -> int:
    from nimgraph.store.embedded_layout import upgrade

    settings = command_settings(args)
    if is_neo4j(settings.store):
        raise CommandError("store upgrade rewrites an embedded store file; a Neo4j store needs no upgrade")
    log = open_audit_log(settings)
    print(f"Upgrading {settings.store} (one transaction: stopped part way, the file is left as it was)")
    try:
        counts = upgrade(settings.store, progress=lambda step: print(f"  copying {step}", flush=True))
    except BaseException:
        log.close()
        raise
    audit_command(log, "STORE-UPGRADE", settings.store, items=[f"{name}:{n}" for name, n in counts.items()])
    if not any(counts.values()):
        print("The store is in the current layout already")
        return 0
    print(
        f"Upgraded: {counts['entities']:,} entities, {counts['links']:,} links, {counts['records']:,} records, "
        f"{counts['assertions']:,} assertions"
        + (f" ({counts['dropped']:,} assertions of items no longer held were left out)" if counts["dropped"] else "")
    )
    return 0


def cmd_rebuild_properties(args: argparse.Namespace) -> int:
    settings = command_settings(args)
    log = open_audit_log(settings)
    store = open_store(settings.store, default_model(), settings)
    try:
        rebuilt = store.rebuild_properties()
    finally:
        store.close()
    audit_command(
        log, "REBUILD-PROPERTIES", settings.store, items=[f"{kind}:{n}" for kind, n in sorted(rebuilt.items())]
    )
    print(", ".join(f"{kind}: {n:,}" for kind, n in sorted(rebuilt.items())))
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    log = open_audit_log(command_settings(args))
    try:
        found = log.verify()
    finally:
        log.close()
    print("\n".join(found.describe()))
    return 0 if found.intact else 1


def cmd_export_rdf(args: argparse.Namespace) -> int:
    from nimgraph import grading, rdf

    settings = command_settings(args)
    model = default_model()
    for name in args.subgraph or []:
        model.link_type(name)
    role = Role(args.role)
    clearance = clearance_for(role)
    log = open_audit_log(settings)
    pseudonyms = Pseudonyms(settings.access_db, settings.secret("pseudonym_key")) if clearance.pseudonymised else None
    store = open_store(settings.store, model, settings)
    try:
        view = ClearedView(store, model, clearance, pseudonyms)  # as every export: what the role may see
        for seed in args.around or []:
            if view.get(seed) is None:
                raise CommandError(f"no entity {seed!r} that the {role} role may see")
        subgraph = selected_subgraph(
            view,
            model,
            Selection(around=tuple(args.around or ()), hops=args.hops, link_types=tuple(args.subgraph or ())),
        )
        sources = view.sources()
        view.release_only(list(subgraph.entities), before=set())
        released = sorted(view.released)
    finally:
        store.close()
        if pseudonyms is not None:
            pseudonyms.close()
    what = f"rdf {args.format} as {role} to {args.output or 'standard output'}; around {args.around or 'everything'}"
    audit_command(log, "EXPORT", what, args.purpose, released)
    text = rdf.serialise(rdf.to_rdf(subgraph, model, sources=sources), args.format)
    codes = [a.handling for item in [*subgraph.entities.values(), *subgraph.links.values()] for a in item.provenance]
    handling = grading.most_restrictive(codes) if codes else "none"
    if args.output:
        write_private_text(args.output, text)
        print(
            f"Wrote {len(subgraph.entities)} entities and {len(subgraph.links)} links to {args.output} "
            f"(handling: {handling}; share only as that code allows)",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return 0


class DropQuery(logging.Filter):
    """Drops the query string from uvicorn's access log lines: search terms and purposes are personal data.

    >>> record = logging.LogRecord("uvicorn.access", 20, "", 0, "%s %s", ("GET", "/search?q=Smith"), None)
    >>> DropQuery().filter(record), record.getMessage()
    (True, 'GET /search')
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn logs (client, method, path with query, HTTP version, status); the formatter unpacks all five.
        if isinstance(record.args, tuple):
            record.args = tuple(a.split("?", 1)[0] if isinstance(a, str) and "?" in a else a for a in record.args)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with query strings kept out of the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["drop_query"] = {"()": DropQuery}
    config["loggers"]["uvicorn.access"]["filters"] = ["drop_query"]
    return config


def _serve(settings: Settings) -> int:
    import uvicorn

    from api.auth import InsecureSettingsError
    from api.main import create_app

    try:
        app = create_app(settings)
    except InsecureSettingsError as err:
        print(f"nimgraph: {printable(err)}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", log_config=log_config())
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = command_settings(args)
    if args.host:
        settings = settings.model_copy(update={"host": args.host})
    if args.port:
        settings = settings.model_copy(update={"port": args.port})
    return _serve(settings)


class _Parser(argparse.ArgumentParser):
    """argparse, with a mistake on one line (its usage text is a --help away); subcommands inherit it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {printable(message)} (see {self.prog} --help)\n")


def _demo_incidents(text: str) -> int:
    if not text.isdigit() or int(text) < MIN_DEMO_INCIDENTS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least {MIN_DEMO_INCIDENTS}")
    return int(text)


def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="nimgraph", description="Knowledge graph and link analysis for CSPs.")
    root.add_argument("--store", help="embedded store file (default: NIMGRAPH_STORE or var/nimgraph.db)")
    commands = root.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="generate, ingest and profile the demo partnership, then serve it")
    demo.add_argument("--work-dir", help="where data, rejects and reports go (default: NIMGRAPH_WORK_DIR or var)")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--incidents", type=_demo_incidents, default=5000, help=f"at least {MIN_DEMO_INCIDENTS}")
    demo.add_argument("--no-serve", action="store_true", help="stop after writing the reports")
    demo.set_defaults(run=cmd_demo)

    ingest = commands.add_parser("ingest", help="load partner files through a mapping spec")
    ingest.add_argument("spec", help="the mapping spec (YAML)")
    ingest.add_argument(
        "files",
        nargs="+",
        help=f"the files to load, in a format their suffix implies or the spec's read.format names: {known_formats()}",
    )
    ingest.add_argument("--rejects-dir", help="where rejects files go (default: <work dir>/rejects)")
    ingest.add_argument("--batch-size", type=int)
    ingest.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if any row was rejected, had a reference that found nothing, or held an ambiguous date "
        "read in an order the spec does not state",
    )
    ingest.add_argument("--dry-run", action="store_true", help="read, map and check every row; write nothing")
    ingest.set_defaults(run=cmd_ingest)

    retract = commands.add_parser("retract", help="withdraw a source: remove what only it asserted")
    retract.add_argument("source", help="the source name, as in the mapping spec's source.name")
    retract.add_argument("--yes", action="store_true", help="confirm: this deletes data")
    retract.set_defaults(run=cmd_retract)

    profile = commands.add_parser("profile", help="build a subject or problem profile")
    profile.add_argument("kind", choices=["subject", "problem"])
    profile.add_argument("id", help="the entity id of the person or problem")
    profile.add_argument("--html", help="write the HTML report here")
    profile.add_argument("--json", help="write the JSON here (default: print it)")
    profile.add_argument("--xlsx", help="write the product's tables here, a sheet each, for Excel")
    profile.add_argument("--purpose", required=True, help="why you are reading it, for the audit log")
    profile.set_defaults(run=cmd_profile)

    infer = commands.add_parser("infer", help="predicted associations: suggest, accept as inferred links, undo")
    infer_commands = infer.add_subparsers(dest="infer_command", required=True)
    for name, text in (("suggest", "people probably associated with PERSON"), ("accept", "store one as inferred")):
        command = infer_commands.add_parser(name, help=text)
        command.add_argument("person", help="the person's entity id")
        if name == "accept":
            command.add_argument("other", help="the predicted associate's entity id")
            command.add_argument("--analyst", required=True, help="who accepts it (kept in its provenance)")
        command.add_argument(
            "--method", default="adamic_adar", choices=["adamic_adar", "resource_allocation", "common_neighbours"]
        )
        command.add_argument("--top", type=int, default=10)
        command.set_defaults(run=cmd_infer)
    undo = infer_commands.add_parser("undo", help="remove an accepted inference")
    undo.add_argument("inference", help="the inference id (inference:...)")
    undo.set_defaults(run=cmd_infer)

    neo4j = commands.add_parser("neo4j", help="Neo4j administration")
    neo4j_commands = neo4j.add_subparsers(dest="neo4j_command", required=True)
    init = neo4j_commands.add_parser("init", help="create the constraints and indexes the ontology needs")
    init.set_defaults(run=cmd_neo4j_init)
    load = neo4j_commands.add_parser(
        "load",
        help="a first load in bulk: map partner files, import them with neo4j-admin into an empty, stopped "
        "database, start it and create the schema",
    )
    load.add_argument(
        "--bulk",
        nargs="+",
        action="append",
        required=True,
        metavar="SPEC FILE",
        help="a mapping spec, then the files it maps, as nimgraph ingest takes them; repeat for each spec, "
        "in loading order",
    )
    load.add_argument("--import-dir", help="where the CSV files go (default: <work dir>/neo4j-import)")
    load.add_argument("--rejects-dir", help="where rejects files go (default: <work dir>/rejects)")
    load.add_argument("--batch-size", type=int, help="rows per batch, as nimgraph ingest writes them")
    load.add_argument("--no-start", action="store_true", help="leave the server stopped after the import")
    load.add_argument("--wait", type=float, default=180, help="seconds to wait for the started server (180)")
    load.set_defaults(run=cmd_neo4j_load)

    ontology = commands.add_parser("ontology", help="the ontology: documentation")
    ontology_commands = ontology.add_subparsers(dest="ontology_command", required=True)
    docs = ontology_commands.add_parser("docs", help="write Markdown docs of every class, link, property, code list")
    docs.add_argument("--output", help="folder to write to (default: docs/ontology)")
    docs.set_defaults(run=cmd_ontology_docs)

    export = commands.add_parser("export", help="export the graph")
    export_commands = export.add_subparsers(dest="export_command", required=True)
    rdf_export = export_commands.add_parser("rdf", help="Turtle or JSON-LD in the ontology's terms, with provenance")
    rdf_export.add_argument("--subgraph", action="append", metavar="LINK_TYPE", help="only links of this type")
    rdf_export.add_argument("--around", action="append", metavar="ENTITY_ID", help="only the neighbourhood of this")
    rdf_export.add_argument("--hops", type=int, default=1, help="with --around: how far (default 1)")
    rdf_export.add_argument("--format", default="turtle", choices=["turtle", "json-ld"])
    rdf_export.add_argument("--output", "-o", help="file to write (default: standard output)")
    rdf_export.add_argument("--purpose", required=True, help="why you are exporting it, for the audit log")
    rdf_export.add_argument(
        "--role", default=Role.ANALYST.value, choices=[r.value for r in Role], help="export as this role sees it"
    )
    rdf_export.set_defaults(run=cmd_export_rdf)

    migrate = commands.add_parser("migrate-ids", help="rewrite ids made before ids were keyed (once per store)")
    migrate.set_defaults(run=cmd_migrate_ids)

    store = commands.add_parser("store", help="the embedded store file")
    store_commands = store.add_subparsers(dest="store_command", required=True)
    store_upgrade = store_commands.add_parser(
        "upgrade", help="rewrite a store file from an earlier nimgraph in the current layout (once per file)"
    )
    store_upgrade.set_defaults(run=cmd_store_upgrade)

    rebuild = commands.add_parser(
        "rebuild-properties",
        help="recompute every entity's and link's properties from what its records say (once, for a store "
        "written before withdrawn records' values were removed)",
    )
    rebuild.set_defaults(run=cmd_rebuild_properties)

    audit = commands.add_parser("audit", help="the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser("verify", help="check the keyed chain against the anchor's checkpoints")
    verify.set_defaults(run=cmd_audit_verify)

    export_cli.add_commands(export_commands)
    questions_cli.add_commands(commands)
    assess_cli.add_commands(commands)
    records_cli.add_commands(commands)
    review_cli.add_commands(commands)
    resolve_cli.add_commands(commands)

    serve = commands.add_parser("serve", help="serve the API and reports")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=cmd_serve)
    return root


def _settings_problem(err: ValidationError) -> str:
    """Which NIMGRAPH_* settings are wrong, and why, on one line."""
    return "; ".join(f"NIMGRAPH_{'_'.join(str(part) for part in e['loc']).upper()}: {e['msg']}" for e in err.errors())


def main(argv: list[str] | None = None) -> int:
    """Run a command; a bad input is told on stderr (control characters escaped) with exit status 2."""
    args = parser().parse_args(argv)
    try:
        with _bars_give_way():
            return args.run(args)
    except (
        SpecError,
        FileError,
        StoreError,
        ProductError,
        InferenceError,
        UnknownTypeError,
        CommandError,
        ApiKeysError,
    ) as err:
        message = str(err)
    except ValidationError as err:
        message = f"the settings in the environment or .env are not valid: {_settings_problem(err)}"
    except SettingsError as err:  # a JSON setting that does not parse
        message = f"the settings in the environment or .env are not valid: {err} (it must be JSON)"
    except OSError as err:  # a file given is missing, a directory, or not ours to read or write
        message = f"{err.filename}: {err.strerror}" if err.filename else str(err)
    except KeyboardInterrupt:
        return 130
    # each line escaped on its own: a message may list several problems, one per line
    print("nimgraph: " + "\n".join(printable(line) for line in message.splitlines()), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
